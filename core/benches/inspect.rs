//! Times `slicefile::inspect` on each file named on the command line (files in the page
//! cache: one untimed warm-up read first) and prints one JSON object per file:
//! `{"file", "bytes", "runs", "median_ms", "min_ms", "max_ms", "mb_per_s", "fields"}`.
//! Run by scripts/bench; `cargo bench -p printstall-core --bench inspect -- FILE...`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs::File;
use std::io::BufReader;
use std::time::Instant;

use printstall_core::slicefile;

const RUNS: usize = 25;

/// How many of the report's fields the parse filled (non-null, non-empty).
fn fields_found(info: &slicefile::SliceInfo) -> usize {
    let value = serde_json::to_value(info).unwrap();
    value
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, v)| {
            *k != "file"
                && *k != "format"
                && *k != "warnings"
                && !v.is_null()
                && v.as_array().is_none_or(|a| !a.is_empty())
        })
        .count()
}

fn main() {
    let files: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    for path in files {
        let bytes = std::fs::metadata(&path).unwrap().len();
        let name = std::path::Path::new(&path)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let run = || {
            let mut reader = BufReader::with_capacity(64 * 1024, File::open(&path).unwrap());
            slicefile::inspect(&mut reader, &name).unwrap()
        };
        let info = run();
        let mut times: Vec<f64> = (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(run());
                start.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let median = times[RUNS / 2];
        let result = serde_json::json!({
            "file": name,
            "bytes": bytes,
            "runs": RUNS,
            "median_ms": median,
            "min_ms": times[0],
            "max_ms": times[RUNS - 1],
            "mb_per_s": (bytes as f64 / 1e6) / (median / 1000.0),
            "fields": fields_found(&info),
        });
        println!("{result}");
    }
}

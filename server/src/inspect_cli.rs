//! `printstall inspect FILE... [--json]`: sliced-file metadata on the command line.
//!
//! Needs no database and no settings. Each file is opened with `std::fs::File` and read
//! through `Read + Seek` in bounded ranges (the parser never loads a whole file).

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use printstall_core::slicefile::{self, SliceInfo};

/// Reads one file's metadata; the error is one line that names the file.
fn inspect_file(path: &Path) -> Result<SliceInfo, String> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|e| format!("{name}: cannot open: {e}"))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(format!("{name}: is a directory"));
    }
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    slicefile::inspect(&mut reader, &name).map_err(|e| format!("{name}: {e}"))
}

/// Runs the command; prints results on stdout and one line per bad file on stderr.
pub fn run(files: &[PathBuf], json: bool) -> ExitCode {
    let mut infos = Vec::new();
    let mut failed = false;
    for path in files {
        match inspect_file(path) {
            Ok(info) => infos.push(info),
            Err(line) => {
                eprintln!("printstall: {line}");
                failed = true;
            }
        }
    }
    let output = if json {
        let value = match infos.as_slice() {
            [one] if files.len() == 1 => serde_json::to_string_pretty(one),
            many => serde_json::to_string_pretty(many),
        };
        match value {
            Ok(text) => text + "\n",
            Err(e) => {
                eprintln!("printstall: cannot write JSON: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        infos
            .iter()
            .map(SliceInfo::to_summary)
            .collect::<Vec<_>>()
            .join("\n")
    };
    // With one bad file given alone and --json, print nothing rather than `[]`.
    let skip = json && infos.is_empty() && files.len() == 1;
    if !skip {
        let mut stdout = std::io::stdout().lock();
        if stdout
            .write_all(output.as_bytes())
            .and_then(|()| stdout.flush())
            .is_err()
        {
            return ExitCode::FAILURE;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

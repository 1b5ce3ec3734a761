//! Fuzzing every file format the parser reads (G-code, .bgcode, 3MF, STL) on the stable
//! toolchain, as an ordinary test that CI runs for a bounded number of cases.
//!
//! The coverage-guided fuzzers are the cargo-fuzz targets in `core/fuzz/` (scripts/fuzz-core).
//! This test is the cheap one that runs with every `cargo test`: proptest drives a
//! coverage-blind but real mutation fuzzer over
//! the real fixtures: bit flips, byte overwrites with interesting values (0, 0xFF, 0x7F,
//! lengths), chunk deletion, duplication and insertion, truncation, splices from another
//! file, and overwrites near the end (where zip central directories and G-code stats live).
//! Each mutated file goes through `inspect`, the thumbnail decoder and the rasteriser, which
//! must answer (a value or a typed error) and never panic. proptest shrinks a failure to a
//! small list of mutations and saves its seed in `proptest-regressions/`.
//!
//! `PRINTSTALL_FUZZ_CASES` sets the number of mutated files per format (default 200;
//! scripts/test uses the default, a longer local run e.g. `PRINTSTALL_FUZZ_CASES=20000`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use printstall_core::slicefile::{self, raster, thumbnail};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/slicefiles")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn cases() -> u32 {
    std::env::var("PRINTSTALL_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

#[derive(Debug, Clone)]
enum Mutation {
    FlipBit {
        at: usize,
        bit: u8,
    },
    Set {
        at: usize,
        value: u8,
    },
    /// Writes a little-endian u32 (a length, a count) at `at`.
    SetU32 {
        at: usize,
        value: u32,
    },
    Delete {
        at: usize,
        len: usize,
    },
    Duplicate {
        at: usize,
        len: usize,
    },
    Insert {
        at: usize,
        bytes: Vec<u8>,
    },
    Truncate {
        keep: usize,
    },
    /// Copies `len` bytes from position `from` of the other seed to `at`.
    Splice {
        at: usize,
        from: usize,
        len: usize,
    },
    /// Overwrites a byte counted from the end.
    SetFromEnd {
        back: usize,
        value: u8,
    },
}

fn interesting_u8() -> impl Strategy<Value = u8> {
    prop_oneof![
        Just(0u8),
        Just(0xFF),
        Just(0x7F),
        Just(0x80),
        Just(b'\n'),
        Just(b';'),
        Just(b'<'),
        any::<u8>()
    ]
}

fn interesting_u32() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(0u32),
        Just(1),
        Just(u32::MAX),
        Just(0x7FFF_FFFF),
        Just(0x8000_0000),
        Just(65_536),
        any::<u32>()
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    // Positions are taken modulo the file's length when applied.
    prop_oneof![
        3 => (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        3 => (any::<usize>(), interesting_u8()).prop_map(|(at, value)| Mutation::Set { at, value }),
        2 => (any::<usize>(), interesting_u32()).prop_map(|(at, value)| Mutation::SetU32 { at, value }),
        1 => (any::<usize>(), 1usize..4096).prop_map(|(at, len)| Mutation::Delete { at, len }),
        1 => (any::<usize>(), 1usize..4096).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
        1 => (any::<usize>(), proptest::collection::vec(interesting_u8(), 1..64))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        1 => any::<usize>().prop_map(|keep| Mutation::Truncate { keep }),
        1 => (any::<usize>(), any::<usize>(), 1usize..2048)
            .prop_map(|(at, from, len)| Mutation::Splice { at, from, len }),
        2 => (0usize..256, interesting_u8()).prop_map(|(back, value)| Mutation::SetFromEnd { back, value }),
    ]
}

fn apply(seed: &[u8], other: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for m in mutations {
        if data.is_empty() {
            break;
        }
        let n = data.len();
        match m {
            Mutation::FlipBit { at, bit } => data[at % n] ^= 1 << bit,
            Mutation::Set { at, value } => data[at % n] = *value,
            Mutation::SetU32 { at, value } => {
                let at = at % n;
                for (i, b) in value.to_le_bytes().iter().enumerate() {
                    if let Some(d) = data.get_mut(at + i) {
                        *d = *b;
                    }
                }
            }
            Mutation::Delete { at, len } => {
                let at = at % n;
                let end = (at + len).min(n);
                data.drain(at..end);
            }
            Mutation::Duplicate { at, len } => {
                let at = at % n;
                let end = (at + len).min(n);
                let chunk = data[at..end].to_vec();
                data.splice(at..at, chunk);
            }
            Mutation::Insert { at, bytes } => {
                let at = at % (n + 1);
                data.splice(at..at, bytes.iter().copied());
            }
            Mutation::Truncate { keep } => data.truncate(keep % n),
            Mutation::Splice { at, from, len } => {
                if other.is_empty() {
                    continue;
                }
                let from = from % other.len();
                let end = (from + len).min(other.len());
                let at = at % n;
                for (i, b) in other[from..end].iter().enumerate() {
                    if let Some(d) = data.get_mut(at + i) {
                        *d = *b;
                    }
                }
            }
            Mutation::SetFromEnd { back, value } => {
                let i = n - 1 - back % n;
                data[i] = *value;
            }
        }
    }
    data
}

/// Everything the server and the app do with an uploaded file: must not panic.
fn exercise(data: &[u8], name: &str) {
    let Ok(info) = slicefile::inspect_bytes(data, name) else {
        return;
    };
    let _ = info.to_summary();
    let _ = serde_json::to_string(&info).expect("serialisable");
    if let Some((_, bytes)) = info.best_thumbnail() {
        let _ = thumbnail::web_sizes(bytes);
        let _ = thumbnail::decode_qoi_rgba(bytes);
    }
    if let Some(mesh) = &info.mesh {
        let _ = raster::render(mesh, 64, 64);
    }
}

fn fuzz(format: &str, seeds: &[(&str, Vec<u8>)]) {
    // Each unmutated seed parses.
    for (name, data) in seeds {
        slicefile::inspect_bytes(data, name).unwrap_or_else(|e| panic!("seed {name}: {e}"));
    }
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        0..seeds.len(),
        0..seeds.len(),
        proptest::collection::vec(mutation(), 1..12),
    );
    let result = runner.run(&strategy, |(i, j, mutations)| {
        let (name, seed) = &seeds[i];
        let data = apply(seed, &seeds[j].1, &mutations);
        exercise(&data, name);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{format}: {e}");
    }
}

fn seeds(names: &[&'static str]) -> Vec<(&'static str, Vec<u8>)> {
    names.iter().map(|n| (*n, fixture(n))).collect()
}

#[test]
fn fuzz_gcode() {
    fuzz(
        "gcode",
        &seeds(&[
            "prusaslicer_2.9.2_xl5is_5tool.gcode",
            "superslicer_2.3.56_arcwelder_crlf.gcode",
            "cura_4.13.1_duetplugin_qoi_thumbs.gcode",
            "orcaslicer_1.5.0_thumbnail_block_excerpt.gcode",
            "ideamaker_4.2.gcode",
            "cura_griffin_flavor.gcode",
        ]),
    );
}

#[test]
fn fuzz_bgcode() {
    fuzz("bgcode", &seeds(&["prusaslicer_2.9.2_xl5is_5tool.bgcode"]));
}

#[test]
fn fuzz_3mf() {
    fuzz(
        "3mf",
        &seeds(&[
            "bambustudio_1.7.6_sliced_plate_RECONSTRUCTED.gcode.3mf",
            "bambustudio_2.1.0_project_multiplate_unsliced.3mf",
            "prusaslicer_2.9.2_project_lines.3mf",
        ]),
    );
}

/// A binary STL and an ASCII STL of a small faceted sphere (no STL among the fixtures).
fn stl_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let mut tris: Vec<[[f32; 3]; 3]> = Vec::new();
    let (rings, segments) = (8u32, 12u32);
    let point = |r: u32, s: u32| {
        let theta = std::f32::consts::PI * r as f32 / rings as f32;
        let phi = 2.0 * std::f32::consts::PI * s as f32 / segments as f32;
        [
            10.0 * theta.sin() * phi.cos(),
            10.0 * theta.sin() * phi.sin(),
            10.0 + 10.0 * theta.cos(),
        ]
    };
    for r in 0..rings {
        for s in 0..segments {
            let (a, b) = (point(r, s), point(r, s + 1));
            let (c, d) = (point(r + 1, s), point(r + 1, s + 1));
            tris.push([a, c, d]);
            tris.push([a, d, b]);
        }
    }
    let mut binary = vec![0u8; 80];
    binary.extend_from_slice(&(tris.len() as u32).to_le_bytes());
    let mut ascii = String::from("solid sphere\n");
    for t in &tris {
        binary.extend_from_slice(&[0u8; 12]);
        ascii.push_str(" facet normal 0 0 1\n  outer loop\n");
        for p in t {
            for v in p {
                binary.extend_from_slice(&v.to_le_bytes());
            }
            ascii.push_str(&format!("   vertex {} {} {}\n", p[0], p[1], p[2]));
        }
        binary.extend_from_slice(&[0, 0]);
        ascii.push_str("  endloop\n endfacet\n");
    }
    ascii.push_str("endsolid sphere\n");
    vec![
        ("sphere.stl", binary),
        ("sphere_ascii.stl", ascii.into_bytes()),
    ]
}

#[test]
fn fuzz_stl() {
    let seeds = stl_seeds();
    for (name, data) in &seeds {
        let info = slicefile::inspect_bytes(data, name).unwrap();
        assert_eq!(
            info.model.as_ref().map(|m| m.triangles),
            Some(192),
            "{name}"
        );
    }
    fuzz("stl", &seeds);
}

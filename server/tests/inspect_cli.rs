//! `printstall inspect` runs the real binary on the sliced-file fixtures, with no database and
//! with settings that would make `serve` fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

use serde_json::Value;

macro_rules! fixture {
    ($name:literal) => {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/fixtures/slicefiles/",
            $name
        )
    };
}

const BGCODE: &str = fixture!("prusaslicer_2.9.2_xl5is_5tool.bgcode");
const BAMBU: &str = fixture!("bambustudio_1.7.6_sliced_plate_RECONSTRUCTED.gcode.3mf");
const CURA: &str = fixture!("cura_4.10_marlin.gcode");

/// Runs `printstall inspect ARGS` with a clean environment plus broken settings.
fn inspect(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_printstall"))
        .arg("inspect")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", "mysql:/not-postgres")
        .env("PORT", "not-a-port")
        .env("PRINTSTALL_CONFIG", "/nonexistent/printstall.toml")
        .output()
        .unwrap()
}

fn stdout_json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

const NAMES: [&str; 17] = [
    "file",
    "format",
    "slicer",
    "printer_model",
    "print_time_s",
    "layer_height_mm",
    "first_layer_height_mm",
    "nozzle_diameter_mm",
    "layer_count",
    "object_height_mm",
    "filaments",
    "total_filament_g",
    "total_cost",
    "plates",
    "model",
    "thumbnails",
    "warnings",
];

#[test]
fn one_file_is_one_json_object_with_the_issue_names() {
    let output = inspect(&[BGCODE, "--json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stderr.is_empty());
    let v = stdout_json(&output);
    let object = v.as_object().expect("an object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected: Vec<&str> = NAMES.to_vec();
    expected.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(v["file"], BGCODE);
    assert_eq!(v["format"], "bgcode");
    assert_eq!(v["slicer"]["name"], "PrusaSlicer");
    assert_eq!(v["slicer"]["version"], "2.9.2");
    assert_eq!(v["printer_model"], "XL5IS");
    assert_eq!(v["print_time_s"], 57);
    assert_eq!(v["layer_height_mm"], 0.2);
    assert_eq!(v["layer_count"], Value::Null);
    assert_eq!(v["model"], Value::Null);
    let filament = &v["filaments"][0];
    let mut fkeys: Vec<&str> = filament
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fkeys.sort_unstable();
    assert_eq!(
        fkeys,
        [
            "bed_temp_c",
            "color_hex",
            "cost",
            "index",
            "name",
            "nozzle_temp_c",
            "type",
            "used_cm3",
            "used_g",
            "used_mm"
        ]
    );
    assert_eq!(filament["index"], 1);
    assert_eq!(filament["type"], "PETG");
    assert_eq!(filament["color_hex"], "#FF8000");
    assert_eq!(filament["used_g"], 0.2);
    let thumbnail = &v["thumbnails"][3];
    assert_eq!(thumbnail["width"], 380);
    assert_eq!(thumbnail["height"], 285);
    assert_eq!(thumbnail["format"], "png");
    assert_eq!(thumbnail["bytes"], 46_734);
    assert!(v.get("thumbnail_data").is_none());
}

#[test]
fn several_files_are_a_json_array_in_order() {
    let output = inspect(&["--json", BAMBU, CURA]);
    assert!(output.status.success());
    let v = stdout_json(&output);
    let items = v.as_array().expect("an array");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["format"], "3mf");
    assert_eq!(items[0]["slicer"]["name"], "BambuStudio");
    let plate = &items[0]["plates"][0];
    let mut pkeys: Vec<&str> = plate
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    pkeys.sort_unstable();
    assert_eq!(
        pkeys,
        ["filament_g", "index", "print_time_s", "thumbnail_index"]
    );
    assert_eq!(items[1]["format"], "gcode");
    assert_eq!(items[1]["slicer"]["name"], "Cura");
}

#[test]
fn without_json_a_short_summary() {
    let output = inspect(&[BGCODE]);
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.starts_with(&format!("{BGCODE} (binary G-code), PrusaSlicer 2.9.2")),
        "{text}"
    );
    assert!(text.contains("printer XL5IS"), "{text}");
    assert!(text.contains("time 57s"), "{text}");
    assert!(text.contains("filament 1: PETG #FF8000 0.2 g"), "{text}");
    assert!(text.lines().count() < 20, "{text}");
}

#[test]
fn bad_files_give_one_line_each_and_a_failure_but_the_rest_is_printed() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.bgcode");
    std::fs::write(&garbage, b"\x00\x01\x02 definitely not a sliced file").unwrap();
    let missing = dir.path().join("missing.gcode");
    let (garbage, missing) = (garbage.to_str().unwrap(), missing.to_str().unwrap());

    let output = inspect(&["--json", missing, BGCODE, garbage]);
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(lines[0].starts_with(&format!("printstall: {missing}: cannot open")));
    assert!(lines[1].starts_with(&format!("printstall: {garbage}: not a valid bgcode file")));
    assert!(!stderr.contains("panicked"));
    let v = stdout_json(&output);
    let items = v.as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["format"], "bgcode");

    let alone = inspect(&[missing]);
    assert!(!alone.status.success());
    assert!(alone.stdout.is_empty());
    assert_eq!(String::from_utf8(alone.stderr).unwrap().lines().count(), 1);
}

#[test]
fn no_files_is_a_usage_error() {
    let output = inspect(&[]);
    assert!(!output.status.success());
}

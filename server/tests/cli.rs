//! Expected failures at start print one clear line and exit non-zero: no panic, no backtrace.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn printstall(env: &[(&str, &str)]) -> (bool, String) {
    let pwa = tempfile::tempdir().unwrap();
    std::fs::write(pwa.path().join("index.html"), "<!doctype html>").unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_printstall"));
    command
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PORT", "0")
        .env("PRINTSTALL_PWA_DIR", pwa.path())
        .env("PRINTSTALL_DATA_DIR", data.path())
        .env(
            "DATABASE_URL",
            std::env::var("DATABASE_URL").unwrap_or_default(),
        );
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    (output.status.success(), stderr)
}

fn assert_one_clear_line(stderr: &str, expected: &str) {
    let lines: Vec<_> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line, got:\n{stderr}");
    assert!(lines[0].starts_with("printstall: "), "{stderr}");
    assert!(lines[0].contains(expected), "{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"));
}

#[test]
fn an_unreachable_database_is_one_clear_line() {
    let (ok, stderr) = printstall(&[("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")]);
    assert!(!ok);
    assert_one_clear_line(
        &stderr,
        "cannot reach the database at postgres://nobody@127.0.0.1:1/none",
    );
}

#[test]
fn a_malformed_database_url_is_one_clear_line() {
    let (ok, stderr) = printstall(&[("DATABASE_URL", "mysql:/oops:secret@x")]);
    assert!(!ok);
    assert_one_clear_line(&stderr, "is not a valid PostgreSQL URL");
    assert!(!stderr.contains("secret@"), "{stderr}");
}

#[test]
fn an_s3_endpoint_that_does_not_answer_is_one_clear_line() {
    let (ok, stderr) = printstall(&[
        ("S3_ENDPOINT", "http://127.0.0.1:1"),
        ("S3_BUCKET", "b"),
        ("S3_ACCESS_KEY_ID", "ak"),
        ("S3_SECRET_ACCESS_KEY", "sk"),
        ("S3_PATH_STYLE", "true"),
    ]);
    assert!(!ok);
    assert_one_clear_line(
        &stderr,
        "the file store at http://127.0.0.1:1 does not answer",
    );
}

#[test]
fn a_port_in_use_is_one_clear_line() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (ok, stderr) = printstall(&[("PORT", &port)]);
    assert!(!ok);
    assert_one_clear_line(&stderr, "the port is already in use");
}

#[test]
fn a_missing_web_app_build_is_one_clear_line() {
    let (ok, stderr) = printstall(&[("PRINTSTALL_PWA_DIR", "/nonexistent/dist")]);
    assert!(!ok);
    assert_one_clear_line(&stderr, "the web app is not built");
}

#[test]
fn a_bad_setting_is_one_clear_line() {
    let (ok, stderr) = printstall(&[("PORT", "http")]);
    assert!(!ok);
    assert_one_clear_line(&stderr, "PORT=\"http\" is not valid");
}

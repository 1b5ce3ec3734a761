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

/// The embedded default end to end: with no DATABASE_URL the server creates a private
/// cluster, migrates it, serves, and on SIGTERM finishes and stops the cluster.
#[test]
fn embedded_database_starts_serves_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let pwa = tempfile::tempdir().unwrap();
    std::fs::write(pwa.path().join("index.html"), "<!doctype html>").unwrap();
    // The postgres user must be able to enter the folder when the tests run as root.
    let data = tempfile::Builder::new()
        .prefix("printstall-embedded-")
        .tempdir_in("/tmp")
        .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_printstall"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PORT", "0")
        .env("PRINTSTALL_PWA_DIR", pwa.path())
        .env("PRINTSTALL_DATA_DIR", data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut printed = Vec::new();
    let mut base_url = None;
    for line in stdout.lines() {
        let line = line.unwrap();
        if let Some(url) = line.trim().strip_prefix("listening: ") {
            base_url = Some(url.to_owned());
            break;
        }
        printed.push(line);
    }
    let base_url = base_url.unwrap_or_else(|| panic!("no listening line in {printed:?}"));
    assert!(
        printed.iter().any(|l| l.contains("embedded PostgreSQL")),
        "{printed:?}"
    );
    let postmaster_pid = data.path().join("pg/data/postmaster.pid");
    assert!(postmaster_pid.exists());

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let health = runtime
        .block_on(async { reqwest::get(format!("{base_url}/healthz")).await })
        .unwrap();
    assert_eq!(health.status(), 200);

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status}");
    assert!(
        !postmaster_pid.exists(),
        "the embedded cluster still runs after the server stopped"
    );
}

#[test]
fn an_app_role_that_cannot_connect_is_one_clear_line() {
    let database = std::env::var("DATABASE_URL").unwrap();
    let wrong_role = database.replacen("://printstall@", "://no_such_role@", 1);
    assert_ne!(
        wrong_role, database,
        "the test database URL names the user printstall"
    );
    let (ok, stderr) = printstall(&[("APP_DATABASE_URL", &wrong_role)]);
    assert!(!ok);
    assert_one_clear_line(
        &stderr,
        "cannot reach the database at the app role printstall_app",
    );
}

/// A folder for an embedded cluster, under /tmp: the postgres user must be able to enter it
/// when the tests run as root.
fn cluster_folder(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in("/tmp")
        .unwrap()
}

/// Runs `printstall db ARGS` and returns (success, stdout, stderr).
fn printstall_db(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_printstall"))
        .arg("db")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).trim().to_owned(),
        String::from_utf8_lossy(&output.stderr).trim().to_owned(),
    )
}

#[test]
fn db_stop_with_no_cluster_running_says_so_and_creates_nothing() {
    let parent = cluster_folder("printstall-nodb-");
    let dir = parent.path().join("never-made");
    let (ok, stdout, stderr) = printstall_db(&["stop", "--dir", dir.to_str().unwrap()]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("nothing to stop"), "{stdout}");
    assert!(stderr.is_empty(), "{stderr}");
    assert!(!dir.exists(), "db stop made {}", dir.display());

    // A cluster that exists but is stopped is left as it is (not started, not stopped).
    let dir = cluster_folder("printstall-stopped-db-");
    let d = dir.path().to_str().unwrap();
    let (ok, _, stderr) = printstall_db(&["start", "--dir", d]);
    assert!(ok, "{stderr}");
    let (ok, stdout, _) = printstall_db(&["stop", "--dir", d]);
    assert!(
        ok && stdout.contains("stopped the PostgreSQL cluster"),
        "{stdout}"
    );
    let (ok, stdout, stderr) = printstall_db(&["stop", "--dir", d]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("nothing to stop"), "{stdout}");
    assert!(!dir.path().join("pg/data/postmaster.pid").exists());
}

/// Makes the migrations of the database at `url` fail at the next start: the migration
/// table names a version this build does not have.
fn break_migrations(url: &str) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query(
            "create table if not exists _sqlx_migrations (
                version bigint primary key, description text not null,
                installed_on timestamptz not null default now(), success boolean not null,
                checksum bytea not null, execution_time bigint not null)",
        )
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "insert into _sqlx_migrations (version, description, success, checksum, execution_time)
             values (999999999999, 'from the future', true, '\\x00', 0)",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    });
}

/// `serve` with the embedded cluster in `data`, expected to fail: its stderr.
fn serve_embedded_expecting_failure(data: &std::path::Path) -> String {
    let pwa = tempfile::tempdir().unwrap();
    std::fs::write(pwa.path().join("index.html"), "<!doctype html>").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_printstall"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PORT", "0")
        .env("PRINTSTALL_PWA_DIR", pwa.path())
        .env("PRINTSTALL_DATA_DIR", data)
        .output()
        .unwrap();
    assert!(!output.status.success());
    String::from_utf8_lossy(&output.stderr).trim().to_owned()
}

/// When `serve` starts the embedded cluster and then fails (here: the migrations), it stops
/// the cluster before it exits; a cluster that was running already is left running.
#[test]
fn a_failed_start_stops_the_embedded_cluster_it_started() {
    let data = cluster_folder("printstall-failed-start-");
    let d = data.path().to_str().unwrap();
    let postmaster_pid = data.path().join("pg/data/postmaster.pid");
    let (ok, url, stderr) = printstall_db(&["start", "--dir", d]);
    assert!(ok, "{stderr}");
    break_migrations(&url);

    // Running already (db start): the failed serve leaves it running.
    let stderr = serve_embedded_expecting_failure(data.path());
    assert_one_clear_line(&stderr, "the database migrations failed");
    assert!(
        postmaster_pid.exists(),
        "a cluster serve did not start was stopped"
    );

    // Stopped: serve starts it, fails, and stops it again.
    let (ok, _, stderr) = printstall_db(&["stop", "--dir", d]);
    assert!(ok, "{stderr}");
    assert!(!postmaster_pid.exists());
    let stderr = serve_embedded_expecting_failure(data.path());
    assert_one_clear_line(&stderr, "the database migrations failed");
    assert!(
        !postmaster_pid.exists(),
        "the embedded cluster still runs after serve failed"
    );
}

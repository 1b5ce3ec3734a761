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
    let wrong_role = with_user(&database, "no_such_role");
    assert_ne!(wrong_role, database);
    let (ok, stderr) = printstall(&[("APP_DATABASE_URL", &wrong_role)]);
    assert!(!ok);
    assert_one_clear_line(
        &stderr,
        "cannot reach the database at the app role printstall_app",
    );
}

/// `url` with the user `user`, whoever it named (in `user@`, `user:password@`, `?user=`,
/// or nobody).
fn with_user(url: &str, user: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (userinfo, hostpart) = match rest.rsplit_once('@') {
        Some((userinfo, host)) => (Some(userinfo), host),
        None => (None, rest),
    };
    let userinfo = match userinfo.and_then(|u| u.split_once(':')) {
        Some((_, password)) => format!("{user}:{password}"),
        None => user.to_owned(),
    };
    // A `user=` query parameter would win over the user information: drop it.
    let hostpart = match hostpart.split_once('?') {
        Some((path, query)) => {
            let kept: Vec<_> = query
                .split('&')
                .filter(|p| !p.to_ascii_lowercase().starts_with("user="))
                .collect();
            if kept.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{}", kept.join("&"))
            }
        }
        None => hostpart.to_owned(),
    };
    format!("{scheme}://{userinfo}@{hostpart}")
}

#[test]
fn with_user_replaces_any_user() {
    assert_eq!(
        with_user("postgres://printstall@localhost/db?host=/tmp", "x"),
        "postgres://x@localhost/db?host=/tmp"
    );
    assert_eq!(
        with_user("postgres://admin:s3cret@db:5432/app", "x"),
        "postgres://x:s3cret@db:5432/app"
    );
    assert_eq!(
        with_user("postgresql://db/app?user=admin&sslmode=require", "x"),
        "postgresql://x@db/app?sslmode=require"
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

/// A `printstall serve` running against the test database, spawned like a person would:
/// stdout read up to the "listening" line, stderr (the logs) collected by a thread.
struct Running {
    child: std::process::Child,
    base_url: String,
    port: u16,
    /// What it printed before "listening" (the start-up summary).
    summary: Vec<String>,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
    stderr_reader: Option<std::thread::JoinHandle<()>>,
    _pwa: tempfile::TempDir,
    _data: tempfile::TempDir,
}

impl Running {
    /// Starts `serve` on a free port with the test DATABASE_URL; `env` adds or overrides.
    fn start(env: &[(&str, &str)]) -> Self {
        Self::start_with(env, |_| {})
    }

    fn start_with(env: &[(&str, &str)], configure: impl FnOnce(&mut Command)) -> Self {
        use std::io::{BufRead, BufReader, Read};
        use std::process::Stdio;

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
            .env("DATABASE_URL", std::env::var("DATABASE_URL").unwrap());
        for (k, v) in env {
            command.env(k, v);
        }
        configure(&mut command);
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        let stderr_reader = std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        });
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut summary = Vec::new();
        let mut base_url = None;
        for line in stdout.lines() {
            let line = line.unwrap();
            if let Some(url) = line.trim().strip_prefix("listening: ") {
                base_url = Some(url.to_owned());
                break;
            }
            summary.push(line);
        }
        let Some(base_url) = base_url else {
            let _ = child.kill();
            let _ = child.wait();
            let _ = stderr_reader.join();
            panic!(
                "no listening line; printed {summary:?}, stderr:\n{}",
                stderr.lock().unwrap()
            );
        };
        // From the summary's "listen:    127.0.0.1:PORT (HOST=…, PORT=…)" (the announced
        // URL may be a public one).
        let port = summary
            .iter()
            .find_map(|l| l.trim().strip_prefix("listen:"))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|address| address.rsplit(':').next())
            .and_then(|p| p.parse().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("no listen line in {summary:?}");
        };
        Self {
            child,
            base_url,
            port,
            summary,
            stderr,
            stderr_reader: Some(stderr_reader),
            _pwa: pwa,
            _data: data,
        }
    }

    fn signal(&self, name: &str) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args([name, &pid]).status().unwrap();
        assert!(sent.success(), "kill {name} {pid}");
    }

    /// Waits (at most 30 s) for the process to end; then all of its stderr is in.
    fn wait(&mut self) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                if let Some(reader) = self.stderr_reader.take() {
                    reader.join().unwrap();
                }
                return status;
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "the server did not stop within 30 s; stderr:\n{}",
                    self.stderr()
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `url` with `key=value` added to its query string.
fn with_query_param(url: &str, key: &str, value: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{key}={value}")
}

/// `url` with the password of its user information (if any) moved into the query string as
/// `password=`, or a made-up one added there when it had none (the test clusters trust
/// local connections and ignore it). Returns the URL and the password.
fn password_in_query(url: &str) -> (String, String) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (without, password) = match rest.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, password)) => (format!("{scheme}://{user}@{host}"), password.to_owned()),
            None => (url.to_owned(), "printstall-test-unused-password".to_owned()),
        },
        None => (url.to_owned(), "printstall-test-unused-password".to_owned()),
    };
    (with_query_param(&without, "password", &password), password)
}

fn s3_env(key: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| {
        panic!("{key} is not set: run the tests through scripts/test, which starts s3s-fs")
    })
}

/// The start-up summary: the address it listens on (HOST, PORT), the S3 region and
/// addressing style, and every password masked, `?password=` in DATABASE_URL included.
#[test]
fn the_start_up_summary_shows_listen_address_and_s3_and_masks_passwords() {
    let (database_url, password) = password_in_query(&std::env::var("DATABASE_URL").unwrap());
    let s3_secret = s3_env("PRINTSTALL_TEST_S3_SECRET_ACCESS_KEY");
    let mut server = Running::start(&[
        ("DATABASE_URL", &database_url),
        ("S3_ENDPOINT", &s3_env("PRINTSTALL_TEST_S3_ENDPOINT")),
        ("S3_BUCKET", &s3_env("PRINTSTALL_TEST_S3_BUCKET")),
        (
            "S3_ACCESS_KEY_ID",
            &s3_env("PRINTSTALL_TEST_S3_ACCESS_KEY_ID"),
        ),
        ("S3_SECRET_ACCESS_KEY", &s3_secret),
        ("S3_REGION", "eu-central-1"),
        ("S3_PATH_STYLE", "true"),
    ]);
    let summary = server.summary.join("\n");
    let line = |label: &str| {
        server
            .summary
            .iter()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no `{label}` line in:\n{summary}"))
            .clone()
    };
    assert_eq!(
        line("listen:").trim(),
        format!(
            "listen:    127.0.0.1:{} (HOST=127.0.0.1, PORT=0)",
            server.port
        )
    );
    assert_eq!(server.base_url, format!("http://127.0.0.1:{}", server.port));
    let files = line("files:");
    assert!(files.contains("region eu-central-1"), "{files}");
    assert!(
        files.contains("path-style addressing (S3_PATH_STYLE=true)"),
        "{files}"
    );
    let database = line("database:");
    assert!(database.contains("password=****"), "{database}");
    assert!(!summary.contains(&password), "{summary}");
    assert!(!summary.contains(&s3_secret), "{summary}");
    server.signal("-TERM");
    assert!(server.wait().success());
    assert!(!server.stderr().contains(&password));
}

/// Connections of the test database whose `application_name` is `name`.
fn connections_named(name: &str) -> i64 {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let pool = sqlx::PgPool::connect(&std::env::var("DATABASE_URL").unwrap())
            .await
            .unwrap();
        let n: i64 =
            sqlx::query_scalar("select count(*) from pg_stat_activity where application_name = $1")
                .bind(name)
                .fetch_one(&pool)
                .await
                .unwrap();
        pool.close().await;
        n
    })
}

/// Ctrl-C (SIGINT): the server stops by itself with exit 0, says it closed its database
/// connections, and none of them is left in the database.
#[test]
fn sigint_stops_gracefully_with_exit_0_and_the_pools_closed() {
    let name = format!("printstall-sigint-{}", uuid::Uuid::new_v4().simple());
    let url = with_query_param(
        &std::env::var("DATABASE_URL").unwrap(),
        "application_name",
        &name,
    );
    let mut server = Running::start(&[("DATABASE_URL", &url)]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // /healthz uses the owner pool; a failed sign-in goes through the app role's pool.
    runtime.block_on(async {
        let health = reqwest::get(format!("{}/healthz", server.base_url))
            .await
            .unwrap();
        assert_eq!(health.status(), 200);
        let sign_in = reqwest::Client::new()
            .post(format!("{}/api/v1/auth/sign-in", server.base_url))
            .json(&serde_json::json!({"email": format!("{name}@example.com"), "password": "wrong password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(sign_in.status(), 401);
    });
    assert!(
        connections_named(&name) > 0,
        "the server holds no connection named {name}"
    );

    server.signal("-INT");
    let status = server.wait();
    let stderr = server.stderr();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("shutting down"), "{stderr}");
    assert!(
        stderr.contains("stopped: requests finished, database connections closed"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Closed connections leave pg_stat_activity as their backends exit: at once after a
    // clean close; give the database a moment anyway.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while connections_named(&name) > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "connections named {name} are left after the server stopped"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// SIGTERM while a request is in flight (its body still arriving, sent slowly by the
/// client): the server stops taking connections, finishes that request (a registration,
/// written to the database during the shutdown), answers it, and then exits 0.
#[test]
fn sigterm_lets_a_request_in_flight_finish() {
    use std::io::{Read, Write};

    let mut server = Running::start(&[]);
    let email = format!("inflight-{}@example.com", uuid::Uuid::new_v4().simple());
    let body = serde_json::json!({
        "email": email,
        "display_name": "In Flight",
        "password": "correct horse battery",
        "shop": {"name": "Slow stall", "currency": "EUR", "time_zone": "Europe/Berlin", "tax_rate_bp": 1900}
    })
    .to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "POST /api/v1/auth/register HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\
         X-Request-Id: in-flight-1\r\nConnection: close\r\n\r\n{first}",
        server.port,
        body.len()
    )
    .unwrap();
    stream.flush().unwrap();
    // The server has the request and waits for the rest of its body.
    std::thread::sleep(std::time::Duration::from_millis(500));
    server.signal("-TERM");
    std::thread::sleep(std::time::Duration::from_millis(700));
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server exited with a request in flight; stderr:\n{}",
        server.stderr()
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", server.port)).is_err(),
        "the server still takes new connections after SIGTERM"
    );
    stream.write_all(rest.as_bytes()).unwrap();
    stream.flush().unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status_line = answer.lines().next().unwrap_or_default().to_owned();
    assert!(
        status_line.starts_with("HTTP/1.1 201"),
        "{status_line}\n{answer}"
    );
    assert!(answer.contains("access_token"), "{answer}");

    let status = server.wait();
    let stderr = server.stderr();
    assert_eq!(status.code(), Some(0), "{stderr}");
    // The request's log line came before the stop.
    let answered = stderr
        .lines()
        .position(|l| l.contains("in-flight-1") && l.contains("status=201"))
        .unwrap_or_else(|| panic!("no log line for the request in flight:\n{stderr}"));
    let stopped = stderr
        .lines()
        .position(|l| l.contains("stopped: requests finished"))
        .unwrap_or_else(|| panic!("no stop line:\n{stderr}"));
    assert!(answered < stopped, "{stderr}");
}

/// The optional config file (PRINTSTALL_CONFIG, TOML, keys named like the environment
/// variables in any case): read, the environment wins over it, and a bad file is one line.
#[test]
fn the_config_file_is_read_and_the_environment_wins() {
    let pwa = tempfile::tempdir().unwrap();
    std::fs::write(pwa.path().join("index.html"), "<!doctype html>").unwrap();
    let config_dir = tempfile::tempdir().unwrap();
    let config = config_dir.path().join("printstall.toml");
    // Everything from the file: the database, port, folders and S3-less storage.
    std::fs::write(
        &config,
        format!(
            "database_url = {:?}\nPORT = 0\nhost = \"127.0.0.1\"\nprintstall_pwa_dir = {:?}\n\
             PRINTSTALL_PUBLIC_URL = \"http://stall.example.test\"\n",
            std::env::var("DATABASE_URL").unwrap(),
            pwa.path().to_str().unwrap(),
        ),
    )
    .unwrap();
    let config_path = config.to_str().unwrap().to_owned();
    let mut server = Running::start_with(&[], |c| {
        c.env_remove("DATABASE_URL")
            .env_remove("PORT")
            .env_remove("PRINTSTALL_PWA_DIR")
            .env("PRINTSTALL_CONFIG", &config_path);
    });
    let summary = server.summary.join("\n");
    assert!(
        summary.contains(&format!("web app:   {}", pwa.path().display())),
        "{summary}"
    );
    assert!(
        summary.contains("public:    http://stall.example.test"),
        "{summary}"
    );
    // The public URL from the file is the address it announces.
    assert_eq!(server.base_url, "http://stall.example.test");
    server.signal("-TERM");
    assert!(server.wait().success());

    // The environment wins: the file's port and web app folder are not used.
    std::fs::write(
        &config,
        format!(
            "database_url = {:?}\nport = \"not a port\"\nprintstall_pwa_dir = \"/nonexistent/dist\"\n",
            std::env::var("DATABASE_URL").unwrap(),
        ),
    )
    .unwrap();
    let mut server = Running::start(&[("PRINTSTALL_CONFIG", &config_path)]);
    let summary = server.summary.join("\n");
    assert!(summary.contains("(HOST=127.0.0.1, PORT=0)"), "{summary}");
    assert!(!summary.contains("/nonexistent/dist"), "{summary}");
    server.signal("-TERM");
    assert!(server.wait().success());

    // A bad file, a missing file, an unknown key: one clear line each.
    std::fs::write(&config, "port = [unclosed\n").unwrap();
    let (ok, stderr) = printstall(&[("PRINTSTALL_CONFIG", &config_path)]);
    assert!(!ok);
    assert_one_clear_line(&stderr, "is not valid TOML");
    assert!(stderr.contains(&config_path), "{stderr}");
    std::fs::write(&config, "prot = 8080\n").unwrap();
    let (ok, stderr) = printstall(&[("PRINTSTALL_CONFIG", &config_path)]);
    assert!(!ok);
    assert_one_clear_line(&stderr, "unknown key `prot`");
    let missing = config_dir.path().join("missing.toml");
    let (ok, stderr) = printstall(&[("PRINTSTALL_CONFIG", missing.to_str().unwrap())]);
    assert!(!ok);
    assert_one_clear_line(&stderr, "cannot read the config file");
}

/// Each request is logged with its request id (the client's X-Request-Id, else a new one
/// echoed back), method, path, status and latency: as text, and as JSON fields.
#[test]
fn request_logs_carry_request_id_method_path_status_and_latency() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let http = reqwest::Client::new();

    // Text logs (the default).
    let mut server = Running::start(&[]);
    let generated = runtime.block_on(async {
        let given = http
            .get(format!("{}/healthz", server.base_url))
            .header("x-request-id", "log-test-given")
            .send()
            .await
            .unwrap();
        assert_eq!(given.status(), 200);
        let missing = http
            .get(format!("{}/api/v1/no-such-thing", server.base_url))
            .send()
            .await
            .unwrap();
        missing
            .headers()
            .get("x-request-id")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    });
    server.signal("-TERM");
    assert!(server.wait().success());
    let stderr = server.stderr();
    let line_for = |id: &str| {
        stderr
            .lines()
            .find(|l| l.contains(&format!("request_id={id}")) && l.contains("answered"))
            .unwrap_or_else(|| panic!("no request log for {id}:\n{stderr}"))
            .to_owned()
    };
    let given = line_for("log-test-given");
    for part in ["method=GET", "path=/healthz", "status=200", "latency_ms="] {
        assert!(given.contains(part), "{part} missing in {given}");
    }
    let missing = line_for(&generated);
    for part in ["method=GET", "path=/api/v1/no-such-thing", "status=404"] {
        assert!(missing.contains(part), "{part} missing in {missing}");
    }

    // JSON logs: the same as fields.
    let mut server = Running::start(&[("PRINTSTALL_LOG_FORMAT", "json")]);
    runtime.block_on(async {
        let r = http
            .post(format!("{}/api/v1/auth/sign-in", server.base_url))
            .header("x-request-id", "log-test-json")
            .json(&serde_json::json!({"email": "nobody@example.com", "password": "wrong password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(r.headers()["x-request-id"], "log-test-json");
    });
    server.signal("-TERM");
    assert!(server.wait().success());
    let stderr = server.stderr();
    let event = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| {
            e["span"]["request_id"] == "log-test-json" && e["fields"]["message"] == "answered"
        })
        .unwrap_or_else(|| panic!("no JSON request log:\n{stderr}"));
    assert_eq!(event["span"]["method"], "POST", "{event}");
    assert_eq!(event["span"]["path"], "/api/v1/auth/sign-in", "{event}");
    assert_eq!(event["fields"]["status"], 401, "{event}");
    assert!(event["fields"]["latency_ms"].as_f64().is_some(), "{event}");
}

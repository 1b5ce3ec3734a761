//! The server killed with SIGKILL in the middle of a push, then restarted: the device sends
//! the same batch again and every op counts exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod sync_common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::Api;
use serde_json::Value;
use sqlx::PgPool;
use sync_common::*;

fn spawn_server(database_url: &str, pwa: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_printstall"))
        .arg("serve")
        .env("PORT", "0")
        .env("DATABASE_URL", database_url)
        .env_remove("APP_DATABASE_URL")
        .env("PRINTSTALL_PWA_DIR", pwa)
        .env("PRINTSTALL_DATA_DIR", pwa)
        .env("PRINTSTALL_JWT_SECRET", common::TEST_JWT_SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    for line in stdout.lines() {
        let line = line.unwrap();
        if let Some(url) = line.trim().strip_prefix("listening: ") {
            return (child, url.to_owned());
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server printed no listening line");
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn a_push_cut_by_sigkill_is_applied_once_after_restart(pool: PgPool) {
    // The binary connects to this test's own database.
    let db = pool.connect_options().get_database().unwrap().to_owned();
    let base = common::database_url();
    let (head, query) = base.split_once('?').unwrap_or((&base, ""));
    let (server_part, _) = head.rsplit_once('/').unwrap();
    let url = format!("{server_part}/{db}?{query}");
    let pwa = tempfile::tempdir().unwrap();
    std::fs::write(pwa.path().join("index.html"), "<!doctype html>").unwrap();

    let (mut first, first_url) = spawn_server(&url, pwa.path());
    let owner = Api::register(&first_url, "o@example.com").await;
    let rex = product(&owner, "REX").await;
    let mut dev = Device::new(&owner);
    let ops: Vec<Value> = (0..500).map(|_| dev.op(adjust(&rex, 1))).collect();

    let cut = dev.clone();
    let cut_ops = ops.clone();
    let in_flight = tokio::spawn(async move {
        let r = cut
            .api
            .http
            .post(format!("{}/api/v1/sync/push", cut.api.base))
            .bearer_auth(&cut.api.token)
            .json(&serde_json::json!({"protocol": 1, "device_id": cut.id, "ops": cut_ops}))
            .send()
            .await;
        r.map(|r| r.status().as_u16()).ok()
    });
    tokio::time::sleep(Duration::from_millis(40)).await;
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let cut_status = in_flight.await.unwrap();

    let (mut second, second_url) = spawn_server(&url, pwa.path());
    dev.api.base = second_url.clone();
    let (status, r) = dev.push(&ops).await;
    assert_eq!(status, 200, "{r}");
    let st = statuses(&r);
    println!(
        "cut push answered {cut_status:?}; the retry found {:?}",
        st[0]
    );
    // One transaction: all of it committed before the kill, or none of it.
    assert!(
        st.iter().all(|s| s == "applied") || st.iter().all(|s| s == "duplicate"),
        "{st:?} (cut push answered {cut_status:?})"
    );
    let mut api = owner.clone();
    api.base = second_url;
    assert_eq!(on_hand(&api, &rex).await, 500);
    let recorded: i64 = pushed_op_count(&pool).await;
    assert_eq!(recorded, 500);
    second.kill().unwrap();
    second.wait().unwrap();
}

//! Backup and recovery through the real scripts: `scripts/backup`, then changes and a
//! deletion (a device's op, a whole shop erased with its files), then `scripts/restore`
//! gives back exactly the backed-up rows of every table and the same objects; the sync
//! epoch changed, so a device's old cursor gets 409 resync_required, and the ops it still
//! holds, pushed again, lose nothing (the one the backup missed is applied again, the
//! others are duplicates).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod erasure_support;
mod sync_common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::Api;
use erasure_support::{Store, TAX_ID, database_url_of, seed, start_in, start_with};
use printstall_server::storage::Storage;
use serde_json::{Value, json};
use sqlx::PgPool;

/// Every row of every table (the sync epoch left out: a restore changes it on purpose).
async fn snapshot(pool: &PgPool) -> BTreeMap<String, Value> {
    let tables: Vec<String> = sqlx::query_scalar(
        r#"select table_name::text from information_schema.tables
           where table_schema = 'public' and table_type = 'BASE TABLE' order by 1"#,
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut out = BTreeMap::new();
    for t in tables {
        let rows: Value = sqlx::query_scalar(&format!(
            r#"select coalesce(jsonb_agg(to_jsonb(x) - 'epoch' order by (to_jsonb(x) - 'epoch')::text), '[]')
               from "{t}" x"#
        ))
        .fetch_one(pool)
        .await
        .unwrap();
        out.insert(t, rows);
    }
    out
}

/// Equal snapshots, or a panic naming the tables and rows that differ.
fn assert_same(now: &BTreeMap<String, Value>, then: &BTreeMap<String, Value>) {
    let mut diffs = Vec::new();
    for table in now.keys().chain(then.keys()) {
        let (a, b) = (&now.get(table), &then.get(table));
        if a == b {
            continue;
        }
        let rows = |v: &Option<&Value>| v.and_then(|v| v.as_array()).cloned().unwrap_or_default();
        let (a, b) = (rows(a), rows(b));
        let extra: Vec<&Value> = a.iter().filter(|r| !b.contains(r)).collect();
        let missing: Vec<&Value> = b.iter().filter(|r| !a.contains(r)).collect();
        diffs.push(format!("{table}: extra {extra:?}, missing {missing:?}"));
    }
    assert!(
        diffs.is_empty(),
        "the restored database differs:\n{}",
        diffs.join("\n")
    );
}

async fn objects(storage: &Storage) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let root = printstall_server::storage::ObjectKey::parse("shops").unwrap();
    for o in storage.list(&root).await.unwrap() {
        let key = printstall_server::storage::ObjectKey::parse(&o.key).unwrap();
        let data = storage.get(&key).await.unwrap();
        out.push((o.key, erasure_support::sha256_hex(&data)));
    }
    out
}

fn run_script(script: &str, args: &[&str], url: &str, data_dir: &Path) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let out = Command::new("bash")
        .arg(format!("{root}/scripts/{script}"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("PRINTSTALL_DATA_DIR", data_dir)
        .env("PRINTSTALL_BIN", env!("CARGO_BIN_EXE_printstall"))
        .env_remove("PRINTSTALL_CONFIG")
        .env_remove("S3_ENDPOINT")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "scripts/{script} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn backup_delete_restore_gives_the_same_data(pool: PgPool) {
    let url = database_url_of(&pool).await;
    let started = start_with(pool.clone(), Store::Local, &[]).await;
    let data_dir = started.data_dir.clone();
    let owner = Api::register(&started.server.url, "owner@example.com").await;
    let seeded = seed(&owner).await;
    let other = Api::register(&started.server.url, "other@example.com").await;
    seed(&other).await;
    // A phone sells from the stock and has pulled.
    let mut phone = sync_common::Device::new(&owner);
    let before_backup = phone.op(sync_common::adjust(&seeded.product, 5));
    let (status, _) = phone.push(std::slice::from_ref(&before_backup)).await;
    assert_eq!(status, 200);
    let mut pulled = sync_common::Pulled::default();
    pulled.drain(&owner, 500).await;
    let on_hand_at_backup = sync_common::on_hand(&owner, &seeded.product).await;
    let storage = started.server.storage.clone();
    started.server.stop().await;

    let rows = snapshot(&pool).await;
    let files = objects(&storage).await;
    assert!(files.len() >= 8, "{files:?}");
    let backup_dir = tempfile::tempdir().unwrap();
    let backup = backup_dir.path().join("b");
    run_script("backup", &[backup.to_str().unwrap()], &url, &data_dir);
    assert!(backup.join("database.dump").exists());
    assert!(
        std::fs::read_to_string(backup.join("objects.tsv"))
            .unwrap()
            .lines()
            .count()
            == files.len()
    );

    // After the backup: the phone records another change; the other shop is erased.
    // The same data folder: the same local files and generated encryption key.
    let started = start_in(pool.clone(), Store::Local, &[], data_dir.clone()).await;
    let owner = Api {
        base: started.server.url.clone(),
        ..owner
    };
    let other = Api {
        base: started.server.url.clone(),
        ..other
    };
    phone.api = owner.clone();
    let after_backup = phone.op(sync_common::adjust(&seeded.product, -2));
    let (status, _) = phone.push(std::slice::from_ref(&after_backup)).await;
    assert_eq!(status, 200);
    let (status, out) = other
        .post(
            "/shop/delete",
            json!({"password": "correct horse battery", "shop_name": "Test stall"}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    assert_ne!(snapshot(&pool).await, rows);
    started.server.stop().await;

    run_script(
        "restore",
        &["--yes", backup.to_str().unwrap()],
        &url,
        &data_dir,
    );

    // The same rows in every table, and the same objects.
    assert_same(&snapshot(&pool).await, &rows);
    let started = start_in(pool.clone(), Store::Local, &[], data_dir.clone()).await;
    assert_eq!(objects(&started.server.storage).await, files);
    let owner = Api {
        base: started.server.url.clone(),
        ..owner
    };
    let other = Api {
        base: started.server.url.clone(),
        ..other
    };
    phone.api = owner.clone();
    // The server works as before (the app role, the sealed details, the other shop).
    let (status, shop) = owner.get("/shop").await;
    assert_eq!((status, &shop["business"]["tax_id"]), (200, &json!(TAX_ID)));
    let (status, products) = other.get("/products").await;
    assert_eq!(status, 200, "{products}");
    assert_eq!(products["items"].as_array().unwrap().len(), 1, "{products}");
    assert_eq!(
        sync_common::on_hand(&owner, &seeded.product).await,
        on_hand_at_backup
    );

    // The phone's cursor is from before the restore: resync, then push what it holds.
    let (status, answer) = owner
        .get(&format!("/sync/pull?cursor={}", pulled.cursor))
        .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("resync_required"))
    );
    let mut fresh = sync_common::Pulled::default();
    fresh.drain(&owner, 500).await;
    let (status, answer) = phone.push(&[before_backup, after_backup]).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        sync_common::statuses(&answer),
        vec!["duplicate".to_owned(), "applied".to_owned()]
    );
    assert_eq!(
        sync_common::on_hand(&owner, &seeded.product).await,
        on_hand_at_backup - 2
    );
    started.server.stop().await;
    let _ = std::fs::remove_dir_all(&data_dir);
}

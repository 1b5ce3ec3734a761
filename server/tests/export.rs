//! GDPR export: the owner downloads one zip, read back here: the manifest lists every other
//! entry with its true size and SHA-256, the JSON and CSV hold the shop's rows (the
//! business details opened, no secret hashes), every version of every sliced file is there
//! byte for byte (from the local store and from S3), nothing of another shop is, and
//! sellers are refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod erasure_support;

use std::collections::BTreeMap;
use std::io::Read;

use common::Api;
use common::fixtures::seller_of;
use erasure_support::{PAYMENT_NOTES, Store, TAX_ID, seed, sha256_hex, start_with};
use serde_json::Value;
use sqlx::PgPool;

async fn download(api: &Api) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}/api/v1/export", api.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap()
}

/// Every entry of the zip: name -> bytes.
fn unzip(data: Vec<u8>) -> BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(data)).unwrap();
    let mut out = BTreeMap::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        let name = f.name().unwrap().to_string();
        assert!(
            out.insert(name.clone(), bytes).is_none(),
            "duplicate entry {name}"
        );
    }
    out
}

fn json_of(entries: &BTreeMap<String, Vec<u8>>, name: &str) -> Value {
    serde_json::from_slice(
        entries
            .get(name)
            .unwrap_or_else(|| panic!("{name} missing")),
    )
    .unwrap()
}

async fn export_case(pool: PgPool, store: Store) {
    let started = start_with(pool.clone(), store, &[]).await;
    let server = &started.server;
    let owner = Api::register(
        &server.url,
        &format!("o-{}@example.com", uuid::Uuid::now_v7()),
    )
    .await;
    let seeded = seed(&owner).await;
    let seller = seller_of(&owner).await;
    // Another shop, which must not appear.
    let other = Api::register(
        &server.url,
        &format!("x-{}@example.com", uuid::Uuid::now_v7()),
    )
    .await;
    let other_seeded = seed(&other).await;

    let r = download(&seller).await;
    assert_eq!(r.status(), 403);

    let r = download(&owner).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/zip");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"printstall-export-")
    );
    let entries = unzip(r.bytes().await.unwrap().to_vec());

    // The manifest lists every other entry, with its size and SHA-256.
    let manifest = json_of(&entries, "manifest.json");
    assert_eq!(manifest["format"], "printstall-export/1");
    assert_eq!(manifest["shop_id"], owner.shop_id.as_str());
    let listed: BTreeMap<String, &Value> = manifest["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["path"].as_str().unwrap().to_owned(), e))
        .collect();
    assert_eq!(listed.len() + 1, entries.len(), "{:?}", listed.keys());
    for (name, bytes) in &entries {
        if name == "manifest.json" {
            continue;
        }
        let e = listed
            .get(name)
            .unwrap_or_else(|| panic!("{name} not in the manifest"));
        assert_eq!(e["bytes"].as_u64().unwrap(), bytes.len() as u64, "{name}");
        assert_eq!(e["sha256"].as_str().unwrap(), sha256_hex(bytes), "{name}");
        if let Some(recorded) = e.get("recorded_sha256") {
            assert_eq!(recorded, &e["sha256"], "{name} changed since its upload");
        }
        assert!(!name.contains(".."), "{name}");
    }

    // JSON per entity; the shop with its business details opened.
    let shop = json_of(&entries, "data/shop.json");
    assert_eq!(shop["business"]["tax_id"], TAX_ID);
    assert_eq!(shop["business"]["payment_notes"], PAYMENT_NOTES);
    for table in [
        "product",
        "filament",
        "spool",
        "model",
        "model_variant",
        "printer",
        "print_job",
        "market_event",
        "sale",
        "sale_line",
        "stock_entry",
        "spool_usage",
        "sliced_file",
        "membership",
        "invite",
        "applied_op",
        "sync_cell",
        "file_upload",
    ] {
        let rows = json_of(&entries, &format!("data/{table}.json"));
        let n = rows.as_array().unwrap().len();
        let in_db: i64 = sqlx::query_scalar(&format!(
            "select count(*) from {table} where shop_id = $1::uuid"
        ))
        .bind(&owner.shop_id)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(n as i64, in_db, "{table}");
        assert_eq!(listed[&format!("data/{table}.json")]["rows"], n, "{table}");
        assert!(n > 0, "{table} is empty");
    }
    assert!(
        !listed.contains_key("data/product_search_trigram.json"),
        "the search index is not the shop's data"
    );
    let products = json_of(&entries, "data/product.json");
    assert_eq!(products[0]["id"], seeded.product.as_str());
    let user = json_of(&entries, "account/user.json");
    assert_eq!(user["id"], owner.user_id.as_str());
    assert!(user.get("password_hash").is_none());
    assert_eq!(
        json_of(&entries, "account/memberships.json")
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(
        !json_of(&entries, "account/sessions.json")
            .as_array()
            .unwrap()
            .is_empty()
    );

    // CSV for the ledgers and sales.
    let csv = String::from_utf8(entries["ledgers/stock_entries.csv"].clone()).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "id,at,product_id,quantity,reason,job_id,sale_id,event_id,user_id"
    );
    assert_eq!(lines.count(), 2, "{csv}"); // the sale and the production
    let sales = String::from_utf8(entries["sales/sales.csv"].clone()).unwrap();
    assert!(
        sales.lines().nth(1).unwrap().starts_with(&seeded.sale),
        "{sales}"
    );
    assert_eq!(
        String::from_utf8(entries["sales/sale_lines.csv"].clone())
            .unwrap()
            .lines()
            .count(),
        2
    );
    assert_eq!(
        String::from_utf8(entries["ledgers/spool_usage.csv"].clone())
            .unwrap()
            .lines()
            .count(),
        2
    );

    // Every version of the sliced file, byte for byte; thumbnails; the upload in progress.
    for (version, (name, bytes)) in seeded.files.iter().enumerate() {
        let path = format!("files/{}/v{}/{name}", seeded.variant, version + 1);
        assert_eq!(entries.get(&path), Some(bytes), "{path}");
        assert_eq!(listed[&path]["recorded_sha256"], sha256_hex(bytes));
    }
    assert!(
        entries.keys().any(|k| k.ends_with("thumbnail-512.png")),
        "{:?}",
        entries.keys()
    );
    let others: Vec<&String> = entries
        .keys()
        .filter(|k| k.starts_with("files/other/uploads/"))
        .collect();
    assert_eq!(others.len(), 1, "{:?}", entries.keys());
    assert_eq!(entries[others[0]], seeded.files[0].1);

    // Nothing of the other shop, and no secret hashes.
    for (name, bytes) in &entries {
        let text = String::from_utf8_lossy(bytes);
        for id in [
            &other.shop_id,
            &other_seeded.product,
            &other_seeded.variant,
            &other.user_id,
        ] {
            assert!(
                !text.contains(id.as_str()) && !name.contains(id.as_str()),
                "{name} holds {id}"
            );
        }
        for secret in ["password_hash", "code_hash", "token_hash", "$argon2"] {
            // The audit log names changed fields, secrets with the value `[redacted]`.
            if name.ends_with("audit_log.json") && secret.ends_with("_hash") {
                continue;
            }
            assert!(!text.contains(secret), "{name} holds {secret}");
        }
    }
    started.server.stop().await;
    let _ = std::fs::remove_dir_all(&started.data_dir);
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn the_owner_exports_everything_local_store(pool: PgPool) {
    export_case(pool, Store::Local).await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn the_owner_exports_everything_s3(pool: PgPool) {
    export_case(pool, Store::S3).await;
}

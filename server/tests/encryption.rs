//! The shop's business details are sealed in the application: the raw columns (and every
//! other table) hold no plaintext, sellers do not see the payment notes, sync cannot store
//! them in plaintext, a value moved to another shop does not open, and keys rotate (new key
//! seals, old keys open, `printstall rotate-keys` re-seals, a ring without the old key
//! fails clearly).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod erasure_support;
mod sync_common;

use common::Api;
use erasure_support::{ADDRESS, LEGAL_NAME, PAYMENT_NOTES, Store, TAX_ID, start_with};
use printstall_server::crypto::{KeyRing, KeySource, reseal_all};
use serde_json::json;
use sqlx::{PgPool, Row};

const OLD: &str = "old:1111111111111111111111111111111111111111111111111111111111111111";
const NEW: &str = "new:2222222222222222222222222222222222222222222222222222222222222222";
const NEWEST: &str = "newest:3333333333333333333333333333333333333333333333333333333333333333";

async fn set_business(api: &Api) -> serde_json::Value {
    let (status, shop) = api
        .call(
            reqwest::Method::PUT,
            "/shop/business",
            Some(json!({"legal_name": LEGAL_NAME, "tax_id": TAX_ID, "address": ADDRESS, "payment_notes": PAYMENT_NOTES})),
        )
        .await;
    assert_eq!(status, 200, "{shop}");
    shop
}

/// Every row of every table of the database as text, for "does a dump show it".
async fn whole_database_text(pool: &PgPool) -> String {
    let tables: Vec<String> = sqlx::query_scalar(
        r#"select table_name::text from information_schema.tables
           where table_schema = 'public' and table_type = 'BASE TABLE'"#,
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut all = String::new();
    for t in tables {
        let text: Option<String> =
            sqlx::query_scalar(&format!(r#"select string_agg(x::text, ' ') from "{t}" x"#))
                .fetch_one(pool)
                .await
                .unwrap();
        all.push_str(&text.unwrap_or_default());
    }
    all
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn business_details_are_sealed_at_rest_and_keys_rotate(pool: PgPool) {
    let started = start_with(
        pool.clone(),
        Store::Local,
        &[("PRINTSTALL_ENCRYPTION_KEYS", OLD)],
    )
    .await;
    let owner = Api::register(&started.server.url, "owner@example.com").await;
    let shop = set_business(&owner).await;
    assert_eq!(shop["business"]["tax_id"], TAX_ID);
    assert_eq!(shop["business"]["address"], ADDRESS);
    assert_eq!(shop["business"]["payment_notes"], PAYMENT_NOTES);
    let (_, read) = owner.get("/shop").await;
    assert_eq!(read["business"], shop["business"]);

    // The raw columns are sealed under the key `old`; no plaintext anywhere in the database.
    let shop_id = uuid::Uuid::parse_str(&owner.shop_id).unwrap();
    let raw =
        sqlx::query(r#"select legal_name, tax_id, address, payment_notes from shop where id = $1"#)
            .bind(shop_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    for column in ["legal_name", "tax_id", "address", "payment_notes"] {
        let v: String = raw.get(column);
        assert!(v.starts_with("enc:v1:old:"), "{column}: {v}");
    }
    let everything = whole_database_text(&pool).await;
    for plain in [
        TAX_ID,
        "Werkstattgasse",
        LEGAL_NAME,
        "DE02120300000000202051",
    ] {
        assert!(
            !everything.contains(plain),
            "{plain} is stored in plaintext"
        );
    }
    // The database refuses plaintext written by mistake.
    let refused = sqlx::query("update shop set tax_id = 'DE123' where id = $1")
        .bind(shop_id)
        .execute(&pool)
        .await;
    assert!(refused.is_err());

    // A seller sees the legal details (receipts) but not the payment notes, and cannot
    // change them; bad input changes nothing.
    let seller = common::fixtures::seller_of(&owner).await;
    let (_, seen) = seller.get("/shop").await;
    assert_eq!(seen["business"]["tax_id"], TAX_ID);
    assert!(seen["business"].get("payment_notes").is_none(), "{seen}");
    let (status, _) = seller
        .call(
            reqwest::Method::PUT,
            "/shop/business",
            Some(json!({"tax_id": "X"})),
        )
        .await;
    assert_eq!(status, 403);
    let (status, out) = owner
        .call(
            reqwest::Method::PUT,
            "/shop/business",
            Some(json!({"tax_id": "x".repeat(65)})),
        )
        .await;
    assert_eq!(
        (status, out["error"]["field"].as_str()),
        (422, Some("business.tax_id"))
    );
    let (status, _) = owner
        .call(
            reqwest::Method::PUT,
            "/shop/business",
            Some(json!({"tax_idd": "x"})),
        )
        .await;
    assert_eq!(status, 422);
    let (_, read) = owner.get("/shop").await;
    assert_eq!(read["business"]["tax_id"], TAX_ID);

    // Sync cannot set them (an op body is kept as it came, in plaintext).
    let mut device = sync_common::Device::new(&owner);
    let op = device.op(
        json!({"kind": "entity.set.v1", "entity": "shop", "id": owner.shop_id,
                             "fields": {"business": {"tax_id": "SYNC-PLAIN-TAX"}}}),
    );
    let (status, answer) = device.push(&[op]).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["results"][0]["status"], "rejected", "{answer}");
    assert!(!whole_database_text(&pool).await.contains("SYNC-PLAIN-TAX"));

    // A sealed value copied into another shop's row does not open there.
    let other = Api::register(&started.server.url, "other@example.com").await;
    sqlx::query("update shop set tax_id = (select tax_id from shop where id = $1) where id = $2")
        .bind(shop_id)
        .bind(uuid::Uuid::parse_str(&other.shop_id).unwrap())
        .execute(&pool)
        .await
        .unwrap();
    let (status, _) = other.get("/shop").await;
    assert_eq!(status, 500);
    sqlx::query("update shop set tax_id = null where id = $1")
        .bind(uuid::Uuid::parse_str(&other.shop_id).unwrap())
        .execute(&pool)
        .await
        .unwrap();
    started.server.stop().await;
    let _ = std::fs::remove_dir_all(&started.data_dir);

    // Rotation: `new` is added at the end; it seals new values, `old` still opens.
    let both = format!("{OLD},{NEW}");
    let started = start_with(
        pool.clone(),
        Store::Local,
        &[("PRINTSTALL_ENCRYPTION_KEYS", &both)],
    )
    .await;
    let owner = erasure_support::at(&owner, &started.server.url);
    let (status, read) = owner.get("/shop").await;
    assert_eq!((status, &read["business"]["tax_id"]), (200, &json!(TAX_ID)));
    started.server.stop().await;
    let _ = std::fs::remove_dir_all(&started.data_dir);
    // `printstall rotate-keys` (the real binary, on this test's database) re-seals them.
    let url = erasure_support::database_url_of(&pool).await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_printstall"))
        .arg("rotate-keys")
        .env("DATABASE_URL", &url)
        .env("PRINTSTALL_ENCRYPTION_KEYS", &both)
        .env("PRINTSTALL_DATA_DIR", &started.data_dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("4 value(s) sealed again under key `new`"),
        "{stdout}"
    );
    let raw =
        sqlx::query(r#"select legal_name, tax_id, address, payment_notes from shop where id = $1"#)
            .bind(shop_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    for column in ["legal_name", "tax_id", "address", "payment_notes"] {
        let v: String = raw.get(column);
        assert!(v.starts_with("enc:v1:new:"), "{column}: {v}");
    }
    // Only `new` now: the details open; a ring without `new` fails clearly.
    let started = start_with(
        pool.clone(),
        Store::Local,
        &[("PRINTSTALL_ENCRYPTION_KEYS", NEW)],
    )
    .await;
    let owner = erasure_support::at(&owner, &started.server.url);
    let (status, read) = owner.get("/shop").await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["business"]["address"], ADDRESS);
    assert_eq!(read["business"]["payment_notes"], PAYMENT_NOTES);
    started.server.stop().await;
    let _ = std::fs::remove_dir_all(&started.data_dir);
    let old_only = KeyRing::parse(OLD, KeySource::Configured).unwrap();
    let sealed: String = sqlx::query_scalar("select tax_id from shop where id = $1")
        .bind(shop_id)
        .fetch_one(&pool)
        .await
        .unwrap();
    let err = old_only
        .open(
            &sealed,
            &printstall_server::crypto::shop_context(shop_id, "tax_id"),
        )
        .unwrap_err();
    assert!(err.to_string().contains("`new`"), "{err}");
    // Re-sealing under the current key changes nothing.
    let new_only = KeyRing::parse(NEW, KeySource::Configured).unwrap();
    assert_eq!(reseal_all(&pool, &new_only).await.unwrap().values, 0);
    // A value that does not open (moved from another shop) is reported, its shop left as it
    // is, and the other shops are still re-sealed.
    let other_id = uuid::Uuid::parse_str(&other.shop_id).unwrap();
    sqlx::query("update shop set tax_id = (select tax_id from shop where id = $1) where id = $2")
        .bind(shop_id)
        .bind(other_id)
        .execute(&pool)
        .await
        .unwrap();
    let newest = KeyRing::parse(&format!("{NEW},{NEWEST}"), KeySource::Configured).unwrap();
    let done = reseal_all(&pool, &newest).await.unwrap();
    assert_eq!(done.values, 4, "{done:?}");
    assert_eq!(done.failed.len(), 1, "{done:?}");
    assert_eq!(done.failed[0].0, other_id);
}

/// With no key configured, the server generates one into its data folder, says so, keeps
/// using it after a restart, and seals with it.
#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn the_embedded_default_generates_and_keeps_a_key(pool: PgPool) {
    let started = start_with(pool.clone(), Store::Local, &[]).await;
    let key_file = started.data_dir.join(printstall_server::crypto::KEY_FILE);
    let first = std::fs::read_to_string(&key_file).unwrap();
    let owner = Api::register(&started.server.url, "owner@example.com").await;
    set_business(&owner).await;
    started.server.stop().await;
    // The same folder again: the key file is reused and the details still open.
    let settings =
        common::settings_with(&[("PRINTSTALL_DATA_DIR", started.data_dir.to_str().unwrap())]);
    let ring = KeyRing::load(&settings).unwrap();
    assert!(
        ring.describe().contains("encryption.keys"),
        "{}",
        ring.describe()
    );
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), first);
    let sealed: String = sqlx::query_scalar("select tax_id from shop where id = $1")
        .bind(uuid::Uuid::parse_str(&owner.shop_id).unwrap())
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(sealed.starts_with(&format!("enc:v1:{}:", ring.current_id())));
    let shop_id = uuid::Uuid::parse_str(&owner.shop_id).unwrap();
    assert_eq!(
        ring.open(
            &sealed,
            &printstall_server::crypto::shop_context(shop_id, "tax_id")
        )
        .unwrap(),
        TAX_ID
    );
    let _ = std::fs::remove_dir_all(&started.data_dir);
}

//! The right to erasure: an owner deletes the shop (nothing of it is left in any table with
//! a `shop_id` column, nor under its prefix in the file store, local or S3; another shop is
//! untouched), and a user deletes their account (gone with its sessions and devices; what
//! the shop keeps for its books stays, with every reference to the person set to null).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod erasure_support;
mod sync_common;

use common::Api;
use common::fixtures::seller_of;
use erasure_support::{Store, row_count, seed, shop_objects, shop_rows, shop_tables, start_with};
use serde_json::{Value, json};
use sqlx::{Connection, PgPool};

const PASSWORD: &str = "correct horse battery";

async fn refresh_status(api: &Api) -> u16 {
    reqwest::Client::new()
        .post(format!("{}/api/v1/auth/refresh", api.base))
        .header("cookie", format!("printstall_refresh={}", api.refresh))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn sign_in_status(base: &str, email: &str, password: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/sign-in"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Every (table, column) that references `app_user (id)`.
async fn user_references(pool: &PgPool) -> Vec<(String, String)> {
    sqlx::query_as(
        r#"select cl.relname::text, a.attname::text
           from pg_constraint c
           join pg_class cl on cl.oid = c.conrelid
           join pg_attribute a on a.attrelid = c.conrelid and a.attnum = any(c.conkey)
           where c.contype = 'f' and c.confrelid = 'app_user'::regclass"#,
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn everything_as_text(pool: &PgPool) -> String {
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

async fn erase_a_shop(pool: PgPool, store: Store) {
    let started = start_with(pool.clone(), store, &[]).await;
    let server = &started.server;
    let a = Api::register(
        &server.url,
        &format!("a-{}@example.com", uuid::Uuid::now_v7()),
    )
    .await;
    seed(&a).await;
    let seller = seller_of(&a).await;
    let (_, products) = seller.get("/products").await;
    let product = products["items"][0]["id"].as_str().unwrap().to_owned();
    let mut phone = sync_common::Device::new(&seller);
    let op = phone.op(sync_common::adjust(&product, 2));
    let (status, answer) = phone.push(&[op]).await;
    assert_eq!(
        (status, sync_common::statuses(&answer)),
        (200, vec!["applied".to_owned()])
    );
    // Another shop: must come through untouched.
    let b = Api::register(
        &server.url,
        &format!("b-{}@example.com", uuid::Uuid::now_v7()),
    )
    .await;
    seed(&b).await;
    let b_rows = shop_rows(&pool, &b.shop_id).await;
    let b_objects = shop_objects(&server.storage, &b.shop_id).await;
    let a_before = shop_rows(&pool, &a.shop_id).await;
    assert!(row_count(&a_before) > 30, "{a_before:?}");
    assert!(shop_objects(&server.storage, &a.shop_id).await.len() >= 4);

    // Refusals change nothing: a seller, a wrong password, a wrong name, a bad body.
    for (who, body, expected) in [
        (
            &seller,
            json!({"password": "seller password", "shop_name": "Test stall"}),
            403,
        ),
        (
            &a,
            json!({"password": "wrong password", "shop_name": "Test stall"}),
            403,
        ),
        (
            &a,
            json!({"password": PASSWORD, "shop_name": "Another stall"}),
            422,
        ),
        (&a, json!({"password": PASSWORD}), 422),
    ] {
        let (status, out) = who.post("/shop/delete", body).await;
        assert_eq!(status, expected, "{out}");
    }
    assert_eq!(shop_rows(&pool, &a.shop_id).await, a_before);

    // Export first (what a leaving owner does), then erase.
    let export = reqwest::Client::new()
        .get(format!("{}/api/v1/export", a.base))
        .bearer_auth(&a.token)
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), 200);
    let zip = export.bytes().await.unwrap();
    let archive = zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec())).unwrap();
    assert!(archive.index_for_name("manifest.json").is_some());
    let (status, erased) = a
        .post(
            "/shop/delete",
            json!({"password": PASSWORD, "shop_name": " test STALL "}),
        )
        .await;
    assert_eq!(status, 200, "{erased}");
    assert_eq!(erased["shops"], json!([a.shop_id]));
    assert_eq!(erased["files_pending"], false);
    assert!(erased["objects"].as_u64().unwrap() >= 4, "{erased}");

    // Nothing of the shop in any table with a shop_id column, nor the shop row.
    let tables = shop_tables(&pool).await;
    assert!(tables.len() >= 20, "{tables:?}");
    let after = shop_rows(&pool, &a.shop_id).await;
    for (table, rows) in &after {
        assert_eq!(
            rows,
            &json!([]),
            "{table} still holds rows of the erased shop"
        );
    }
    // Nor in the file store (every version, thumbnails and the upload in progress).
    assert_eq!(shop_objects(&server.storage, &a.shop_id).await, vec![]);
    let pending: i64 = sqlx::query_scalar("select count(*) from storage_purge")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(pending, 0);
    // Sessions are gone; the old access token finds nothing and can write nothing.
    assert_eq!(refresh_status(&a).await, 401);
    assert_eq!(refresh_status(&seller).await, 401);
    // Its session ended with the shop, so the token is refused outright.
    let (status, _) = a.get("/shop").await;
    assert_eq!(status, 401);
    let (status, _) = a
        .post(
            "/products",
            json!({"sku": "GHOST", "name": "Ghost", "price": 1}),
        )
        .await;
    assert!(status >= 400);
    let op = phone.op(sync_common::adjust(&product, 1));
    let (status, _) = phone.push(&[op]).await;
    assert!(status >= 400);
    for (table, rows) in shop_rows(&pool, &a.shop_id).await {
        assert_eq!(rows, json!([]), "{table} got rows after the erasure");
    }
    // The other shop is exactly as it was.
    assert_eq!(shop_rows(&pool, &b.shop_id).await, b_rows);
    assert_eq!(shop_objects(&server.storage, &b.shop_id).await, b_objects);
    let (status, _) = b.get("/products").await;
    assert_eq!(status, 200);

    // The owner's account stays (it could join another shop) but has no shop to sign in
    // to; it can still be deleted with its email and password.
    let email: String = sqlx::query_scalar("select email from app_user where id = $1::uuid")
        .bind(&a.user_id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(sign_in_status(&server.url, &email, PASSWORD).await, 403);
    let anonymous = reqwest::Client::new();
    let r = anonymous
        .post(format!("{}/api/v1/account/delete", server.url))
        .json(&json!({"email": email, "password": "wrong password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = anonymous
        .post(format!("{}/api/v1/account/delete", server.url))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let out: Value = r.json().await.unwrap();
    assert_eq!(out["account_deleted"], true);
    let left: i64 = sqlx::query_scalar("select count(*) from app_user where id = $1::uuid")
        .bind(&a.user_id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
    server_stop(started).await;
}

async fn server_stop(started: erasure_support::Started) {
    started.server.stop().await;
    let _ = std::fs::remove_dir_all(&started.data_dir);
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn erasing_a_shop_leaves_nothing_local_store(pool: PgPool) {
    erase_a_shop(pool, Store::Local).await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn erasing_a_shop_leaves_nothing_s3(pool: PgPool) {
    erase_a_shop(pool, Store::S3).await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn deleting_an_account_anonymises_what_the_shop_keeps(pool: PgPool) {
    let started = start_with(pool.clone(), Store::Local, &[]).await;
    let server = &started.server;
    let owner = Api::register(&server.url, "owner@example.com").await;
    let seeded = seed(&owner).await;
    let seller = seller_of(&owner).await;
    let seller_email = format!("seller-{}@example.com", owner.shop_id);
    // The seller's traces: a sale, a stock adjustment, a spool use, a synced op.
    let (status, out) = seller
        .post(
            "/sales",
            json!({"lines": [{"product_id": seeded.product, "quantity": 2, "unit_price": 1500}], "payment_method": "card"}),
        )
        .await;
    assert_eq!(status, 201, "{out}");
    let (status, out) = seller
        .post(
            &format!("/products/{}/adjust", seeded.product),
            json!({"quantity": -1, "reason": "damaged"}),
        )
        .await;
    assert!(status < 300, "{out}");
    let (status, out) = seller
        .post(
            &format!("/spools/{}/use", seeded.spool),
            json!({"used_cg": 100, "reason": "test"}),
        )
        .await;
    assert!(status < 300, "{out}");
    let mut phone = sync_common::Device::new(&seller);
    let op = phone.op(sync_common::adjust(&seeded.product, 3));
    let (status, _) = phone.push(&[op]).await;
    assert_eq!(status, 200);
    let before = shop_rows(&pool, &owner.shop_id).await;
    let (_, stock_before) = owner.get(&format!("/products/{}", seeded.product)).await;
    assert!(everything_as_text(&pool).await.contains(&seller.user_id));

    // Refusals: no password, a wrong one, no token and no email.
    let (status, _) = seller.post("/account/delete", json!({})).await;
    assert_eq!(status, 422);
    let (status, _) = seller
        .post("/account/delete", json!({"password": "wrong"}))
        .await;
    assert_eq!(status, 403);
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/account/delete", server.url))
        .json(&json!({"password": "seller password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(shop_rows(&pool, &owner.shop_id).await, before);

    let (status, out) = seller
        .post("/account/delete", json!({"password": "seller password"}))
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["account_deleted"], true);
    assert_eq!(out["shops"], json!([]));
    assert!(out["anonymised"].as_u64().unwrap() >= 4, "{out}");

    // The person is gone: the account, memberships, sessions, devices; no column anywhere
    // names them, and their id and email appear nowhere in the database.
    for (table, column) in user_references(&pool).await {
        let n: i64 = sqlx::query_scalar(&format!(
            r#"select count(*) from "{table}" where "{column}" = $1::uuid"#
        ))
        .bind(&seller.user_id)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(n, 0, "{table}.{column} still names the deleted user");
    }
    let all = everything_as_text(&pool).await;
    assert!(
        !all.contains(&seller.user_id),
        "the user id is still stored"
    );
    assert!(!all.contains(&seller_email), "the email is still stored");
    assert_eq!(refresh_status(&seller).await, 401);
    assert_eq!(
        sign_in_status(&server.url, &seller_email, "seller password").await,
        401
    );

    // The books are whole: the same rows (the sale, the ledgers, the op log) minus the
    // person's membership, device and sessions, and the same stock.
    let after = shop_rows(&pool, &owner.shop_id).await;
    for table in [
        "sale",
        "sale_line",
        "stock_entry",
        "spool_usage",
        "applied_op",
        "product",
    ] {
        assert_eq!(
            after[table].as_array().unwrap().len(),
            before[table].as_array().unwrap().len(),
            "{table}"
        );
    }
    assert_eq!(after["membership"].as_array().unwrap().len(), 1);
    let (_, stock_after) = owner.get(&format!("/products/{}", seeded.product)).await;
    assert_eq!(stock_after["stock"], stock_before["stock"]);
    let (_, sales) = owner.get("/sales").await;
    assert_eq!(sales["items"].as_array().unwrap().len(), 2, "{sales}");

    // An owner is refused unless the owned shops go too; then everything goes.
    let (status, out) = owner
        .post("/account/delete", json!({"password": PASSWORD}))
        .await;
    assert_eq!(status, 409, "{out}");
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&owner.shop_id)
    );
    let (status, out) = owner
        .post(
            "/account/delete",
            json!({"password": PASSWORD, "delete_owned_shops": true}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["shops"], json!([owner.shop_id]));
    for (table, rows) in shop_rows(&pool, &owner.shop_id).await {
        assert_eq!(rows, json!([]), "{table}");
    }
    assert_eq!(shop_objects(&server.storage, &owner.shop_id).await, vec![]);
    let users: i64 = sqlx::query_scalar("select count(*) from app_user")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(users, 0);
    server_stop(started).await;
}

/// Files an erasure could not delete (the store was down) are deleted by the retry that
/// `serve` runs at start, and the retry forgets the prefix once the store holds nothing.
#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn leftover_files_of_an_erased_shop_are_deleted_at_the_next_start(pool: PgPool) {
    let started = start_with(pool.clone(), Store::Local, &[]).await;
    let storage = started.server.storage.clone();
    let shop = uuid::Uuid::now_v7();
    let prefix = printstall_server::storage::ObjectKey::shop_prefix(shop);
    for name in ["uploads/a", "uploads/a.thumb-128.png", "uploads/b"] {
        let key =
            printstall_server::storage::ObjectKey::parse(&format!("{prefix}/{name}")).unwrap();
        storage
            .put(&key, bytes::Bytes::from_static(b"left over"))
            .await
            .unwrap();
    }
    sqlx::query("insert into storage_purge (prefix) values ($1)")
        .bind(prefix.as_str())
        .execute(&pool)
        .await
        .unwrap();
    let deleted = printstall_server::erase::purge_pending(&pool, &storage)
        .await
        .unwrap();
    assert_eq!(deleted, 3);
    assert_eq!(shop_objects(&storage, &shop.to_string()).await, vec![]);
    let left: i64 = sqlx::query_scalar("select count(*) from storage_purge")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
    // The app role cannot see or write the purge list.
    let mut conn = sqlx::PgConnection::connect_with(
        &pool
            .connect_options()
            .as_ref()
            .clone()
            .username("printstall_app"),
    )
    .await
    .unwrap();
    assert!(
        sqlx::query("select count(*) from storage_purge")
            .execute(&mut conn)
            .await
            .is_err()
    );
    server_stop(started).await;
}

//! Row-level security, proven through raw SQL as the app role `printstall_app`: without
//! `app.shop_id`, or with another shop's id, a query sees and changes nothing; ledgers are
//! append-only for the app role.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sqlx::{Connection, Executor, PgConnection, PgPool, Row};
use uuid::Uuid;

const SHOP_TABLES: &[&str] = &[
    "shop",
    "membership",
    "model",
    "filament",
    "sliced_file",
    "file_upload",
    "model_file",
    "model_variant",
    "variant_filament",
    "spool",
    "printer",
    "market_event",
    "print_job",
    "spool_usage",
    "product",
    "event_stock_plan",
    "sale",
    "sale_line",
    "stock_entry",
    "invite",
    "audit_log",
    "shop_digest",
    "printer_token",
    "spoolman_id",
    "spoolman_carry",
];

struct Seeded {
    shop_a: Uuid,
    user_a: Uuid,
    shop_b: Uuid,
    product_a: Uuid,
}

/// Two shops, each with an owner, a product with a stock entry, a model and an invite; as the
/// owner connection (which creates them with the settings made for each shop).
async fn seed(pool: &PgPool) -> Seeded {
    let mut ids = Vec::new();
    for name in ["a", "b"] {
        let shop = Uuid::now_v7();
        let user = Uuid::now_v7();
        let product = Uuid::now_v7();
        let mut tx = pool.begin().await.unwrap();
        sqlx::query(
            "select set_config('app.shop_id', $1, true), set_config('app.user_id', $2, true)",
        )
        .bind(shop.to_string())
        .bind(user.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
        sqlx::query("insert into app_user (id, email, display_name, password_hash) values ($1, $2, 'X', 'x')")
            .bind(user)
            .bind(format!("{name}@example.com"))
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query(
            "insert into shop (id, name, currency, time_zone) values ($1, $2, 'EUR', 'UTC')",
        )
        .bind(shop)
        .bind(format!("Shop {name}"))
        .execute(&mut *tx)
        .await
        .unwrap();
        sqlx::query("insert into membership (shop_id, user_id, role) values ($1, $2, 'owner')")
            .bind(shop)
            .bind(user)
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("insert into product (id, shop_id, sku, name, price, on_hand) values ($1, $2, 'SKU-1', 'Rex', 1500, 3)")
            .bind(product)
            .bind(shop)
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("insert into stock_entry (id, shop_id, product_id, quantity, reason, user_id) values ($1, $2, $3, 3, 'produced', $4)")
            .bind(Uuid::now_v7())
            .bind(shop)
            .bind(product)
            .bind(user)
            .execute(&mut *tx)
            .await
            .unwrap();
        let model = Uuid::now_v7();
        sqlx::query("insert into model (id, shop_id, name, source_site, licence_name, licence_allows_selling) values ($1, $2, 'Rex', 'own', 'own', true)")
            .bind(model)
            .bind(shop)
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("insert into model_file (id, shop_id, model_id, version, current, storage_key, file_name, size_bytes, sha256) values ($1, $2, $3, 1, true, 'shops/x/uploads/y', 'rex.stl', 84, repeat('0', 64))")
            .bind(Uuid::now_v7())
            .bind(shop)
            .bind(model)
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("insert into shop_digest (shop_id, enabled) values ($1, true)")
            .bind(shop)
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("insert into invite (id, shop_id, code_hash, created_by, expires_at) values ($1, $2, $3, $4, now() + interval '1 day')")
            .bind(Uuid::now_v7())
            .bind(shop)
            .bind(format!("hash-{name}"))
            .bind(user)
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("insert into printer_token (id, shop_id, name, token_hash, created_by) values ($1, $2, 'MK4S', $3, $4)")
            .bind(Uuid::now_v7())
            .bind(shop)
            .bind(format!("token-hash-{name}"))
            .bind(user)
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("insert into spoolman_id (shop_id, kind, num, vendor_key) values ($1, 'vendor', 1, 'prusament')")
            .bind(shop)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        ids.push((shop, user, product));
    }
    Seeded {
        shop_a: ids[0].0,
        user_a: ids[0].1,
        shop_b: ids[1].0,
        product_a: ids[0].2,
    }
}

async fn app_connection(pool: &PgPool) -> PgConnection {
    let options = pool
        .connect_options()
        .as_ref()
        .clone()
        .username(printstall_server::tenancy::APP_ROLE);
    PgConnection::connect_with(&options).await.unwrap()
}

async fn count(conn: &mut PgConnection, table: &str) -> i64 {
    sqlx::query(&format!("select count(*) from {table}"))
        .fetch_one(&mut *conn)
        .await
        .unwrap()
        .get(0)
}

async fn set(conn: &mut PgConnection, shop: Uuid, user: Uuid) {
    sqlx::query("select set_config('app.shop_id', $1, true), set_config('app.user_id', $2, true)")
        .bind(shop.to_string())
        .bind(user.to_string())
        .execute(&mut *conn)
        .await
        .unwrap();
}

fn sqlstate(e: &sqlx::Error) -> String {
    e.as_database_error()
        .and_then(|d| d.code().map(|c| c.into_owned()))
        .unwrap_or_default()
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn the_app_role_is_not_an_owner_and_cannot_bypass(pool: PgPool) {
    let mut conn = app_connection(&pool).await;
    let row = sqlx::query("select current_user::text, rolsuper, rolbypassrls from pg_roles where rolname = current_user")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>(0), "printstall_app");
    assert!(!row.get::<bool, _>(1) && !row.get::<bool, _>(2));
    for t in SHOP_TABLES {
        let forced: (bool, bool, String) = sqlx::query_as(
            "select relrowsecurity, relforcerowsecurity, pg_get_userbyid(relowner)::text from pg_class where relname = $1 and relkind = 'r'",
        )
        .bind(t)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert!(forced.0, "{t}: row-level security is not enabled");
        assert!(
            forced.1 || *t == "invite" || *t == "printer_token",
            "{t}: row-level security is not forced"
        );
        assert_ne!(forced.2, "printstall_app", "{t} is owned by the app role");
    }
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn without_the_setting_nothing_is_seen_or_changed(pool: PgPool) {
    let s = seed(&pool).await;
    let mut conn = app_connection(&pool).await;
    for t in SHOP_TABLES {
        assert_eq!(
            count(&mut conn, t).await,
            0,
            "{t} is visible without app.shop_id"
        );
    }
    assert_eq!(count(&mut conn, "app_user").await, 0);
    let updated = conn
        .execute(sqlx::query("update product set name = 'stolen'"))
        .await
        .unwrap();
    assert_eq!(updated.rows_affected(), 0);
    let deleted = conn
        .execute(sqlx::query("delete from model"))
        .await
        .unwrap();
    assert_eq!(deleted.rows_affected(), 0);
    let err = sqlx::query(
        "insert into product (id, shop_id, sku, name, price) values ($1, $2, 'X', 'X', 1)",
    )
    .bind(Uuid::now_v7())
    .bind(s.shop_a)
    .execute(&mut conn)
    .await
    .unwrap_err();
    assert_eq!(sqlstate(&err), "42501", "insert without the setting: {err}");

    // A setting made for one transaction is gone after it (it resets to '', not NULL).
    let mut tx = conn.begin().await.unwrap();
    set(&mut tx, s.shop_a, s.user_a).await;
    assert_eq!(count(&mut tx, "product").await, 1);
    tx.commit().await.unwrap();
    assert_eq!(count(&mut conn, "product").await, 0);

    // Untouched, as the owner sees it.
    let name: String = sqlx::query_scalar("select name from product where id = $1")
        .bind(s.product_a)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(name, "Rex");
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn another_shops_id_sees_and_changes_nothing_of_this_shop(pool: PgPool) {
    let s = seed(&pool).await;
    let mut conn = app_connection(&pool).await;
    let mut tx = conn.begin().await.unwrap();
    // Shop B's setting, with shop A's user: still only shop B's rows.
    set(&mut tx, s.shop_b, Uuid::now_v7()).await;
    let shops: Vec<Uuid> = sqlx::query_scalar("select id from shop")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(shops, vec![s.shop_b]);
    let seen: i64 = sqlx::query_scalar("select count(*) from product where id = $1")
        .bind(s.product_a)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(seen, 0);
    let updated = sqlx::query("update product set on_hand = 0 where id = $1")
        .bind(s.product_a)
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(updated.rows_affected(), 0);
    let updated = sqlx::query("update shop set name = 'mine' where id = $1")
        .bind(s.shop_a)
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(updated.rows_affected(), 0);
    for t in SHOP_TABLES {
        let foreign: i64 = sqlx::query_scalar(&format!(
            "select count(*) from {t} where {} = $1",
            if *t == "shop" { "id" } else { "shop_id" }
        ))
        .bind(s.shop_a)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        assert_eq!(foreign, 0, "{t}: shop B sees shop A's rows");
    }
    // Writing a row for shop A under shop B's setting fails the policy's check.
    let err = sqlx::query("insert into stock_entry (id, shop_id, product_id, quantity, reason) values ($1, $2, $3, 1, 'adjusted')")
        .bind(Uuid::now_v7())
        .bind(s.shop_a)
        .bind(s.product_a)
        .execute(&mut *tx)
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "42501", "{err}");
    tx.rollback().await.unwrap();

    // Shop B cannot point its own rows at shop A's product either (composite foreign keys).
    let mut tx = conn.begin().await.unwrap();
    set(&mut tx, s.shop_b, Uuid::now_v7()).await;
    let err = sqlx::query("insert into stock_entry (id, shop_id, product_id, quantity, reason) values ($1, $2, $3, 1, 'adjusted')")
        .bind(Uuid::now_v7())
        .bind(s.shop_b)
        .bind(s.product_a)
        .execute(&mut *tx)
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "23503", "{err}");
    tx.rollback().await.unwrap();
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn ledgers_are_append_only_for_the_app_role(pool: PgPool) {
    let s = seed(&pool).await;
    let mut conn = app_connection(&pool).await;
    for statement in [
        "update stock_entry set quantity = 100",
        "delete from stock_entry",
        "update spool_usage set used_cg = 0",
        "delete from spool_usage",
        "update sale_line set quantity = 1",
        "delete from sale_line",
        "delete from sale",
        "update sale set total = 0",
        "select count(*) from refresh_token",
        "select count(*) from password_reset",
        "select count(*) from external_identity",
    ] {
        let mut tx = conn.begin().await.unwrap();
        set(&mut tx, s.shop_a, s.user_a).await;
        let err = sqlx::query(statement).execute(&mut *tx).await.unwrap_err();
        assert_eq!(sqlstate(&err), "42501", "{statement}: {err}");
        tx.rollback().await.unwrap();
    }
    // Appending is allowed, within the shop.
    let mut tx = conn.begin().await.unwrap();
    set(&mut tx, s.shop_a, s.user_a).await;
    sqlx::query("insert into stock_entry (id, shop_id, product_id, quantity, reason, user_id) values ($1, $2, $3, -1, 'adjusted', $4)")
        .bind(Uuid::now_v7())
        .bind(s.shop_a)
        .bind(s.product_a)
        .bind(s.user_a)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

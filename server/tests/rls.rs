//! Row-level security, proven through raw SQL as the app role `printstall_app`: without
//! `app.shop_id`, or with another shop's id, a query sees and changes nothing; ledgers are
//! append-only for the app role.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::app_connection;

use sqlx::{Connection, Executor, PgConnection, PgPool, Row};
use uuid::Uuid;

/// Shop-owned tables whose rows every role but the app role may read without a setting:
/// `printstall digest` lists the shops that asked for the digest on the owner connection
/// (migration 0220, policy `digest_sender_reads_all`; read only).
const OWNER_READS_ALL: &[&str] = &["shop_digest"];

/// Shop-owned tables whose row-level security may be enabled but not forced. Empty: every
/// table with a `shop_id` column is forced (migration 0430 forced the last three, `invite`,
/// `printer_token` and `refresh_token`). A table added here needs its reason in its
/// migration and in README's "Trust and operations".
const NOT_FORCED: &[&str] = &[];

/// Policies on shop-owned tables that do not filter on `app_shop_id()`: each admits only
/// rows the transaction names otherwise, and (but membership's) never for the app role.
const OTHER_POLICIES: &[(&str, &str)] = &[
    // A user's own memberships, to list their shops.
    ("membership", "shop_isolation"),
    // `printstall digest` lists every shop's setting on the owner connection.
    ("shop_digest", "digest_sender_reads_all"),
    // The sign-in lookups by a secret's hash, and a person's own rows (migration 0430).
    ("invite", "named_by_owner"),
    ("printer_token", "named_by_owner"),
    ("refresh_token", "named_by_owner"),
];

/// Every shop-owned table: `shop` itself and each base table of the schema with a `shop_id`
/// column, from information_schema (so a table added later is covered without an edit).
async fn shop_tables(pool: &PgPool) -> Vec<String> {
    let mut tables: Vec<String> = sqlx::query_scalar(
        r#"select c.table_name::text
           from information_schema.columns c
           join information_schema.tables t
             on t.table_schema = c.table_schema and t.table_name = c.table_name
           where c.table_schema = current_schema() and c.column_name = 'shop_id'
             and t.table_type = 'BASE TABLE'
           order by 1"#,
    )
    .fetch_all(pool)
    .await
    .unwrap();
    tables.insert(0, "shop".to_owned());
    // The derivation found what it must (a sanity check, not the list).
    for known in [
        "product",
        "membership",
        "device",
        "shop_sync",
        "applied_op",
        "sync_cell",
        "invite",
        "printer_token",
        "refresh_token",
        "audit_log",
    ] {
        assert!(
            tables.iter().any(|t| t == known),
            "{known} missing from {tables:?}"
        );
    }
    tables
}

/// Tables [`seed`] puts a row of each shop in.
const SEEDED: &[&str] = &[
    "shop",
    "membership",
    "product",
    "stock_entry",
    "model",
    "model_file",
    "shop_digest",
    "invite",
    "printer_token",
    "spoolman_id",
    "device",
    "shop_sync",
    "applied_op",
    "sync_cell",
    "refresh_token",
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
        // The sync tables and a session.
        let device = Uuid::now_v7();
        sqlx::query("insert into device (id, shop_id, user_id) values ($1, $2, $3)")
            .bind(device)
            .bind(shop)
            .bind(user)
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("insert into shop_sync (shop_id, version) values ($1, 1)")
            .bind(shop)
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("insert into applied_op (op_id, shop_id, device_id, user_id, client_seq, body, outcome, result, version) values ($1, $2, $3, $4, 1, '{}', 'applied', '{}', 1)")
            .bind(Uuid::now_v7())
            .bind(shop)
            .bind(device)
            .bind(user)
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("insert into sync_cell (shop_id, kind, id, cell, version) values ($1, 'product', $2, '{}', 1)")
            .bind(shop)
            .bind(product)
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("insert into refresh_token (id, family_id, user_id, shop_id, token_hash, expires_at) values ($1, $2, $3, $4, $5, now() + interval '1 day')")
            .bind(Uuid::now_v7())
            .bind(Uuid::now_v7())
            .bind(user)
            .bind(shop)
            .bind(format!("refresh-hash-{name}"))
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

async fn count(conn: &mut PgConnection, table: &str) -> i64 {
    visible(conn, &format!("select count(*) from {table}"), None).await
}

/// The count `sql` gives, in a savepoint; a table the role may not read at all (42501, e.g.
/// `refresh_token` for the app role) shows nothing: 0.
async fn visible(conn: &mut PgConnection, sql: &str, bind: Option<Uuid>) -> i64 {
    let mut sp = conn.begin().await.unwrap();
    let mut q = sqlx::query_scalar::<_, i64>(sql);
    if let Some(b) = bind {
        q = q.bind(b);
    }
    let out = match q.fetch_one(&mut *sp).await {
        Ok(n) => n,
        Err(e) if sqlstate(&e) == "42501" => 0,
        Err(e) => panic!("{sql}: {e}"),
    };
    sp.rollback().await.unwrap();
    out
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
    let tables = shop_tables(&pool).await;
    for t in &tables {
        let forced: (bool, bool, String) = sqlx::query_as(
            "select relrowsecurity, relforcerowsecurity, pg_get_userbyid(relowner)::text from pg_class where relname = $1 and relkind = 'r'",
        )
        .bind(t)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert!(forced.0, "{t}: row-level security is not enabled");
        assert!(
            forced.1 || NOT_FORCED.contains(&t.as_str()),
            "{t}: row-level security is not forced"
        );
        assert_ne!(forced.2, "printstall_app", "{t} is owned by the app role");
        // Every policy filters on the transaction's shop, or is one of the few known others.
        let policies: Vec<(String, String)> = sqlx::query_as(
            "select policyname::text, coalesce(qual, with_check, '') from pg_policies where schemaname = current_schema() and tablename = $1",
        )
        .bind(t)
        .fetch_all(&pool)
        .await
        .unwrap();
        assert!(!policies.is_empty(), "{t} has no policy");
        for (name, qual) in policies {
            let known = OTHER_POLICIES.contains(&(t.as_str(), name.as_str()));
            assert!(
                known || (qual.contains("app_shop_id()") && !qual.contains(" OR ")),
                "{t}: policy {name} does not filter on app_shop_id() alone: {qual}"
            );
            if known && name != "shop_isolation" {
                assert!(
                    qual.contains("<> 'printstall_app'"),
                    "{t}: policy {name} admits the app role: {qual}"
                );
            }
        }
    }
    for t in NOT_FORCED {
        assert!(tables.iter().any(|x| x == t), "{t} is no shop table");
    }
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn without_the_setting_nothing_is_seen_or_changed(pool: PgPool) {
    let s = seed(&pool).await;
    let mut conn = app_connection(&pool).await;
    let tables = shop_tables(&pool).await;
    for t in &tables {
        assert_eq!(
            count(&mut conn, t).await,
            0,
            "{t} is visible without app.shop_id"
        );
    }
    assert_eq!(count(&mut conn, "app_user").await, 0);
    // The zeros above are row-level security's: the owner sees the seeded rows.
    for t in SEEDED {
        let n: i64 = sqlx::query_scalar(&format!("select count(*) from {t}"))
            .fetch_one(&pool)
            .await
            .unwrap();
        assert!(n >= 2, "{t}: the seed made {n} rows");
    }
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
    for t in shop_tables(&pool).await {
        let sql = format!(
            "select count(*) from {t} where {} = $1",
            if t == "shop" { "id" } else { "shop_id" }
        );
        let foreign = visible(&mut tx, &sql, Some(s.shop_a)).await;
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

/// A role that owns the tables but is not a superuser (a managed PostgreSQL's owner) is
/// bound by FORCE too: without settings it sees no shop's rows, and the owner connection's
/// lookups before any shop is known find exactly the row whose secret hash they name, or
/// the rows of the user they name (migration 0430).
#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn forced_tables_bind_an_owner_that_is_not_a_superuser(pool: PgPool) {
    let s = seed(&pool).await;
    sqlx::query(
        r#"do $$ begin
             if not exists (select from pg_roles where rolname = 'printstall_rls_test_owner') then
               begin
                 create role printstall_rls_test_owner nologin nosuperuser nobypassrls;
               exception when duplicate_object or unique_violation then null;
               end;
             end if;
           end $$"#,
    )
    .execute(&pool)
    .await
    .unwrap();
    let tables = shop_tables(&pool).await;
    for t in &tables {
        sqlx::query(&format!(
            "alter table {t} owner to printstall_rls_test_owner"
        ))
        .execute(&pool)
        .await
        .unwrap();
    }
    sqlx::query("grant execute on function session_open(uuid, uuid) to printstall_rls_test_owner")
        .execute(&pool)
        .await
        .unwrap();
    let family_a: Uuid =
        sqlx::query_scalar("select family_id from refresh_token where user_id = $1")
            .bind(s.user_a)
            .fetch_one(&pool)
            .await
            .unwrap();
    let mut conn = pool.acquire().await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("set local role printstall_rls_test_owner")
        .execute(&mut *tx)
        .await
        .unwrap();
    for t in &tables {
        let expected = if OWNER_READS_ALL.contains(&t.as_str()) {
            2
        } else {
            0
        };
        assert_eq!(
            count(&mut tx, t).await,
            expected,
            "{t}: the owner sees rows without a setting"
        );
    }
    // Named by the hash of its secret: that row, and only in its own table.
    for (table, hash) in [
        ("invite", "hash-a"),
        ("printer_token", "token-hash-a"),
        ("refresh_token", "refresh-hash-a"),
    ] {
        let mut sp = tx.begin().await.unwrap();
        sqlx::query("select set_config('app.lookup_hash', $1, true)")
            .bind(hash)
            .execute(&mut *sp)
            .await
            .unwrap();
        for t in tables
            .iter()
            .filter(|t| !OWNER_READS_ALL.contains(&t.as_str()))
        {
            let n = count(&mut sp, t).await;
            assert_eq!(n, i64::from(t == table), "{t} with {table}'s hash {hash}");
        }
        sp.rollback().await.unwrap();
    }
    // Named by the user: their sessions and the invites they made, nothing of the shop.
    let mut sp = tx.begin().await.unwrap();
    sqlx::query("select set_config('app.user_id', $1, true)")
        .bind(s.user_a.to_string())
        .execute(&mut *sp)
        .await
        .unwrap();
    for t in tables
        .iter()
        .filter(|t| !OWNER_READS_ALL.contains(&t.as_str()))
    {
        let expected = i64::from(matches!(
            t.as_str(),
            "refresh_token" | "invite" | "membership"
        ));
        assert_eq!(count(&mut sp, t).await, expected, "{t} with app.user_id");
    }
    sp.rollback().await.unwrap();
    // A signed access token's session is checked by `session_open`, which names the user
    // for its own query and leaves the setting as it was.
    let (open_a, open_wrong_user, after): (bool, bool, String) = sqlx::query_as(
        "select session_open($1, $3), session_open($2, $3), current_setting('app.user_id', true)",
    )
    .bind(s.user_a)
    .bind(Uuid::now_v7())
    .bind(family_a)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert_eq!((open_a, open_wrong_user, after.as_str()), (true, false, ""));
    tx.rollback().await.unwrap();
}

//! The list endpoints' `q` search (`column ILIKE '%q%'`) and the trigram indexes of
//! migration 0440, by EXPLAIN with sequential scans off:
//! - as the owner (no row-level security), the endpoints' query shapes use them;
//! - as the app role, row-level security evaluates the shop policy first and may not use an
//!   index for a condition whose operator is not LEAKPROOF; `~~*` (`texticlike`) is not, so
//!   the planner takes the shop's rows by `(shop_id, id)` and filters them. Only where
//!   `texticlike` is marked LEAKPROOF (a superuser's choice, see README) does the app role
//!   get the trigram index. The test checks whichever holds in this database.
//! - products also have their own trigram table (migration 0520), looked up by equality:
//!   an index scan for the app role in any database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::app_connection;

use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

async fn plan(conn: &mut PgConnection, sql: &str, pattern: &str, shop: Uuid) -> String {
    let mut tx = conn.begin().await.unwrap();
    sqlx::query(
        "select set_config('app.shop_id', $1, true), set_config('enable_seqscan', 'off', true)",
    )
    .bind(shop.to_string())
    .execute(&mut *tx)
    .await
    .unwrap();
    let rows: Vec<String> = sqlx::query_scalar(&format!("explain {sql}"))
        .bind(pattern)
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    rows.join("\n")
}

/// A new shop with `n` products named `Product <md5>`, SKUs `SKU-<n>`.
async fn shop_with_products(pool: &PgPool, n: i32) -> Uuid {
    let shop = Uuid::now_v7();
    sqlx::query("insert into shop (id, name, currency, time_zone) values ($1, 'S', 'EUR', 'UTC')")
        .bind(shop)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        r#"insert into product (id, shop_id, sku, name, price)
           select gen_random_uuid(), $1, 'SKU-' || g, 'Product ' || md5(g::text), 100
           from generate_series(1, $2) g"#,
    )
    .bind(shop)
    .bind(n)
    .execute(pool)
    .await
    .unwrap();
    shop
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn q_searches_can_use_the_trigram_indexes(pool: PgPool) {
    let shop = shop_with_products(&pool, 5000).await;
    sqlx::query(
        r#"insert into model (id, shop_id, name, designer_name, category, source_site,
                              licence_name, licence_allows_selling)
           select gen_random_uuid(), $1, 'Model ' || md5(g::text), 'Designer ' || md5((-g)::text),
                  'Category ' || (g % 40), 'own', 'own', true
           from generate_series(1, 5000) g"#,
    )
    .bind(shop)
    .execute(&pool)
    .await
    .unwrap();
    for t in ["product", "model"] {
        sqlx::query(&format!("analyze {t}"))
            .execute(&pool)
            .await
            .unwrap();
    }
    let leakproof: bool = sqlx::query_scalar(
        "select proleakproof from pg_proc where oid = 'texticlike(text, text)'::regprocedure",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let mut app = app_connection(&pool).await;
    let mut owner = pool.acquire().await.unwrap();
    for (sql, index) in [
        (
            "select id from product where name ilike $1",
            "product_name_trgm_idx",
        ),
        (
            "select id from product where sku ilike $1",
            "product_sku_trgm_idx",
        ),
        // The shape of GET /products?q= (with the pattern bound, as sqlx sends it).
        (
            "select id from product where ($1::text is null or name ilike $1 or sku ilike $1) and archived_at is null order by id limit 51",
            "product_name_trgm_idx",
        ),
        (
            "select id from model where name ilike $1 and archived_at is null",
            "model_name_trgm_idx",
        ),
    ] {
        let p = plan(&mut owner, sql, "%c0ffee%", shop).await;
        assert!(p.contains(index), "owner: {sql}:\n{p}");
        let p = plan(&mut app, sql, "%c0ffee%", shop).await;
        assert_eq!(
            p.contains("_trgm_idx"),
            leakproof,
            "app role (texticlike leakproof: {leakproof}): {sql}:\n{p}"
        );
    }
}

/// Products' own trigram table (migration 0520), which `GET /products?q=` reads: the lookup
/// is by equality, which is leakproof, so the app role gets the index whatever `texticlike`
/// is.
#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn the_trigram_lookup_is_an_index_scan_under_the_shop_policy(pool: PgPool) {
    let shops = [
        shop_with_products(&pool, 3000).await,
        shop_with_products(&pool, 3000).await,
    ];
    sqlx::query("analyze product_search_trigram")
        .execute(&pool)
        .await
        .unwrap();
    let mut app = app_connection(&pool).await;
    let mut tx = app.begin().await.unwrap();
    sqlx::query("select set_config('app.shop_id', $1, true)")
        .bind(shops[0].to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let plan: Vec<String> = sqlx::query_scalar(
        r#"explain select product_id from product_search_trigram
           where trigram = any(array(select search_trigrams(array['duct 1'])))
           group by product_id
           having count(*) = (select count(*) from search_trigrams(array['duct 1']))"#,
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    let plan = plan.join("\n");
    assert!(
        plan.contains("Index") && plan.contains("product_search_trigram_pkey"),
        "{plan}"
    );
    assert!(
        plan.lines()
            .any(|l| l.contains("Index Cond") && l.contains("trigram = ANY")),
        "the trigram is a condition of the index, not a filter: {plan}"
    );
    // And it sees only its own shop's rows.
    let seen: i64 = sqlx::query_scalar(
        "select count(distinct product_id) from product_search_trigram where trigram = 'sku'",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert_eq!(seen, 3000);
    tx.rollback().await.unwrap();
}

//! `GET /products?q=`: a `q` of three characters or more finds its candidates through
//! `product_search_trigram` (migration 0520) and must find exactly what the plain
//! `ILIKE '%q%'` on name and SKU (or the exact barcode) finds, for any case, any script,
//! wildcard characters, every page, and after a rename; and the lookup must be an index
//! scan for the app role, under the shop policy.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use common::{Api, start_api};
use serde_json::json;
use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

/// `q` for a query string.
fn encoded(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Every product id the API answers for `q`, over all pages of `limit`.
async fn searched(api: &Api, q: &str, limit: usize) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/products?q={}&limit={limit}", encoded(q));
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let (status, page) = api.get(&path).await;
        assert_eq!(status, 200, "{q}: {page}");
        for item in page["items"].as_array().unwrap() {
            assert!(
                found.insert(item["id"].as_str().unwrap().to_owned()),
                "{q}: twice"
            );
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return found,
        }
    }
}

/// What the plain scan finds: the oracle.
async fn scanned(pool: &PgPool, shop: &str, q: &str) -> BTreeSet<String> {
    let pattern = format!(
        "%{}%",
        q.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let ids: Vec<Uuid> = sqlx::query_scalar(
        r#"select id from product
           where shop_id = $1::uuid and archived_at is null
             and (name ilike $2 or sku ilike $2 or barcode = $3)"#,
    )
    .bind(shop)
    .bind(pattern)
    .bind(q)
    .fetch_all(pool)
    .await
    .unwrap();
    ids.into_iter().map(|i| i.to_string()).collect()
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn search_finds_exactly_what_ilike_finds(pool: PgPool) {
    let server = start_api(pool.clone()).await;
    let owner = Api::register(&server.url, "o@example.com").await;
    let other = Api::register(&server.url, "x@example.com").await;
    let names = [
        ("DRG-12", "Dragon 12", Some("4001234567890")),
        ("FLY-1", "DRAGONFLY lamp", None),
        ("REX-S", "Rex small", None),
        ("OEL-1", "Öl-Kännchen", None),
        ("STR-1", "Straße Schild", None),
        ("PCT-1", "50% off_box", None),
        ("AB", "ab", None),
        ("KEY-DRAGON", "Keychain", Some("dragon")),
        ("GR-1", "Γοργόνα δράκος", None),
    ];
    let mut ids = Vec::new();
    for (sku, name, barcode) in names {
        let (status, p) = owner
            .post(
                "/products",
                json!({"sku": sku, "name": name, "price": 500, "barcode": barcode}),
            )
            .await;
        assert_eq!(status, 201, "{p}");
        ids.push(p["id"].as_str().unwrap().to_owned());
    }
    // Another shop's dragon is never a candidate.
    let (status, _) = other
        .post(
            "/products",
            json!({"sku": "DRG-12", "name": "Dragon 12", "price": 1}),
        )
        .await;
    assert_eq!(status, 201);
    // An archived product is found only with `archived=true`, as before.
    let (status, _) = owner.delete(&format!("/products/{}", ids[2])).await;
    assert_eq!(status, 204);

    let queries = [
        "drag",
        "DRAGON",
        "ragon",
        "on 1",
        "n 12",
        "kän",
        "KÄNN",
        "ße",
        "straße",
        "STRASSE",
        "50%",
        "% o",
        "_bo",
        "ab",
        "a",
        "zz",
        "zzz",
        "rex",
        "drg-1",
        "4001234567890",
        "dragon",
        "ΔΡΆΚ",
        "γοργ",
        "Öl-",
        "12",
        "off_box",
        "Dragon 12",
    ];
    for q in queries {
        let want = scanned(&pool, &owner.shop_id, q).await;
        assert_eq!(searched(&owner, q, 200).await, want, "q = {q:?}");
        // Paged one by one, the same set.
        assert_eq!(searched(&owner, q, 1).await, want, "q = {q:?}, limit 1");
    }
    assert_eq!(
        searched(&owner, "dragon", 50).await.len(),
        3,
        "a name, a name in capitals and a barcode"
    );

    // A rename moves the product's trigrams with it.
    let (status, p) = owner
        .patch(
            &format!("/products/{}", ids[1]),
            json!({"name": "Firefly lamp"}),
        )
        .await;
    assert_eq!(status, 200, "{p}");
    assert!(!searched(&owner, "dragonfly", 50).await.contains(&ids[1]));
    assert!(searched(&owner, "firefl", 50).await.contains(&ids[1]));
    let (status, p) = owner
        .patch(&format!("/products/{}", ids[2]), json!({"sku": "TREX-S"}))
        .await;
    assert_eq!(status, 200, "{p}");
    let (_, page) = owner.get("/products?q=trex&archived=true").await;
    assert_eq!(page["items"][0]["id"], ids[2].as_str(), "{page}");
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn the_trigram_lookup_is_an_index_scan_under_the_shop_policy(pool: PgPool) {
    let shops = [Uuid::now_v7(), Uuid::now_v7()];
    for shop in shops {
        sqlx::query(
            "insert into shop (id, name, currency, time_zone) values ($1, 'S', 'EUR', 'UTC')",
        )
        .bind(shop)
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            r#"insert into product (id, shop_id, sku, name, price)
               select gen_random_uuid(), $1, 'SKU-' || g, 'Product ' || md5(g::text), 100
               from generate_series(1, 3000) g"#,
        )
        .bind(shop)
        .execute(&pool)
        .await
        .unwrap();
    }
    sqlx::query("analyze product_search_trigram")
        .execute(&pool)
        .await
        .unwrap();
    let options = pool
        .connect_options()
        .as_ref()
        .clone()
        .username(printstall_server::tenancy::APP_ROLE);
    let mut app = PgConnection::connect_with(&options).await.unwrap();
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

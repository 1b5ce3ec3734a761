//! `GET /products?q=`: a `q` of three characters or more finds its candidates through
//! `product_search_trigram` (migration 0520) and must find exactly what the plain
//! `ILIKE '%q%'` on name and SKU (or the exact barcode) finds, for any case, any script,
//! wildcard characters, every page, and after a rename, made over REST or pushed by a phone
//! (that the lookup is an index scan for the app role is checked in search_indexes.rs).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod sync_common;

use std::collections::BTreeSet;

use common::{Api, start_api};
use serde_json::json;
use sqlx::PgPool;
use sync_common::{Device, statuses};
use uuid::Uuid;

/// Every product id the API answers for `q`, over all pages of `limit`.
async fn searched(api: &Api, q: &str, limit: usize) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        // The query string encoded by `url` (through reqwest), as a browser would send it.
        let mut url = reqwest::Url::parse("http://localhost/products").unwrap();
        url.query_pairs_mut()
            .append_pair("q", q)
            .append_pair("limit", &limit.to_string());
        if let Some(c) = &cursor {
            url.query_pairs_mut().append_pair("cursor", c);
        }
        let (status, page) = api
            .get(&format!("/products?{}", url.query().unwrap()))
            .await;
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
async fn a_product_made_and_renamed_on_a_phone_is_found(pool: PgPool) {
    let server = start_api(pool).await;
    let owner = Api::register(&server.url, "o@example.com").await;
    let mut phone = Device::new(&owner);
    let owl = Uuid::now_v7();
    let made = phone.op(
        json!({"kind": "entity.set.v1", "entity": "product", "id": owl,
                               "fields": {"sku": "OWL-1", "name": "Snowy Owl", "price": 900}}),
    );
    let (status, answer) = phone.push(&[made]).await;
    assert_eq!(
        (status, statuses(&answer)),
        (200, vec!["applied".to_owned()]),
        "{answer}"
    );
    assert!(
        searched(&owner, "snowy", 50)
            .await
            .contains(&owl.to_string())
    );
    let renamed = phone.op(
        json!({"kind": "entity.set.v1", "entity": "product", "id": owl,
                                  "fields": {"name": "Barn Owl"}}),
    );
    let (status, answer) = phone.push(&[renamed]).await;
    assert_eq!(
        (status, statuses(&answer)),
        (200, vec!["applied".to_owned()]),
        "{answer}"
    );
    assert!(searched(&owner, "snowy", 50).await.is_empty());
    assert!(
        searched(&owner, "barn o", 50)
            .await
            .contains(&owl.to_string())
    );
    assert!(
        searched(&owner, "owl-1", 50)
            .await
            .contains(&owl.to_string())
    );
}

//! Sales over REST: `GET /sales` filtered by event, by when they were taken and by payment
//! method; `POST /sales/{id}/void` (owner) marks a sale voided and brings its stock back as
//! `returned` ledger rows through a `sale.void.v1` op, once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::fixtures::{event, product, seller_of};
use common::{Api, start_api};
use serde_json::{Value, json};
use sqlx::PgPool;

async fn sell(api: &Api, body: Value) -> String {
    let (status, s) = api.post("/sales", body).await;
    assert_eq!(status, 201, "{s}");
    s["id"].as_str().unwrap().to_owned()
}

fn ids(page: &Value) -> Vec<String> {
    let mut v: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

fn sorted(mut v: Vec<&String>) -> Vec<String> {
    v.sort();
    v.into_iter().cloned().collect()
}

async fn on_hand(api: &Api, product: &str) -> i64 {
    let (status, p) = api.get(&format!("/products/{product}")).await;
    assert_eq!(status, 200, "{p}");
    p["stock"]["on_hand"].as_i64().unwrap()
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn sales_are_filtered_by_event_time_and_payment_method(pool: PgPool) {
    let server = start_api(pool).await;
    let api = Api::register(&server.url, "o@example.com").await;
    let rex = product(&api, "REX", None).await;
    let advent = event(&api, "Advent market").await;
    let craft = event(&api, "Craft fair").await;
    let line = json!([{"product_id": rex, "quantity": 1, "unit_price": 1500}]);
    let s1 = sell(&api, json!({"lines": line, "payment_method": "cash", "event_id": advent, "taken_at": "2026-12-01T10:00:00Z"})).await;
    let s2 = sell(&api, json!({"lines": line, "payment_method": "card", "event_id": advent, "taken_at": "2026-12-02T10:00:00Z"})).await;
    let s3 = sell(
        &api,
        json!({"lines": line, "payment_method": "other", "taken_at": "2026-12-03T10:00:00Z"}),
    )
    .await;
    let s4 = sell(&api, json!({"lines": line, "payment_method": "cash", "event_id": craft, "taken_at": "2026-12-03T12:30:00+01:00"})).await;
    for (query, expected) in [
        (String::new(), vec![&s1, &s2, &s3, &s4]),
        (format!("event_id={advent}"), vec![&s1, &s2]),
        (format!("event_id={craft}"), vec![&s4]),
        (format!("event_id={}", uuid::Uuid::now_v7()), vec![]),
        ("from=2026-12-02T00:00:00Z".into(), vec![&s2, &s3, &s4]),
        // `to` is exclusive; s4 was taken at 11:30 UTC.
        ("to=2026-12-02T10:00:00Z".into(), vec![&s1]),
        (
            "from=2026-12-02T10:00:00Z&to=2026-12-03T11:30:00Z".into(),
            vec![&s2, &s3],
        ),
        ("payment_method=cash".into(), vec![&s1, &s4]),
        ("payment_method=card".into(), vec![&s2]),
        (format!("payment_method=cash&event_id={advent}"), vec![&s1]),
        (
            format!("payment_method=card&event_id={advent}&from=2026-12-03T00:00:00Z"),
            vec![],
        ),
    ] {
        let (status, page) = api.get(&format!("/sales?{query}")).await;
        assert_eq!(status, 200, "{query}: {page}");
        assert_eq!(ids(&page), sorted(expected), "?{query}");
    }
    // Pages keep the filters.
    let (_, first) = api.get("/sales?payment_method=cash&limit=1").await;
    assert_eq!(ids(&first), vec![s1.clone()]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, second) = api
        .get(&format!(
            "/sales?payment_method=cash&limit=1&cursor={cursor}"
        ))
        .await;
    assert_eq!(ids(&second), vec![s4.clone()]);
    // Bad filters: 422 naming the parameter.
    for (query, field) in [
        ("from=yesterday", "from"),
        ("to=2026-12-01", "to"),
        ("from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", "to"),
        ("payment_method=bitcoin", "payment_method"),
    ] {
        let (status, err) = api.get(&format!("/sales?{query}")).await;
        assert_eq!(
            (status, err["error"]["field"].as_str()),
            (422, Some(field)),
            "{query}: {err}"
        );
    }
    let (status, _) = api.get("/sales?event_id=not-a-uuid").await;
    assert_eq!(status, 400);
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn voiding_a_sale_brings_its_stock_back_once(pool: PgPool) {
    let server = start_api(pool.clone()).await;
    let owner = Api::register(&server.url, "o@example.com").await;
    let seller = seller_of(&owner).await;
    let rex = product(&owner, "REX", None).await;
    let dino = product(&owner, "DINO", None).await;
    for p in [&rex, &dino] {
        let (status, out) = owner
            .post(
                &format!("/products/{p}/adjust"),
                json!({"quantity": 10, "reason": "produced"}),
            )
            .await;
        assert_eq!(status, 200, "{out}");
    }
    let sale = sell(
        &seller,
        json!({"lines": [{"product_id": rex, "quantity": 2, "unit_price": 1500},
                         {"product_id": dino, "quantity": 3, "unit_price": 900}],
               "payment_method": "cash"}),
    )
    .await;
    assert_eq!(
        (on_hand(&owner, &rex).await, on_hand(&owner, &dino).await),
        (8, 7)
    );
    let path = format!("/sales/{sale}/void");

    // A seller may not void; a reason is needed; unknown sales are 404.
    let (status, _) = seller.post(&path, json!({"reason": "mistake"})).await;
    assert_eq!(status, 403);
    let (status, err) = owner.post(&path, json!({"reason": "  "})).await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("reason")),
        "{err}"
    );
    let (status, _) = owner
        .post(
            &format!("/sales/{}/void", uuid::Uuid::now_v7()),
            json!({"reason": "mistake"}),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(on_hand(&owner, &rex).await, 8);

    let (status, out) = owner.post(&path, json!({"reason": "rang up twice"})).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["voided"], true);
    assert_eq!(out["lines"].as_array().unwrap().len(), 2);
    assert_eq!(
        (on_hand(&owner, &rex).await, on_hand(&owner, &dino).await),
        (10, 10)
    );
    // Each product's ledger has the sale's `returned` row.
    for (p, qty) in [(&rex, 2), (&dino, 3)] {
        let (_, ledger) = owner.get(&format!("/products/{p}/ledger")).await;
        let returned: Vec<&Value> = ledger["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["reason"] == "returned")
            .collect();
        assert_eq!(returned.len(), 1, "{ledger}");
        assert_eq!(returned[0]["quantity"], qty);
        assert_eq!(returned[0]["sale_id"], json!(sale));
    }
    // The sale stays listed, voided, and the void is an op devices pull.
    let (_, read) = owner.get(&format!("/sales/{sale}")).await;
    assert_eq!(read["voided"], true);
    let voids: i64 = sqlx::query_scalar(
        "select count(*) from applied_op where kind = 'sale.void.v1' and outcome = 'applied'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(voids, 1);

    // A second void is refused and changes nothing.
    let (status, err) = owner.post(&path, json!({"reason": "again"})).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (409, Some("conflict")),
        "{err}"
    );
    assert_eq!(
        (on_hand(&owner, &rex).await, on_hand(&owner, &dino).await),
        (10, 10)
    );
    let voids: i64 =
        sqlx::query_scalar("select count(*) from applied_op where kind = 'sale.void.v1'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(voids, 1);
    server.stop().await;
}

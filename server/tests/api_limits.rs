//! API request limits per user and per shop: over the limit, 429 with `Retry-After` and a
//! clear message, and the refused request changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Api, start_api_with};
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn a_user_over_the_limit_is_answered_429_and_nothing_is_written(pool: PgPool) {
    let server = start_api_with(
        pool.clone(),
        &[
            ("PRINTSTALL_REQUESTS_PER_MINUTE_USER", "5"),
            ("PRINTSTALL_REQUESTS_PER_MINUTE_SHOP", "0"),
        ],
    )
    .await;
    let owner = Api::register(&server.url, "limits@example.com").await;
    for i in 0..5 {
        let (status, body) = owner
            .post(
                "/products",
                json!({"sku": format!("L-{i}"), "name": "Limit", "price": 100}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let r = owner
        .http
        .post(format!("{}/api/v1/products", owner.base))
        .bearer_auth(&owner.token)
        .json(&json!({"sku": "L-over", "name": "Over", "price": 100}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("a minute"),
        "{body}"
    );
    let (n,): (i64,) = sqlx::query_as("select count(*) from product where sku = 'L-over'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 0, "a refused request wrote nothing");

    // Another shop's user has a count of their own.
    let other = Api::register(&server.url, "limits-other@example.com").await;
    let (status, _) = other.get("/products").await;
    assert_eq!(status, 200);
    server.stop().await;
}

#[test]
fn bad_limit_settings_are_refused_with_their_name() {
    let values = std::collections::HashMap::from([(
        "PRINTSTALL_REQUESTS_PER_MINUTE_USER".to_owned(),
        "lots".to_owned(),
    )]);
    let err = printstall_server::settings::Settings::from_values(&values).unwrap_err();
    assert!(
        err.to_string()
            .contains("PRINTSTALL_REQUESTS_PER_MINUTE_USER"),
        "{err}"
    );
}

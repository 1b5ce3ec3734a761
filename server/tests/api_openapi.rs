//! The OpenAPI document lists exactly the routes that are mounted, and every mounted route
//! that needs a signed-in member answers 401 without a token.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use serde_json::Value;
use sqlx::PgPool;

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn the_document_matches_the_mounted_routes(pool: PgPool) {
    let server = common::start_api(pool).await;
    let doc: Value = reqwest::get(format!("{}/api/v1/openapi.json", server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.to_ascii_uppercase(), path.clone()));
        }
    }
    let mounted: BTreeSet<(String, String)> = printstall_server::api::mounted_routes()
        .into_iter()
        .collect();
    assert_eq!(
        documented, mounted,
        "the OpenAPI document and the router differ"
    );

    // Each documented operation with a bearer requirement is mounted and guarded.
    let client = reqwest::Client::new();
    for (method, path) in &documented {
        let op = &doc["paths"][path][method.to_ascii_lowercase()];
        if op.get("security").is_none() {
            continue;
        }
        let url = format!(
            "{}{}",
            server.url,
            path.replace("{id}", &uuid::Uuid::now_v7().to_string())
        );
        let r = client
            .request(method.parse().unwrap(), url)
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{method} {path}");
    }
    server.stop().await;
}

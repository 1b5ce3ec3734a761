//! `GET /metrics`: Prometheus text with requests by route template and status, latency
//! histograms, sync ops applied and rejected, and the database pools; readable by a local
//! scraper, or with the configured token, and by no one else.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod sync_common;

use common::{Api, TEST_JWT_SECRET, settings_with, spawn_server, start_api};
use printstall_server::app::AppState;
use printstall_server::secret::Secret;
use printstall_server::storage::signed_url::UrlSigner;
use printstall_server::storage::{LocalStore, Storage};
use serde_json::json;
use sqlx::PgPool;
use sync_common::{Device, adjust, product};

async fn metrics(url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut req = reqwest::Client::new().get(format!("{url}/metrics"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The value of the sample whose line starts with `name{` and contains every label.
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .find(|l| labels.iter().all(|x| l.contains(x)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn requests_sync_ops_and_pools_are_measured(pool: PgPool) {
    let server = start_api(pool).await;
    let api = Api::register(&server.url, "owner@example.com").await;
    let rex = product(&api, "REX").await;
    let (status, _) = api.get(&format!("/products/{rex}")).await;
    assert_eq!(status, 200);
    let (status, _) = api
        .get(&format!("/products/{}", uuid::Uuid::now_v7()))
        .await;
    assert_eq!(status, 404);
    let mut phone = Device::new(&api);
    let ops = [
        phone.op(adjust(&rex, 2)),
        phone.op(
            json!({"kind": "entity.delete.v1", "entity": "product", "id": uuid::Uuid::now_v7()}),
        ),
    ];
    let (status, _) = phone.push(&ops).await;
    assert_eq!(status, 200);

    let (status, text) = metrics(&server.url, &[]).await;
    assert_eq!(status, 200, "{text}");
    // By route template, never by id.
    assert!(
        sample(
            &text,
            "printstall_http_requests_total",
            &[
                "route=\"/api/v1/products/{id}\"",
                "status=\"200\"",
                "method=\"GET\""
            ]
        )
        .is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert!(
        sample(
            &text,
            "printstall_http_requests_total",
            &["route=\"/api/v1/products/{id}\"", "status=\"404\""]
        )
        .is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert!(!text.contains(&rex), "an id became a label");
    assert!(
        text.contains("printstall_http_request_duration_seconds_bucket{"),
        "a histogram: {text}"
    );
    assert!(
        sample(
            &text,
            "printstall_sync_ops_total",
            &["outcome=\"applied\"", "source=\"push\""]
        )
        .is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert!(
        sample(
            &text,
            "printstall_sync_ops_total",
            &["outcome=\"applied\"", "source=\"rest\""]
        )
        .is_some(),
        "{text}"
    );
    assert!(
        sample(&text, "printstall_db_pool_max", &["pool=\"app\""]).is_some_and(|n| n > 0.0),
        "{text}"
    );
    assert!(
        sample(
            &text,
            "printstall_db_pool_connections",
            &["pool=\"owner\"", "state=\"idle\""]
        )
        .is_some(),
        "{text}"
    );

    // Relayed by a proxy (X-Forwarded-For) without a configured token: refused.
    let (status, _) = metrics(&server.url, &[("x-forwarded-for", "203.0.113.9")]).await;
    assert_eq!(status, 401);
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn with_a_token_only_its_bearer_reads_them(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let storage = Storage::Local(LocalStore::new(
        dir.path().join("files"),
        url.clone(),
        UrlSigner::new(Secret::new("k")),
    ));
    let settings = settings_with(&[
        ("PRINTSTALL_PWA_DIR", dir.path().to_str().unwrap()),
        ("PRINTSTALL_DATA_DIR", dir.path().to_str().unwrap()),
        ("PRINTSTALL_JWT_SECRET", TEST_JWT_SECRET),
        ("PRINTSTALL_METRICS_TOKEN", "scrape-me"),
    ]);
    let state = AppState::new(pool, storage, settings).unwrap();
    let (stop, task) = spawn_server(listener, state);
    for headers in [
        vec![],
        vec![("authorization", "Bearer wrong")],
        vec![("authorization", "scrape-me")],
    ] {
        let (status, _) = metrics(&url, &headers).await;
        assert_eq!(status, 401, "{headers:?}");
    }
    let (status, text) = metrics(&url, &[("authorization", "Bearer scrape-me")]).await;
    assert_eq!(status, 200);
    assert!(text.contains("# TYPE"), "{text}");
    let _ = stop.send(());
    let _ = task.await;
}

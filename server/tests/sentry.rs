//! With a Sentry DSN configured, a server error is reported (to a stand-in Sentry endpoint
//! on loopback that this test runs) with the member's user id and without their token,
//! cookie or email. Its own test binary: the Sentry client and the log subscriber are
//! process-wide.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use common::{Api, start_api};
use printstall_server::secret::Secret;
use sqlx::PgPool;

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn a_server_error_is_reported_with_the_user_id_and_no_secrets(pool: PgPool) {
    // The stand-in: keeps every envelope posted to /api/1/envelope/.
    let received: Arc<Mutex<Vec<Bytes>>> = Arc::default();
    let keep = received.clone();
    let ingest = Router::new().route(
        "/api/1/envelope/",
        post(move |body: Bytes| {
            let keep = keep.clone();
            async move {
                keep.lock().unwrap().push(body);
                "{}"
            }
        }),
    );
    // On a thread and runtime of its own: the test's runtime blocks while the client flushes.
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = std_listener.local_addr().unwrap().port();
    std_listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
            axum::serve(listener, ingest).await.unwrap();
        });
    });

    printstall_server::telemetry::init_logging(false);
    let dsn = Secret::new(format!("http://publickey@127.0.0.1:{port}/1"));
    let guard = printstall_server::telemetry::init_sentry(Some(&dsn)).unwrap();

    let server = start_api(pool.clone()).await;
    let api = Api::register(&server.url, "reported@example.com").await;
    // The database goes away: the next request fails inside the server (500).
    pool.close().await;
    let (status, body) = api.get("/shop").await;
    assert_eq!(status, 500, "{body}");
    let flushed = tokio::task::spawn_blocking(move || {
        let flushed = guard.flush(Some(Duration::from_secs(10)));
        drop(guard);
        flushed
    })
    .await
    .unwrap();
    assert!(flushed, "the report was not delivered");

    let envelopes = received.lock().unwrap().clone();
    let text: String = envelopes
        .iter()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .collect();
    assert!(
        text.contains("\"type\":\"event\""),
        "no event reported: {text}"
    );
    assert!(
        text.contains(&api.user_id),
        "the user id is missing: {text}"
    );
    for secret in [
        api.token.as_str(),
        api.refresh.as_str(),
        "reported@example.com",
    ] {
        assert!(!text.contains(secret), "a secret was reported: {text}");
    }
    server.stop().await;
}

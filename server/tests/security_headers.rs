//! Security headers on every kind of answer (the web app, the API, errors): a strict
//! Content-Security-Policy that still allows WebAssembly, no framing, no sniffing, no
//! referrer; HSTS only when the server is configured as reached over TLS. And the
//! cookie-authenticated endpoints refuse cross-site requests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Api, TEST_JWT_SECRET, settings_with, spawn_server, start_api};
use printstall_server::app::AppState;
use printstall_server::secret::Secret;
use printstall_server::storage::signed_url::UrlSigner;
use printstall_server::storage::{LocalStore, Storage};
use sqlx::PgPool;

struct Served {
    _dir: tempfile::TempDir,
    url: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

/// The real router with a tiny built web app and `extra` settings.
async fn serve(pool: PgPool, extra: &[(&str, &str)]) -> Served {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_owned();
    std::fs::write(dir.join("index.html"), "<!doctype html><title>t</title>").unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let storage = Storage::Local(LocalStore::new(
        dir.join("files"),
        url.clone(),
        UrlSigner::new(Secret::new("k")),
    ));
    let dir_text = dir.to_str().unwrap().to_owned();
    let mut pairs = vec![
        ("PRINTSTALL_PWA_DIR", dir_text.as_str()),
        ("PRINTSTALL_DATA_DIR", dir_text.as_str()),
        ("PRINTSTALL_JWT_SECRET", TEST_JWT_SECRET),
    ];
    pairs.extend_from_slice(extra);
    let state = AppState::new(pool, storage, settings_with(&pairs)).unwrap();
    let (stop, task) = spawn_server(listener, state);
    Served {
        _dir: tmp,
        url,
        stop,
        task,
    }
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn every_answer_carries_the_security_headers(pool: PgPool) {
    let served = serve(pool.clone(), &[]).await;
    let client = reqwest::Client::new();
    for path in [
        "/",
        "/stock",
        "/healthz",
        "/api/v1/openapi.json",
        "/api/v1/shop",
        "/api/v1/nowhere",
        "/missing.js",
    ] {
        let r = client
            .get(format!("{}{path}", served.url))
            .send()
            .await
            .unwrap();
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
            "{path}: {csp}"
        );
        // Inline code never; inline style attributes only (`style-src-attr`).
        let without_attr = csp.replace("style-src-attr 'unsafe-inline'", "");
        assert!(
            !csp.contains("'unsafe-eval'") && !without_attr.contains("'unsafe-inline'"),
            "{path}: {csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("object-src 'none'"), "{path}: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert!(
            h.get("strict-transport-security").is_none(),
            "{path}: HSTS over plain HTTP"
        );
    }
    let _ = served.stop.send(());
    let _ = served.task.await;

    // Behind a TLS proxy: HSTS on.
    let served = serve(pool, &[("PRINTSTALL_HSTS", "true")]).await;
    let r = reqwest::get(format!("{}/api/v1/openapi.json", served.url))
        .await
        .unwrap();
    let hsts = r.headers()["strict-transport-security"].to_str().unwrap();
    assert!(hsts.starts_with("max-age=31536000"), "{hsts}");
    let _ = served.stop.send(());
    let _ = served.task.await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn cookie_endpoints_refuse_cross_site_requests(pool: PgPool) {
    let server = start_api(pool).await;
    let api = Api::register(&server.url, "owner@example.com").await;
    let host = server.url.trim_start_matches("http://").to_owned();
    let client = reqwest::Client::new();
    let refresh = |headers: Vec<(&'static str, String)>| {
        let mut req = client
            .post(format!("{}/api/v1/auth/refresh", server.url))
            .header("cookie", format!("printstall_refresh={}", api.refresh));
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.send()
    };
    for headers in [
        vec![("origin", "https://evil.example".to_owned())],
        vec![("origin", "null".to_owned())],
        vec![("sec-fetch-site", "cross-site".to_owned())],
    ] {
        let r = refresh(headers.clone()).await.unwrap();
        assert_eq!(r.status(), 403, "{headers:?}");
    }
    // Nothing was rotated by the refused attempts: the same cookie still works, from the
    // app's own origin.
    let r = refresh(vec![
        ("origin", format!("http://{host}")),
        ("sec-fetch-site", "same-origin".to_owned()),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let r = client
        .post(format!("{}/api/v1/auth/sign-out", server.url))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    server.stop().await;
}

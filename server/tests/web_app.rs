//! The server serves the built PWA with the right types, caching and compression, and
//! reports its health honestly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Backend;

fn fake_build(dir: &std::path::Path) {
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><title>PrintStall</title>",
    )
    .unwrap();
    std::fs::write(
        dir.join("sw.js"),
        "self.addEventListener('fetch', () => {});",
    )
    .unwrap();
    std::fs::write(dir.join("manifest.json"), r#"{"name":"PrintStall"}"#).unwrap();
    std::fs::write(dir.join("assets/app-0123456789ab.wasm"), vec![0u8; 40_000]).unwrap();
    std::fs::write(
        dir.join("assets/app-0123456789ab.js"),
        "export default 1;".repeat(500),
    )
    .unwrap();
}

#[tokio::test]
async fn serves_the_app_with_types_caching_and_compression() {
    let pwa = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    fake_build(pwa.path());
    let server = common::start(pwa.path(), Backend::Local(files.path().into())).await;
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("{}{path}", server.url)).send();

    let wasm = get("/assets/app-0123456789ab.wasm").await.unwrap();
    assert_eq!(wasm.status(), 200);
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    assert_eq!(
        wasm.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );

    for (path, content_type) in [
        ("/", "text/html"),
        ("/index.html", "text/html"),
        ("/sw.js", "text/javascript"),
        ("/manifest.json", "application/manifest+json"),
    ] {
        let answer = get(path).await.unwrap();
        assert_eq!(answer.status(), 200, "{path}");
        assert_eq!(answer.headers()["cache-control"], "no-cache", "{path}");
        let ct = answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(ct.starts_with(content_type), "{path}: {ct}");
    }

    // App routes get the shell; missing files are 404, not the shell.
    let route = get("/stock").await.unwrap();
    assert_eq!(route.status(), 200);
    assert!(
        route
            .text()
            .await
            .unwrap()
            .contains("<title>PrintStall</title>")
    );
    assert_eq!(get("/assets/app-gone.js").await.unwrap().status(), 404);
    assert_eq!(get("/api/v1/nothing").await.unwrap().status(), 404);

    for encoding in ["br", "gzip"] {
        let compressed = http
            .get(format!("{}/assets/app-0123456789ab.js", server.url))
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(compressed.headers()["content-encoding"], encoding);
    }
    let traced = get("/healthz").await.unwrap();
    assert!(traced.headers().contains_key("x-request-id"));
    server.stop().await;
}

#[tokio::test]
async fn health_follows_the_database() {
    let pwa = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    fake_build(pwa.path());
    let server = common::start(pwa.path(), Backend::Local(files.path().into())).await;
    let url = format!("{}/healthz", server.url);

    let up = reqwest::get(&url).await.unwrap();
    assert_eq!(up.status(), 200);
    assert_eq!(
        up.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({"status": "ok", "database": "ok"})
    );

    server.pool.close().await;
    let down = reqwest::get(&url).await.unwrap();
    assert_eq!(down.status(), 503);
    server.stop().await;
}

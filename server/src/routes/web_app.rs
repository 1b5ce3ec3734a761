//! Serves the built PWA from `dist/`: hashed assets are immutable, the entry points
//! (index.html, the service worker, the manifest) are revalidated on every load, and any
//! extension-less path (an app route such as `/stock`) gets index.html.

use std::path::PathBuf;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::services::ServeDir;

use crate::app::AppState;

pub fn router(pwa_dir: PathBuf) -> Router<AppState> {
    let index = pwa_dir.join("index.html");
    let spa_fallback = move |uri: Uri| {
        let index = index.clone();
        async move { app_route(uri, index).await }
    };
    let files = ServeDir::new(&pwa_dir).fallback(
        axum::handler::HandlerWithoutStateExt::into_service(spa_fallback),
    );
    Router::new()
        .fallback_service(files)
        .layer(middleware::from_fn(cache_and_type_headers))
}

async fn app_route(uri: Uri, index: PathBuf) -> Response {
    let last = uri.path().rsplit('/').next().unwrap_or("");
    if last.contains('.') || uri.path().starts_with("/api/") {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    match tokio::fs::read(&index).await {
        Ok(html) => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            Body::from(html),
        )
            .into_response(),
        Err(_) => (StatusCode::NOT_FOUND, "the web app is not built").into_response(),
    }
}

async fn cache_and_type_headers(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    if !response.status().is_success() {
        return response;
    }
    let headers = response.headers_mut();
    let cache = if path.starts_with("/assets/") {
        "public, max-age=31536000, immutable"
    } else if path.starts_with("/icons/") {
        "public, max-age=86400"
    } else {
        "no-cache"
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if path == "/manifest.json" || path.ends_with(".webmanifest") {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/manifest+json"),
        );
    }
    if path == "/sw.js" {
        headers.insert("service-worker-allowed", HeaderValue::from_static("/"));
    }
    response
}

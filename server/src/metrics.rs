//! Prometheus metrics at `GET /metrics` (text exposition format):
//!
//! - `printstall_http_requests_total{method, route, status}` and
//!   `printstall_http_request_duration_seconds{method, route}` (a histogram), by route
//!   template (`/api/v1/products/{id}`), never by concrete path, so ids never become labels;
//! - `printstall_sync_ops_total{outcome, source}`: ops that reached the merge rules, applied
//!   or rejected, pushed by a device (`push`) or made by the server for a REST change
//!   (`rest`);
//! - `printstall_db_pool_connections{pool, state}` and `printstall_db_pool_max{pool}`: the
//!   owner and app pools, read at each scrape.
//!
//! Who may read it: with `PRINTSTALL_METRICS_TOKEN` set, only a request bearing that token
//! (`Authorization: Bearer`); without it, only a scraper on the same machine talking to the
//! server directly (a loopback peer and no `X-Forwarded-For`, so a request relayed by a
//! reverse proxy is refused). The metrics hold no shop data, ids or user details, only
//! route templates, status codes, timings and pool sizes.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::app::AppState;

const REQUESTS: &str = "printstall_http_requests_total";
const DURATION: &str = "printstall_http_request_duration_seconds";
const SYNC_OPS: &str = "printstall_sync_ops_total";
const POOL: &str = "printstall_db_pool_connections";
const POOL_MAX: &str = "printstall_db_pool_max";

/// Latency buckets, in seconds.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process-wide recorder, installed on first use (several servers in one test process
/// share it). `None` when another recorder was installed first.
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(DURATION.to_owned()), BUCKETS)
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => {
                    describe();
                    Some(handle)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "metrics are off: a recorder was already installed");
                    None
                }
            }
        })
        .as_ref()
}

fn describe() {
    metrics::describe_counter!(
        REQUESTS,
        "HTTP requests answered, by route template and status"
    );
    metrics::describe_histogram!(
        DURATION,
        metrics::Unit::Seconds,
        "time to answer an HTTP request (until the response head), by route template"
    );
    metrics::describe_counter!(
        SYNC_OPS,
        "sync ops that reached the merge rules, applied or rejected"
    );
    metrics::describe_gauge!(POOL, "database connections by pool and state");
    metrics::describe_gauge!(POOL_MAX, "the most connections a pool opens");
}

/// Counts an op that reached the merge rules.
pub fn sync_op(applied: bool, rest: bool) {
    metrics::counter!(
        SYNC_OPS,
        "outcome" => if applied { "applied" } else { "rejected" },
        "source" => if rest { "rest" } else { "push" },
    )
    .increment(1);
}

/// Middleware (on every route): counts and times the request by its route template.
pub async fn track(request: Request, next: Next) -> Response {
    if handle().is_none() {
        return next.run(request).await;
    }
    let route = match request.extensions().get::<MatchedPath>() {
        Some(p) => p.as_str().to_owned(),
        None if request.uri().path().starts_with("/api/") => "unmatched".to_owned(),
        None => "web_app".to_owned(),
    };
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!(DURATION, "method" => method.clone(), "route" => route.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!(REQUESTS, "method" => method, "route" => route, "status" => status)
        .increment(1);
    response
}

fn allowed(state: &AppState, headers: &HeaderMap, peer: Option<SocketAddr>) -> bool {
    match &state.settings.metrics_token {
        Some(token) => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| {
                constant_time_eq(given.trim().as_bytes(), token.expose().as_bytes())
            }),
        None => {
            peer.is_some_and(|p| p.ip().is_loopback()) && !headers.contains_key("x-forwarded-for")
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use sha2::{Digest, Sha256};
    // Equal-length digests, compared without an early exit.
    let (x, y) = (Sha256::digest(a), Sha256::digest(b));
    x.iter()
        .zip(y.iter())
        .fold(0u8, |acc, (p, q)| acc | (p ^ q))
        == 0
}

/// `GET /metrics`.
pub async fn render(State(state): State<AppState>, request: Request) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    if !allowed(&state, request.headers(), peer) {
        let mut r = (
            StatusCode::UNAUTHORIZED,
            "send the metrics token (PRINTSTALL_METRICS_TOKEN) as Authorization: Bearer\n",
        )
            .into_response();
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return r;
    }
    let Some(handle) = handle() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics are not recorded\n",
        )
            .into_response();
    };
    for (name, pool) in [("owner", &state.db), ("app", &state.api.app)] {
        let size = f64::from(pool.size());
        let idle = f64::from(u32::try_from(pool.num_idle()).unwrap_or(u32::MAX));
        metrics::gauge!(POOL, "pool" => name, "state" => "idle").set(idle);
        metrics::gauge!(POOL, "pool" => name, "state" => "in_use").set((size - idle).max(0.0));
        metrics::gauge!(POOL_MAX, "pool" => name)
            .set(f64::from(pool.options().get_max_connections()));
    }
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        handle.render(),
    )
        .into_response()
}

//! The REST API under `/api/v1`: one module per resource, each adding its routes to a
//! [`Routes`] registry so that the OpenAPI document can be checked against what is mounted.

pub mod common;
pub mod csv_io;
pub mod event_report;
pub mod events;
pub mod filaments;
pub mod files;
pub mod imports;
pub mod models;
pub mod openapi;
pub mod print_jobs;
pub mod printer_reports;
pub mod printer_tokens;
pub mod printers;
pub mod products;
pub mod sales;
pub mod shop;
pub mod spools;

use std::sync::Arc;

use axum::Router;
use axum::http::Method;
use axum::routing::MethodRouter;
use sqlx::PgPool;

use crate::auth::{self, AuthKeys, RateLimiter};
use crate::storage::Storage;

/// What every API handler can reach.
#[derive(Clone)]
pub struct ApiState {
    /// The owner connection: migrations and the sign-in lookups that cross shops.
    pub owner: PgPool,
    /// Request transactions, as `printstall_app` under row-level security.
    pub app: PgPool,
    pub keys: Arc<AuthKeys>,
    pub limiter: Arc<RateLimiter>,
    /// The file store (sliced files and their thumbnails).
    pub storage: Storage,
    /// Bytes of files one shop may store (`PRINTSTALL_SHOP_QUOTA_BYTES`).
    pub shop_quota_bytes: u64,
    /// API requests per minute per user and per shop.
    pub requests: Arc<crate::auth::request_limit::RequestCounter>,
    /// Seals the shop's business details at rest (issue 7, `crate::crypto`).
    pub crypto: Arc<crate::crypto::KeyRing>,
    /// External sign-in (OpenID Connect), when configured.
    pub oidc: Option<Arc<auth::oidc::OidcVerifier>>,
    /// Outgoing mail, when SMTP is configured.
    pub mailer: Option<Arc<crate::email::Mailer>>,
    /// The address prefix Spoolman clients are given (`/spoolman`; the API is below it at
    /// `/api/v1`, see [`crate::spoolman`]).
    pub spoolman_root: Arc<str>,
}

/// A router that remembers every `(method, path)` it mounts.
pub struct Routes {
    router: Router<ApiState>,
    mounted: Vec<(Method, &'static str)>,
}

impl Routes {
    fn new() -> Self {
        Self {
            router: Router::new(),
            mounted: Vec::new(),
        }
    }

    /// Mounts `handler` at `path` (relative to `/api/v1`) for each of `methods`.
    pub fn route(
        mut self,
        path: &'static str,
        methods: &[Method],
        handler: MethodRouter<ApiState>,
    ) -> Self {
        for m in methods {
            self.mounted.push((m.clone(), path));
        }
        self.router = self.router.route(path, handler);
        self
    }
}

fn all_routes() -> Routes {
    let r = Routes::new();
    let r = auth::routes(r);
    let r = auth::password_reset::routes(r);
    let r = crate::email::digest::routes(r);
    let r = shop::routes(r);
    let r = products::routes(r);
    let r = sales::routes(r);
    let r = filaments::routes(r);
    let r = spools::routes(r);
    let r = models::routes(r);
    let r = files::routes(r);
    let r = printers::routes(r);
    let r = printer_reports::routes(r);
    let r = print_jobs::routes(r);
    let r = events::routes(r);
    let r = event_report::routes(r);
    let r = crate::audit::routes(r);
    let r = crate::export::routes(r);
    let r = crate::erase::routes(r);
    let r = printer_tokens::routes(r);
    let r = imports::routes(r);
    let r = csv_io::routes(r);
    openapi::routes(r)
}

/// Every `(METHOD, /api/v1/path)` the API mounts, in axum's path syntax.
pub fn mounted_routes() -> Vec<(String, String)> {
    all_routes()
        .mounted
        .into_iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .chain(
            crate::sync::ROUTES
                .iter()
                .map(|(m, p)| ((*m).to_owned(), (*p).to_owned())),
        )
        .map(|(m, p)| (m, format!("/api/v1{p}")))
        .collect()
}

/// The `/api/v1` router, with its state.
pub fn router<S: Clone + Send + Sync + 'static>(state: ApiState) -> Router<S> {
    let routes = all_routes();
    Router::new()
        .nest("/api/v1", routes.router)
        .route("/api/v1", axum::routing::any(common::not_found))
        .route("/api/v1/{*rest}", axum::routing::any(common::not_found))
        .with_state(state)
}

//! Starting the server: the database (embedded or configured), the file store, the
//! router, and serving until a shutdown signal.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, Request};
use axum::routing::get;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::Level;

use crate::db::{self, DbError};
use crate::embedded_pg::{self, EmbeddedPgError, EmbeddedPostgres};
use crate::routes;
use crate::secret::Secret;
use crate::settings::{Settings, StorageSettings};
use crate::storage::signed_url::UrlSigner;
use crate::storage::{LocalStore, S3Store, Storage, StorageError};

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub storage: Storage,
    pub settings: Arc<Settings>,
    /// What the REST and sync routes share: pools, token keys, rate limits, the file store.
    pub api: crate::api::ApiState,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    EmbeddedPg(#[from] EmbeddedPgError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("the file store cannot be used: {0}")]
    Storage(#[from] StorageError),
    #[error(
        "the web app is not built: {0} is missing; run scripts/build-pwa (scripts/run does it)"
    )]
    PwaMissing(String),
    #[error("cannot listen on {address}: {detail}")]
    Bind { address: String, detail: String },
    #[error("cannot read or write {path}: {detail}")]
    DataDir { path: String, detail: String },
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
    #[error(transparent)]
    Email(#[from] crate::email::EmailError),
}

/// The database the server uses, and the embedded cluster when it started one.
pub struct Database {
    pub pool: PgPool,
    pub url: Secret,
    pub embedded: Option<EmbeddedPostgres>,
}

impl Database {
    /// Uses DATABASE_URL when set; otherwise creates and starts the private cluster.
    pub async fn open(settings: &Settings) -> Result<Self, StartError> {
        let (url, embedded) = match &settings.database_url {
            Some(url) => (url.clone(), None),
            None => {
                let data_dir = settings.data_dir.clone();
                let pg = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&data_dir))
                    .await
                    .map_err(|e| StartError::DataDir {
                        path: settings.data_dir.display().to_string(),
                        detail: e.to_string(),
                    })??;
                if let Err(e) = db::ensure_database(&pg.admin_url(), embedded_pg::DATABASE).await {
                    stop_if_started_here(Some(pg)).await;
                    return Err(e.into());
                }
                (Secret::new(pg.url()), Some(pg))
            }
        };
        let pool = match db::connect(url.expose(), 20).await {
            Ok(pool) => pool,
            Err(e) => {
                stop_if_started_here(embedded).await;
                return Err(e.into());
            }
        };
        Ok(Self {
            pool,
            url,
            embedded,
        })
    }

    /// Closes the pool, then stops the embedded cluster if this process started it (one
    /// that was running already, e.g. for another `printstall serve`, is left running).
    /// Every way out of a command that opened the database goes through here.
    pub async fn close(self) {
        self.pool.close().await;
        stop_if_started_here(self.embedded).await;
    }
}

/// Stops the embedded cluster when this process started it; a failure is logged (the
/// caller is on its way out already).
pub async fn stop_if_started_here(embedded: Option<EmbeddedPostgres>) {
    let Some(pg) = embedded.filter(EmbeddedPostgres::started_here) else {
        return;
    };
    match tokio::task::spawn_blocking(move || pg.stop()).await {
        Ok(Ok(())) => tracing::debug!("the embedded PostgreSQL is stopped"),
        Ok(Err(e)) => tracing::warn!(error = %e, "could not stop the embedded PostgreSQL"),
        Err(e) => tracing::warn!(error = %e, "could not stop the embedded PostgreSQL"),
    }
}

/// Reads the key from settings or, the first time, generates one and keeps it in the data
/// folder so that links stay valid across restarts.
pub fn url_signing_key(settings: &Settings) -> Result<Secret, StartError> {
    if let Some(key) = &settings.url_signing_key {
        return Ok(key.clone());
    }
    read_or_create_secret(&settings.data_dir.join("url-signing.key"))
}

pub fn read_or_create_secret(path: &Path) -> Result<Secret, StartError> {
    let fail = |e: std::io::Error| StartError::DataDir {
        path: path.display().to_string(),
        detail: e.to_string(),
    };
    match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => return Ok(Secret::new(text.trim())),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(fail(e)),
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    let key = hex::encode(rand::random::<[u8; 32]>());
    std::fs::write(path, &key).map_err(fail)?;
    Ok(Secret::new(key))
}

/// Builds the file store the settings ask for and checks that it can be used.
pub async fn open_storage(settings: &Settings, base_url: &str) -> Result<Storage, StartError> {
    let storage = match &settings.storage {
        StorageSettings::Local { dir } => Storage::Local(LocalStore::new(
            dir.clone(),
            base_url.to_owned(),
            UrlSigner::new(url_signing_key(settings)?),
        )),
        StorageSettings::S3(s3) => Storage::S3(S3Store::new(s3)),
    };
    storage.check().await?;
    Ok(storage)
}

pub fn check_pwa_built(settings: &Settings) -> Result<(), StartError> {
    let index = settings.pwa_dir.join("index.html");
    if index.exists() {
        Ok(())
    } else {
        Err(StartError::PwaMissing(index.display().to_string()))
    }
}

pub async fn bind(settings: &Settings) -> Result<TcpListener, StartError> {
    let address = format!("{}:{}", settings.host, settings.port);
    TcpListener::bind(&address).await.map_err(|e| {
        let detail = if e.kind() == std::io::ErrorKind::AddrInUse {
            "the port is already in use; stop the other program or set PORT to a free port"
                .to_owned()
        } else {
            e.to_string()
        };
        StartError::Bind { address, detail }
    })
}

/// Reads the access-token key from settings or, the first time, generates one and keeps it
/// in the data folder.
pub fn jwt_secret(settings: &Settings) -> Result<Secret, StartError> {
    if let Some(key) = &settings.jwt_secret {
        return Ok(key.clone());
    }
    read_or_create_secret(&settings.data_dir.join("jwt.key"))
}

/// How people reach this server: `PRINTSTALL_PUBLIC_URL`, else `http://HOST:PORT`.
pub fn public_url(settings: &Settings) -> String {
    settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}:{}", settings.host, settings.port))
}

impl AppState {
    /// Builds the state once at start: the API's app pool (`printstall_app`, connected
    /// lazily), the token keys and the sign-in rate limiter, shared by every router.
    pub fn new(db: PgPool, storage: Storage, settings: Settings) -> Result<Self, StartError> {
        let app = crate::tenancy::app_pool(&db, &settings)?;
        let secret = jwt_secret(&settings)?;
        let crypto = Arc::new(crate::crypto::KeyRing::load(&settings)?);
        let api = crate::api::ApiState {
            owner: db.clone(),
            app,
            keys: Arc::new(crate::auth::AuthKeys::new(&secret)),
            limiter: Arc::new(crate::auth::RateLimiter::default()),
            storage: storage.clone(),
            shop_quota_bytes: settings.shop_quota_bytes,
            requests: Arc::new(crate::auth::request_limit::RequestCounter::new(
                settings.request_limits,
            )),
            crypto,
            oidc: settings
                .oidc
                .as_ref()
                .map(|o| Arc::new(crate::auth::oidc::OidcVerifier::new(o))),
            mailer: match &settings.smtp {
                Some(smtp) => Some(Arc::new(crate::email::Mailer::new(
                    smtp,
                    &public_url(&settings),
                )?)),
                None => None,
            },
            spoolman_root: crate::settings::spoolman_root(&settings.spoolman_path)
                .unwrap_or("/spoolman")
                .into(),
        };
        Ok(Self {
            db,
            storage,
            settings: Arc::new(settings),
            api,
        })
    }

    /// Proves the app role can connect (a wrong `APP_DATABASE_URL` fails at start).
    pub async fn check_app_role(&self) -> Result<(), StartError> {
        sqlx::query("select 1")
            .execute(&self.api.app)
            .await
            .map(|_| ())
            .map_err(|e| {
                StartError::Db(DbError::Unreachable {
                    url: "the app role printstall_app (APP_DATABASE_URL)".into(),
                    detail: e.to_string(),
                })
            })
    }
}

pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &Request<_>| {
            let id = request
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::span!(
                Level::INFO,
                "request",
                request_id = %id,
                method = %request.method(),
                path = %request.uri().path(),
                user_id = tracing::field::Empty,
            )
        })
        .on_response(
            |response: &axum::response::Response, latency: Duration, _span: &tracing::Span| {
                tracing::info!(
                    status = response.status().as_u16(),
                    latency_ms = latency.as_secs_f64() * 1000.0,
                    "answered"
                );
            },
        );
    let security = crate::headers::SecurityHeaders::new(&state.settings);
    Router::new()
        .route("/healthz", get(routes::health::healthz))
        .route("/metrics", get(crate::metrics::render))
        .merge(crate::api::router(state.api.clone()))
        .merge(crate::sync::router(state.api.clone()))
        .merge(crate::spoolman::router(
            state.api.clone(),
            &state.settings.spoolman_path,
        ))
        .merge(routes::files::router())
        .merge(routes::web_app::router(state.settings.pwa_dir.clone()))
        .layer(axum::middleware::from_fn(crate::metrics::track))
        .layer(axum::middleware::from_fn_with_state(
            security,
            crate::headers::add,
        ))
        .layer(CompressionLayer::new().gzip(true).br(true).compress_when(
            // A zip export is compressed already (and streamed).
            DefaultPredicate::new().and(NotForContentType::const_new("application/zip")),
        ))
        .layer(sentry::integrations::tower::NewSentryLayer::<
            Request<axum::body::Body>,
        >::new_from_top())
        .layer(trace)
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

/// Serves until `shutdown` resolves; requests in flight finish first.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM. The handlers are installed when this is called
/// (inside the runtime), not when the future is first polled: `serve` calls it before it
/// opens the database, so a signal during start-up is kept, not fatal, and the server
/// stops cleanly (and stops the embedded cluster) as soon as it is up.
#[cfg(unix)]
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let interrupt = signal(SignalKind::interrupt()).ok();
    let terminate = signal(SignalKind::terminate()).ok();
    async move {
        let wait = |s: Option<tokio::signal::unix::Signal>| async move {
            match s {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = wait(interrupt) => {},
            () = wait(terminate) => {},
        }
        tracing::info!("shutting down: finishing requests in flight");
    }
}

/// Resolves on Ctrl-C.
#[cfg(not(unix))]
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: finishing requests in flight");
    }
}

//! Connecting to PostgreSQL, running the migrations in `migrations/`, and beginning
//! transactions that a cancelled request cannot leave open.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool, Postgres, Transaction};

use crate::secret::mask_url_password;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(
        "DATABASE_URL {url} is not a valid PostgreSQL URL ({detail}); expected postgres://user:password@host:5432/database"
    )]
    BadUrl { url: String, detail: String },
    #[error(
        "cannot reach the database at {url}: {detail}; check DATABASE_URL and that PostgreSQL is running"
    )]
    Unreachable { url: String, detail: String },
    #[error("the database migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
}

pub fn connect_options(url: &str) -> Result<PgConnectOptions, DbError> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(DbError::BadUrl {
            url: "(hidden, it may hold a password)".into(),
            detail: "it must start with postgres:// or postgresql://".into(),
        });
    }
    url.parse::<PgConnectOptions>()
        .map(|o| o.log_statements(tracing::log::LevelFilter::Debug))
        .map_err(|e| DbError::BadUrl {
            url: mask_url_password(url),
            detail: e.to_string(),
        })
}

/// Opens a pool and proves the database answers, within 10 seconds.
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, DbError> {
    let options = connect_options(url)?;
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        // No ping before every checkout (a round trip per request; see `tenancy::app_pool`).
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .map_err(|e| DbError::Unreachable {
            url: mask_url_password(url),
            detail: e.to_string(),
        })
}

/// Begins a transaction on `pool` that a cancelled caller cannot leave open.
///
/// sqlx 0.8.6 counts a transaction only once its `BEGIN` has answered (transact-rs/sqlx#4393,
/// fixed in 0.9.1, whose API we have not moved to): a future dropped while the `BEGIN` is in
/// flight (a client that goes away mid-request, such as a phone losing signal at the stall)
/// queues no `ROLLBACK`, and the pool hands the connection, still inside that transaction,
/// to the next borrower, whose statements, autocommit writes included, then run inside it.
/// Here the `BEGIN` runs in a task of its own: when the caller goes away the task still
/// finishes, and the transaction it made is dropped there, which queues the `ROLLBACK` that
/// the pool sends before it lends the connection again.
pub async fn begin(pool: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let pool = pool.clone();
    detached(async move { pool.begin().await }).await
}

/// [`begin`] with a custom `BEGIN` statement (`begin; select set_config(...)`).
pub async fn begin_with(
    pool: &PgPool,
    statement: String,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let pool = pool.clone();
    detached(async move { pool.begin_with(statement).await }).await
}

async fn detached<T: Send + 'static>(
    work: impl Future<Output = Result<T, sqlx::Error>> + Send + 'static,
) -> Result<T, sqlx::Error> {
    tokio::spawn(work)
        .await
        .map_err(|e| sqlx::Error::Protocol(format!("beginning a transaction failed: {e}")))?
}

pub async fn migrate(pool: &PgPool) -> Result<(), DbError> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// Creates `database` through a maintenance connection when it does not exist yet.
pub async fn ensure_database(admin_url: &str, database: &str) -> Result<(), DbError> {
    let pool = connect(admin_url, 1).await?;
    let exists: bool =
        sqlx::query_scalar(r#"select exists (select from pg_database where datname = $1)"#)
            .bind(database)
            .fetch_one(&pool)
            .await?;
    if !exists {
        // Identifiers cannot be bound; `database` is our own constant, quoted anyway.
        sqlx::query(&format!(
            r#"create database "{}""#,
            database.replace('"', "")
        ))
        .execute(&pool)
        .await?;
    }
    pool.close().await;
    Ok(())
}

/// True when the database answers a trivial query within two seconds.
pub async fn is_reachable(pool: &PgPool) -> bool {
    let ping = sqlx::query_scalar::<_, i32>("select 1").fetch_one(pool);
    matches!(
        tokio::time::timeout(Duration::from_secs(2), ping).await,
        Ok(Ok(1))
    )
}

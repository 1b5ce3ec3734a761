//! Who a request acts for, in the database: the app pool (the `printstall_app` role, which
//! owns no table and cannot bypass row-level security) and request transactions that set
//! `app.shop_id` / `app.user_id` before anything else.

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use crate::db::{self, DbError};
use crate::settings::Settings;

/// The login role made by migration 0001.
pub const APP_ROLE: &str = "printstall_app";

/// A pool for request transactions: `APP_DATABASE_URL` when set, otherwise the owner pool's
/// connection options with the user `printstall_app` (fits the embedded cluster and any
/// cluster that trusts local connections). Connects lazily: building it does no I/O.
pub fn app_pool(owner: &PgPool, settings: &Settings) -> Result<PgPool, DbError> {
    let options = match &settings.app_database_url {
        Some(url) => db::connect_options(url.expose())?,
        None => owner.connect_options().as_ref().clone().username(APP_ROLE),
    };
    Ok(PgPoolOptions::new()
        .max_connections(20)
        .acquire_timeout(Duration::from_secs(10))
        // No `select 1` before every checkout: that ping was a round trip per request. A
        // connection the database closed fails its first query and leaves the pool.
        .test_before_acquire(false)
        .connect_lazy_with(options))
}

/// Sets the shop and user of the transaction `tx` (until it ends).
pub async fn set_tenant(
    tx: &mut Transaction<'static, Postgres>,
    shop_id: Option<Uuid>,
    user_id: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"select set_config('app.shop_id', coalesce($1::text, ''), true),
                  set_config('app.user_id', coalesce($2::text, ''), true)"#,
    )
    .bind(shop_id)
    .bind(user_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Names the secret hash the transaction `tx` looks a row up by (`app.lookup_hash`, until it
/// ends): the owner connection's way to find an invite, refresh token or printer token
/// before any shop is known, where row-level security is forced (migration 0430).
pub async fn set_lookup_hash(
    tx: &mut Transaction<'static, Postgres>,
    hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(r#"select set_config('app.lookup_hash', $1, true)"#)
        .bind(hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A transaction on the owner pool acting for `user_id` only (no shop): for the person's own
/// rows across shops (their sessions), where row-level security is forced.
pub async fn begin_for_user(
    owner: &PgPool,
    user_id: Uuid,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let mut tx = crate::db::begin(owner).await?;
    set_tenant(&mut tx, None, Some(user_id)).await?;
    Ok(tx)
}

/// `begin` and the tenant settings in one simple query, so that a request transaction
/// starts in one round trip instead of two. The values are UUIDs, written by `Uuid`'s own
/// formatting (hex digits and dashes), so nothing from a request reaches the SQL text.
fn begin_statement(shop_id: Uuid, user_id: Uuid, session_id: Option<Uuid>) -> String {
    let session = session_id.map(|s| s.to_string()).unwrap_or_default();
    format!(
        "begin; select set_config('app.shop_id', '{shop_id}', true), \
         set_config('app.user_id', '{user_id}', true), \
         set_config('app.session_id', '{session}', true)"
    )
}

/// Begins a transaction on `pool` acting for `shop_id` and `user_id`.
pub async fn begin(
    pool: &PgPool,
    shop_id: Uuid,
    user_id: Uuid,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    crate::db::begin_with(pool, begin_statement(shop_id, user_id, None)).await
}

/// [`begin`] for a signed-in request: also records its session (`app.session_id`) for the
/// audit log's triggers, in the same round trip.
pub async fn begin_session(
    pool: &PgPool,
    shop_id: Uuid,
    user_id: Uuid,
    session_id: Option<Uuid>,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    crate::db::begin_with(pool, begin_statement(shop_id, user_id, session_id)).await
}

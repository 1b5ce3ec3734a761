//! Sessions: one per sign-in (a refresh-token family), listed with the device it started
//! on, and ended one by one. Ending a session revokes its refresh tokens and, through the
//! `sid` claim checked by [`super::AuthUser`], its access tokens at once.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sqlx::{PgPool, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use super::AuthUser;
use crate::api::ApiState;
use crate::api::common::{ApiJson, ApiPath, ApiResult, db};
use crate::error::ApiError;
use crate::tenancy;

/// Whether the session `sid` was ended (signed out, ended from another device, its refresh
/// token reused, or the password changed on another device): none of its refresh tokens
/// is still unrevoked. One round trip: `session_open` (migration 0430) names the user for
/// its query, as forced row-level security on `refresh_token` asks.
pub async fn is_revoked(owner: &PgPool, user: Uuid, sid: Uuid) -> Result<bool, ApiError> {
    sqlx::query_scalar(r#"select not session_open($1, $2)"#)
        .bind(user)
        .bind(sid)
        .fetch_one(owner)
        .await
        .map_err(db)
}

/// A short name for the device a session starts on: its User-Agent, at most 200 characters.
pub fn device_label(headers: &HeaderMap) -> Option<String> {
    let ua = headers.get(header::USER_AGENT)?.to_str().ok()?.trim();
    if ua.is_empty() {
        return None;
    }
    Some(ua.chars().filter(|c| !c.is_control()).take(200).collect())
}

#[derive(Debug, Serialize)]
pub struct SessionOut {
    pub id: Uuid,
    /// The User-Agent of the sign-in, when the client sent one.
    pub device: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The last sign-in or token refresh of the session.
    #[serde(with = "time::serde::rfc3339")]
    pub last_used_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub shop_id: Uuid,
    /// The session this request was made with.
    pub current: bool,
}

#[derive(Debug, Serialize)]
pub struct SessionList {
    pub items: Vec<SessionOut>,
}

/// `GET /auth/sessions`: the signed-in user's sessions that are still open, newest use first.
pub async fn list(
    State(state): State<ApiState>,
    auth: AuthUser,
) -> ApiResult<ApiJson<SessionList>> {
    // Refresh tokens are invisible to the app role: the owner connection reads them, for
    // this user only.
    let mut tx = tenancy::begin_for_user(&state.owner, auth.user_id)
        .await
        .map_err(db)?;
    let rows = sqlx::query(
        r#"select family_id, min(created_at) as created_at, max(created_at) as last_used_at,
                  max(expires_at) as expires_at, (array_agg(shop_id))[1] as shop_id,
                  (array_agg(device_label order by created_at desc))[1] as device
           from refresh_token
           where user_id = $1
           group by family_id
           having bool_or(revoked_at is null and expires_at > now())
           order by max(created_at) desc
           limit 200"#,
    )
    .bind(auth.user_id)
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    let items = rows
        .into_iter()
        .map(|r| {
            let id: Uuid = r.get("family_id");
            SessionOut {
                id,
                device: r.get("device"),
                created_at: r.get("created_at"),
                last_used_at: r.get("last_used_at"),
                expires_at: r.get("expires_at"),
                shop_id: r.get("shop_id"),
                current: auth.session_id == Some(id),
            }
        })
        .collect();
    Ok(ApiJson(SessionList { items }))
}

/// `DELETE /auth/sessions/{id}`: ends one of the user's own sessions (204); another
/// user's, an unknown or an already ended one is 404.
pub async fn revoke(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    let mut tx = tenancy::begin_for_user(&state.owner, auth.user_id)
        .await
        .map_err(db)?;
    let ended = sqlx::query(
        r#"update refresh_token set revoked_at = now()
           where family_id = $1 and user_id = $2 and revoked_at is null"#,
    )
    .bind(id)
    .bind(auth.user_id)
    .execute(&mut *tx)
    .await
    .map_err(db)?
    .rows_affected();
    tx.commit().await.map_err(db)?;
    if ended == 0 {
        return Err(ApiError::NotFound("session".into()));
    }
    tracing::info!(session = %id, "session ended by its user");
    Ok(StatusCode::NO_CONTENT.into_response())
}

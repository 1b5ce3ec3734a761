//! Password reset by email: `POST /auth/password-reset/request {email}` always answers 202
//! with the same words, whether or not an account uses the address (no account
//! enumeration; the lookup and the mail happen after the answer). When one does, a
//! single-use token valid for [`RESET_TTL_MINUTES`] is stored as its SHA-256 and mailed as
//! a link. `POST /auth/password-reset {token, new_password}` sets the password, uses up every
//! open reset token of the account and revokes all its sessions (refresh tokens).
//! Accounts made by external sign-in have no password here and get no mail.

use axum::extract::{FromRequest, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use printstall_core::domain::member;
use serde::Deserialize;
use serde_json::json;
use sqlx::Row;
use uuid::Uuid;

use super::{AuthFail, client_address, oidc, tokens};
use crate::api::common::{ApiJson, db, invalid};
use crate::api::{ApiState, Routes};
use crate::email::{EMAIL_OFF, Mailer, deliverable, messages};
use crate::error::ApiError;

/// How long a reset link works.
pub const RESET_TTL_MINUTES: i64 = 60;

pub fn routes(r: Routes) -> Routes {
    r.route(
        "/auth/password-reset/request",
        &[Method::POST],
        post(request_reset),
    )
    .route("/auth/password-reset", &[Method::POST], post(reset))
}

#[derive(Debug, Deserialize)]
pub struct RequestIn {
    pub email: String,
}

/// `POST /auth/password-reset/request`.
async fn request_reset(
    State(state): State<ApiState>,
    request: axum::extract::Request,
) -> Result<Response, AuthFail> {
    let address = client_address(request.extensions());
    let ApiJson(input) = ApiJson::<RequestIn>::from_request(request, &state).await?;
    member::validate_email("email", &input.email).map_err(invalid)?;
    let Some(mailer) = state.mailer.clone() else {
        return Err(ApiError::bad_request(
            "email_off",
            format!(
                "{EMAIL_OFF}, so password reset by email is off: sign in and change the password, or ask the server's operator"
            ),
        )
        .into());
    };
    let account = member::normalize_email(&input.email);
    let key = format!("reset:{account}");
    state
        .limiter
        .check(&key, &address)
        .map_err(AuthFail::TooMany)?;
    // Every request counts, so that one address or account cannot be flooded with mail.
    state.limiter.record_failure(&key, &address);
    let owner = state.owner.clone();
    tokio::spawn(async move {
        if let Err(e) = send_reset(&owner, &mailer, &account).await {
            tracing::warn!(error = %e, "a password reset message could not be sent");
        }
    });
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({
            "message": format!(
                "If an account uses this address, a link to set a new password is on its way. It works once, for {RESET_TTL_MINUTES} minutes."
            ),
        })),
    )
        .into_response())
}

#[derive(Debug, thiserror::Error)]
enum SendError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Email(#[from] crate::email::EmailError),
}

async fn send_reset(owner: &sqlx::PgPool, mailer: &Mailer, email: &str) -> Result<(), SendError> {
    let row =
        sqlx::query(r#"select id, email, password_hash from app_user where lower(email) = $1"#)
            .bind(email)
            .fetch_optional(owner)
            .await?;
    let Some(row) = row else {
        return Ok(());
    };
    let to: String = row.get("email");
    if row.get::<String, _>("password_hash") == oidc::NO_PASSWORD || !deliverable(&to) {
        return Ok(());
    }
    let (token, hash) = tokens::new_refresh_token();
    sqlx::query(
        r#"insert into password_reset (id, user_id, token_hash, expires_at)
           values ($1, $2, $3, now() + make_interval(mins => $4))"#,
    )
    .bind(Uuid::now_v7())
    .bind(row.get::<Uuid, _>("id"))
    .bind(&hash)
    .bind(i32::try_from(RESET_TTL_MINUTES).unwrap_or(60))
    .execute(owner)
    .await?;
    let text = messages::password_reset(mailer.public_url(), &token, RESET_TTL_MINUTES);
    mailer.send(&to, &text.subject, text.body).await?;
    Ok(())
}

#[derive(Debug, Deserialize)]
pub struct ResetIn {
    pub token: String,
    pub new_password: String,
}

/// `POST /auth/password-reset`.
async fn reset(
    State(state): State<ApiState>,
    request: axum::extract::Request,
) -> Result<Response, AuthFail> {
    let address = client_address(request.extensions());
    let ApiJson(input) = ApiJson::<ResetIn>::from_request(request, &state).await?;
    member::validate_password("new_password", &input.new_password).map_err(invalid)?;
    let key = format!("reset-token:{address}");
    let key = key.as_str();
    state
        .limiter
        .check(key, &address)
        .map_err(AuthFail::TooMany)?;
    let refused = || {
        ApiError::bad_request(
            "reset_link_invalid",
            "this reset link is unknown, used or expired; ask for a new one",
        )
    };
    let hash = tokens::sha256_hex(input.token.trim());
    let mut tx = crate::db::begin(&state.owner).await.map_err(db)?;
    let row = sqlx::query(
        r#"select id, user_id from password_reset
           where token_hash = $1 and used_at is null and expires_at > now()
           for update"#,
    )
    .bind(&hash)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    let Some(row) = row else {
        state.limiter.record_failure(key, &address);
        return Err(refused().into());
    };
    let user_id: Uuid = row.get("user_id");
    let new_hash = tokens::hash_password(input.new_password)
        .await
        .map_err(ApiError::internal)?;
    sqlx::query(r#"update app_user set password_hash = $2, updated_at = now() where id = $1"#)
        .bind(user_id)
        .bind(&new_hash)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    sqlx::query(
        r#"update password_reset set used_at = now() where user_id = $1 and used_at is null"#,
    )
    .bind(user_id)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    // Forced row-level security on refresh_token: name the user whose sessions end.
    crate::tenancy::set_tenant(&mut tx, None, Some(user_id))
        .await
        .map_err(db)?;
    sqlx::query(
        r#"update refresh_token set revoked_at = now() where user_id = $1 and revoked_at is null"#,
    )
    .bind(user_id)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    tracing::info!(%user_id, "password set through a reset link; sessions revoked");
    Ok(StatusCode::NO_CONTENT.into_response())
}

//! Printer API tokens: the owner makes one per printer host (Moonraker, OctoPrint) for the
//! Spoolman-compatible API ([`crate::spoolman`]), lists them and revokes them. The token is
//! shown once, when it is made; only its SHA-256 is stored.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get};
use printstall_core::domain::member::Action;
use printstall_core::domain::validation::{self as v, max_len};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;
use uuid::Uuid;

use super::common::{ApiJson, ApiPath, ApiQuery, ApiResult, ListQuery, Page, db, invalid, require};
use super::{ApiState, Routes};
use crate::auth::{AuthUser, tokens};
use crate::error::ApiError;

pub fn routes(r: Routes) -> Routes {
    r.route(
        "/printer-tokens",
        &[Method::GET, Method::POST],
        get(list).post(create),
    )
    .route("/printer-tokens/{id}", &[Method::DELETE], delete(revoke))
}

/// Prefix of every printer token (so a leaked one is recognisable).
pub const TOKEN_PREFIX: &str = "pst_";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// The printer's name, recorded with every use it reports.
    pub name: String,
    /// The printer it belongs to, when the shop has it in its printer list.
    #[serde(default)]
    pub printer_id: Option<Uuid>,
}

#[derive(Debug, Serialize)]
pub struct TokenOut {
    pub id: Uuid,
    pub name: String,
    pub printer_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

/// The answer to creating a token: the only time the token itself is shown.
#[derive(Debug, Serialize)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub token_info: TokenOut,
    /// Send as `Authorization: Bearer`, as `?token=`, or in the path (`server_path`).
    pub token: String,
    /// The Spoolman server address for hosts that can send a header (Moonraker's
    /// `additional_headers`): this server's origin followed by this path.
    pub spoolman_path: String,
    /// The address for hosts that cannot send headers (OctoPrint-Spoolman, Moonraker
    /// without `additional_headers`): the token is part of the path.
    pub spoolman_path_with_token: String,
}

fn from_row(r: &PgRow) -> TokenOut {
    TokenOut {
        id: r.get("id"),
        name: r.get("name"),
        printer_id: r.get("printer_id"),
        created_at: r.get("created_at"),
        last_used_at: r.get("last_used_at"),
        revoked_at: r.get("revoked_at"),
    }
}

const COLUMNS: &str = "id, name, printer_id, created_at, last_used_at, revoked_at";

/// `POST /printer-tokens` (owner).
async fn create(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiJson(input): ApiJson<NewToken>,
) -> ApiResult<(StatusCode, ApiJson<CreatedToken>)> {
    require(&auth, Action::ManageShop)?;
    v::required_text("name", &input.name, max_len::NAME).map_err(invalid)?;
    let (secret, _) = tokens::new_refresh_token();
    let token = format!("{TOKEN_PREFIX}{secret}");
    let hash = tokens::sha256_hex(&token);
    let mut tx = state.tx(&auth).await?;
    let row = sqlx::query(&format!(
        r#"insert into printer_token (id, shop_id, name, printer_id, token_hash, created_by)
           values ($1, $2, $3, $4, $5, $6)
           returning {COLUMNS}"#
    ))
    .bind(Uuid::now_v7())
    .bind(auth.shop_id)
    .bind(input.name.trim())
    .bind(input.printer_id)
    .bind(&hash)
    .bind(auth.user_id)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| match db(e) {
        ApiError::NotFound(_) => ApiError::NotFound("printer".into()),
        other => other,
    })?;
    // The printer's own device: its reports are its ops, numbered apart from the owner's.
    let info = from_row(&row);
    crate::spoolman::register_printer_device(
        &mut tx,
        auth.shop_id,
        auth.user_id,
        info.id,
        &info.name,
    )
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    let root = state.spoolman_root.to_string();
    Ok((
        StatusCode::CREATED,
        ApiJson(CreatedToken {
            token_info: info,
            spoolman_path_with_token: format!("{root}/t/{token}"),
            spoolman_path: root,
            token,
        }),
    ))
}

/// `GET /printer-tokens` (owner): every token, revoked ones too, oldest first, by cursor.
async fn list(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<ApiJson<Page<TokenOut>>> {
    require(&auth, Action::ManageShop)?;
    let limit = q.limit()?;
    let mut tx = state.tx(&auth).await?;
    let rows = sqlx::query(&format!(
        r#"select {COLUMNS} from printer_token
           where ($1::uuid is null or id > $1)
           order by id limit $2"#
    ))
    .bind(q.after()?)
    .bind(limit + 1)
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    let items = rows.iter().map(from_row).collect();
    Ok(ApiJson(Page::from_rows(items, limit, |t| t.id)))
}

/// `DELETE /printer-tokens/{id}` (owner): revokes at once; the printer's next request is 401.
async fn revoke(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    require(&auth, Action::ManageShop)?;
    let mut tx = state.tx(&auth).await?;
    let found: Option<Uuid> = sqlx::query_scalar(
        r#"update printer_token set revoked_at = coalesce(revoked_at, now())
           where id = $1 returning id"#,
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    if found.is_none() {
        return Err(ApiError::NotFound("printer token".into()));
    }
    tx.commit().await.map_err(db)?;
    Ok(StatusCode::NO_CONTENT)
}

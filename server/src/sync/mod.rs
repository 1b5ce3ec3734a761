//! Offline sync (issue 4, `shared/notes/sync-protocol.md`): devices push ops, pull the
//! changed cells, and hear a poke when another device of the shop pushed.
//!
//! - `POST /api/v1/sync/push` ([`push`]): applies a batch of ops in one transaction with
//!   the core rules, exactly once per `op_id`, and keeps the REST tables in step.
//! - `GET /api/v1/sync/pull` ([`pull`]): the cells changed since an opaque cursor.
//! - `GET /api/v1/sync/events` ([`events`]): server-sent `poke` events, fed by PostgreSQL
//!   `LISTEN/NOTIFY` so that any number of server processes can share one database.
//!
//! These routes are mounted beside the REST API rather than in its [`crate::api::Routes`]
//! registry: they are described by the sync protocol note, not by the OpenAPI document.

pub mod deferred;
pub mod events;
pub mod project;
pub mod pull;
pub mod push;
pub mod rest;

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::api::ApiState;
use crate::auth::AuthUser;
use crate::error::ApiError;

/// The sync wire protocol this server speaks.
pub const PROTOCOL: u32 = 1;
/// The largest push body: 500 ops of up to ~8 KiB each.
pub const MAX_PUSH_BYTES: usize = 4 * 1024 * 1024;

/// What the sync handlers reach: the API's pools and keys, and the poke hub.
#[derive(Clone)]
pub struct SyncState {
    pub api: ApiState,
    pub hub: Arc<events::Hub>,
}

const PUSH: &str = "/sync/push";
const PULL: &str = "/sync/pull";
const EVENTS: &str = "/sync/events";

/// `(method, path under /api/v1)` of every sync route, for the OpenAPI check.
pub const ROUTES: [(&str, &str); 3] = [("POST", PUSH), ("GET", PULL), ("GET", EVENTS)];

/// The sync routes, with their state.
pub fn router<S: Clone + Send + Sync + 'static>(api: ApiState) -> Router<S> {
    let hub = Arc::new(events::Hub::new(api.owner.clone()));
    let at = |path: &str| format!("/api/v1{path}");
    Router::new()
        .route(
            &at(PUSH),
            post(push::handler).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route(&at(PULL), get(pull::handler))
        .route(&at(EVENTS), get(events::handler))
        .with_state(SyncState { api, hub })
}

/// The signed-in member (from the bearer token, as in the REST API).
pub struct Member(pub AuthUser);

impl FromRequestParts<SyncState> for Member {
    type Rejection = SyncError;

    async fn from_request_parts(parts: &mut Parts, state: &SyncState) -> Result<Self, SyncError> {
        Ok(Member(
            AuthUser::from_request_parts(parts, &state.api).await?,
        ))
    }
}

/// The errors of the sync routes: the API's, plus the ones only sync has.
#[derive(Debug)]
pub enum SyncError {
    Api(ApiError),
    /// 413: too many ops or too many bytes; nothing was applied.
    TooLarge(String),
    /// 409: the cursor is from another epoch (the server was restored); pull from scratch.
    ResyncRequired,
    /// 403: the device id belongs to another user.
    DeviceTaken,
}

impl From<ApiError> for SyncError {
    fn from(e: ApiError) -> Self {
        SyncError::Api(e)
    }
}

impl From<sqlx::Error> for SyncError {
    fn from(e: sqlx::Error) -> Self {
        SyncError::Api(crate::api::common::db(e))
    }
}

pub type SyncResult<T> = Result<T, SyncError>;

/// For REST handlers that apply their change as an op ([`push::apply_server_op`]).
impl From<SyncError> for ApiError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::Api(e) => e,
            SyncError::TooLarge(m) => ApiError::Unprocessable {
                message: m,
                field: None,
            },
            SyncError::ResyncRequired => ApiError::Conflict("resync required".into()),
            SyncError::DeviceTaken => {
                ApiError::internal("the server-side device id of this member is taken")
            }
        }
    }
}

impl IntoResponse for SyncError {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            SyncError::Api(e) => return e.into_response(),
            SyncError::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large", m),
            SyncError::ResyncRequired => (
                StatusCode::CONFLICT,
                "resync_required",
                "the server's data was restored or reset since this device last pulled; pull everything again from an empty cursor, then push the ops you still hold".to_owned(),
            ),
            SyncError::DeviceTaken => (
                StatusCode::FORBIDDEN,
                "device_taken",
                "this device id is registered to another account; the app must make a new device id for this account".to_owned(),
            ),
        };
        let mut r = (
            status,
            Json(json!({"error": {"code": code, "message": message}})),
        )
            .into_response();
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        r
    }
}

//! The Spoolman-compatible API for printers (issue 8): the subset of Spoolman's REST API
//! and websocket feed that Moonraker's `[spoolman]` component, OctoPrint-Spoolman and the
//! Spoolman bridges use, with Spoolman's field names and shapes (vendor -> filament ->
//! spool, grams and millimetres as floats, integer ids).
//!
//! Served at `PRINTSTALL_SPOOLMAN_PATH` (default `/spoolman/api/v1`), and again below
//! `{root}/t/{token}/api/v1` for hosts that cannot send a header (Spoolman clients append
//! `/api/v1` to the server address they are given, so a query string cannot carry the
//! token there). A printer token ([`crate::api::printer_tokens`]) is accepted as
//! `Authorization: Bearer`, in that path, or as `?token=`.
//!
//! A reported use is an op (`spool.use.v1`, reason `print`) of the printer's own device
//! ([`printer_device_id`], registered to the shop and named after the printer) applied with
//! the sync rules ([`crate::sync::push::apply_server_op_as`]), so it lands in the same ledger
//! as the app's uses, with the printer in its columns, and an offline phone's ops add to it,
//! never double it.
//! Spoolman's integer ids are kept per shop in `spoolman_id` ([`ids`]).

pub mod feed;
pub mod ids;
pub mod import;
pub mod model;

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{FromRequestParts, Path, Query, RawPathParams, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use printstall_core::domain::member::Role;
use printstall_core::domain::spool::UsageReason;
use printstall_core::domain::spoolman as sm;
use printstall_core::domain::{Centigrams, SpoolId};
use printstall_core::sync::OpBody;
use printstall_core::sync::op::{SpoolUse, SpoolWeigh};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::Row;
use uuid::Uuid;

use crate::api::ApiState;
use crate::auth::{AuthUser, tokens};
use crate::error::ApiError;
use crate::sync::events::Hub;
use crate::sync::push::{Status, apply_server_op_as, lock_shop};

/// What the Spoolman handlers reach.
#[derive(Clone)]
pub struct SpoolmanState {
    pub api: ApiState,
    pub hub: Arc<Hub>,
}

/// The routes below one API prefix.
fn mount(router: Router<SpoolmanState>, base: &str) -> Router<SpoolmanState> {
    let at = |p: &str| format!("{base}{p}");
    router
        .route(&at("/"), get(feed_all))
        .route(&at("/info"), get(info))
        .route(&at("/health"), get(health))
        .route(&at("/spool"), get(spools))
        .route(&at("/spool/{id}"), get(spool))
        .route(&at("/spool/{id}/use"), put(use_spool))
        .route(&at("/spool/{id}/measure"), put(measure))
        .route(&at("/filament"), get(filaments))
        .route(&at("/filament/{id}"), get(filament))
        .route(&at("/vendor"), get(vendors))
        .route(&at("/vendor/{id}"), get(vendor))
        .route(&at("/{*rest}"), axum::routing::any(not_found))
}

/// The Spoolman API at `path` (ends in `/api/v1`) and at `{root}/t/{token}/api/v1`.
pub fn router<S: Clone + Send + Sync + 'static>(api: ApiState, path: &str) -> Router<S> {
    let hub = Arc::new(Hub::new(api.owner.clone()));
    let root = crate::settings::spoolman_root(path).unwrap_or("/spoolman");
    let r = mount(Router::new(), path);
    let r = mount(r, &format!("{root}/t/{{token}}/api/v1"));
    Router::new()
        .merge(r)
        .with_state(SpoolmanState { api, hub })
}

async fn not_found() -> SmError {
    SmError::new(StatusCode::NOT_FOUND, "Not Found")
}

/// An error in Spoolman's shape, `{"message": ...}`, which its clients log.
#[derive(Debug)]
pub struct SmError {
    pub status: StatusCode,
    pub message: String,
}

impl SmError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    fn bad(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    fn no_spool(num: i64) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            format!("No spool with ID {num} found."),
        )
    }
}

impl From<ApiError> for SmError {
    fn from(e: ApiError) -> Self {
        let status = match &e {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unprocessable { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "spoolman request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        Self::new(status, e.to_string())
    }
}

impl From<sqlx::Error> for SmError {
    fn from(e: sqlx::Error) -> Self {
        crate::api::common::db(e).into()
    }
}

impl From<crate::sync::SyncError> for SmError {
    fn from(e: crate::sync::SyncError) -> Self {
        ApiError::from(e).into()
    }
}

impl IntoResponse for SmError {
    fn into_response(self) -> Response {
        let mut r = (self.status, Json(json!({ "message": self.message }))).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}

pub type SmResult<T> = Result<T, SmError>;

/// The printer a request comes from: its token's shop, the owner who made the token (ops
/// are recorded in their name, with the seller's rights: a printer may record uses and
/// weighings, nothing else), the printer's name and its device.
#[derive(Debug, Clone)]
pub struct Printer {
    pub token_id: Uuid,
    pub name: String,
    pub user: AuthUser,
    /// The device its ops are made on ([`printer_device_id`]).
    pub device: Uuid,
}

/// The device of a printer token: derived from the token's id, so every server process
/// finds the same one; a UUIDv8, which no push may claim (see `sync::push`).
pub fn printer_device_id(token_id: Uuid) -> Uuid {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"printstall:printer-device:v1:");
    h.update(token_id.as_bytes());
    let digest = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// Registers the device of a printer token (once; named after the printer) to the shop
/// and the member who made the token, in `conn`'s transaction for that shop.
pub async fn register_printer_device(
    conn: &mut sqlx::PgConnection,
    shop: Uuid,
    user: Uuid,
    token_id: Uuid,
    name: &str,
) -> Result<Uuid, sqlx::Error> {
    let device = printer_device_id(token_id);
    sqlx::query(
        r#"insert into device (id, shop_id, user_id, name, printer_token_id)
           values ($1, $2, $3, $4, $5) on conflict (id) do nothing"#,
    )
    .bind(device)
    .bind(shop)
    .bind(user)
    .bind(name.trim())
    .bind(token_id)
    .execute(&mut *conn)
    .await?;
    Ok(device)
}

#[derive(Debug, Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

impl FromRequestParts<SpoolmanState> for Printer {
    type Rejection = SmError;

    async fn from_request_parts(parts: &mut Parts, state: &SpoolmanState) -> Result<Self, SmError> {
        let unauthorized = || {
            SmError::new(
                StatusCode::UNAUTHORIZED,
                "a printer token is required: create one in PrintStall (Settings, Printers) and send it as a Bearer token or in the server address",
            )
        };
        let from_path = RawPathParams::from_request_parts(parts, state)
            .await
            .ok()
            .and_then(|p| {
                p.iter()
                    .find(|(k, _)| *k == "token")
                    .map(|(_, v)| v.to_owned())
            });
        let from_header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(|t| t.trim().to_owned());
        let from_query = Query::<TokenQuery>::from_request_parts(parts, state)
            .await
            .ok()
            .and_then(|q| q.0.token.or(q.0.access_token));
        let token = from_path
            .or(from_header)
            .or(from_query)
            .filter(|t| t.len() <= 256)
            .ok_or_else(unauthorized)?;
        let hash = tokens::sha256_hex(&token);
        // Before any shop is known: the owner connection, naming the token's hash for the
        // table's forced row-level security (migration 0430).
        let mut lookup = crate::db::begin(&state.api.owner).await?;
        crate::tenancy::set_lookup_hash(&mut lookup, &hash).await?;
        let row = sqlx::query(
            r#"update printer_token set last_used_at = now()
               where token_hash = $1 and revoked_at is null
               returning id, shop_id, created_by, name"#,
        )
        .bind(&hash)
        .fetch_optional(&mut *lookup)
        .await?;
        lookup.commit().await?;
        let row = row.ok_or_else(unauthorized)?;
        let user = AuthUser {
            user_id: row.get("created_by"),
            shop_id: row.get("shop_id"),
            role: Role::Seller,
            // A printer token is not a sign-in session.
            session_id: None,
        };
        let (token_id, name): (Uuid, String) = (row.get("id"), row.get("name"));
        // The member who made the token must still belong to the shop.
        let mut tx = crate::tenancy::begin(&state.api.app, user.shop_id, user.user_id).await?;
        let member: Option<i32> =
            sqlx::query_scalar(r#"select 1 from membership where shop_id = $1 and user_id = $2"#)
                .bind(user.shop_id)
                .bind(user.user_id)
                .fetch_optional(&mut *tx)
                .await?;
        if member.is_none() {
            return Err(unauthorized());
        }
        // Tokens made before printers had devices get theirs here.
        let device =
            register_printer_device(&mut tx, user.shop_id, user.user_id, token_id, &name).await?;
        tx.commit().await?;
        Ok(Printer {
            token_id,
            name,
            user,
            device,
        })
    }
}

/// A websocket upgrade when the request asks for one (Spoolman serves its change feed on
/// the same paths as the lists and items).
pub struct MaybeWs(Option<WebSocketUpgrade>);

impl FromRequestParts<SpoolmanState> for MaybeWs {
    type Rejection = SmError;

    async fn from_request_parts(parts: &mut Parts, state: &SpoolmanState) -> Result<Self, SmError> {
        let wants = parts
            .headers
            .get(header::UPGRADE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
        if !wants {
            return Ok(MaybeWs(None));
        }
        WebSocketUpgrade::from_request_parts(parts, state)
            .await
            .map(|u| MaybeWs(Some(u)))
            .map_err(|e| SmError::bad(e.body_text()))
    }
}

/// A path's numeric id (`/spool/{id}`).
#[derive(Debug, Deserialize)]
struct IdParam {
    id: String,
}

fn num(p: &IdParam) -> SmResult<i64> {
    p.id.parse::<i64>()
        .ok()
        .filter(|n| *n > 0 && *n <= i64::from(i32::MAX))
        .ok_or_else(|| {
            SmError::bad(format!(
                "{:?} is not a Spoolman id (a positive whole number)",
                p.id
            ))
        })
}

async fn info(_p: Printer) -> Json<Value> {
    Json(json!({
        "version": model::SPOOLMAN_VERSION,
        "debug_mode": false,
        "automatic_backups": false,
        "data_dir": "",
        "logs_dir": "",
        "backups_dir": "",
        "db_type": "postgres",
        "external_db_name": "PrintStall",
        "git_commit": null,
        "build_date": null,
        "printstall_version": env!("CARGO_PKG_VERSION"),
    }))
}

async fn health() -> Json<Value> {
    Json(json!({"status": "healthy"}))
}

/// `GET /spool` query: Spoolman's filters that its clients send.
#[derive(Debug, Deserialize, Default)]
pub struct SpoolFilter {
    #[serde(default)]
    pub allow_archived: Option<String>,
    #[serde(default, rename = "filament.id")]
    pub filament_id_dotted: Option<String>,
    #[serde(default)]
    pub filament_id: Option<String>,
    #[serde(default, rename = "filament.material")]
    pub material: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub lot_nr: Option<String>,
    #[serde(default)]
    pub limit: Option<usize>,
    #[serde(default)]
    pub offset: Option<usize>,
}

async fn spools(
    State(st): State<SpoolmanState>,
    p: Printer,
    MaybeWs(ws): MaybeWs,
    Query(f): Query<SpoolFilter>,
) -> SmResult<Response> {
    if let Some(ws) = ws {
        return feed::upgrade(ws, st, p, feed::Filter::Spools(None)).await;
    }
    let mut tx = begin(&st, &p).await?;
    let all = model::load_spools(&mut tx, None).await?;
    tx.commit().await?;
    let archived = f
        .allow_archived
        .as_deref()
        .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
    let filament_ids: Option<Vec<i64>> = f
        .filament_id_dotted
        .or(f.filament_id)
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect());
    let items: Vec<&model::SmSpoolOut> = all
        .iter()
        .filter(|s| archived || !s.archived)
        .filter(|s| {
            filament_ids
                .as_ref()
                .is_none_or(|ids| ids.contains(&s.filament.id))
        })
        .filter(|s| {
            f.material.as_deref().is_none_or(|m| {
                s.filament
                    .material
                    .as_deref()
                    .is_some_and(|x| x.eq_ignore_ascii_case(m))
            })
        })
        .filter(|s| {
            f.location
                .as_deref()
                .is_none_or(|l| s.location.as_deref() == Some(l))
        })
        .filter(|s| {
            f.lot_nr
                .as_deref()
                .is_none_or(|l| s.lot_nr.as_deref() == Some(l))
        })
        .collect();
    let total = items.len();
    let page: Vec<&model::SmSpoolOut> = items
        .into_iter()
        .skip(f.offset.unwrap_or(0))
        .take(f.limit.unwrap_or(usize::MAX))
        .collect();
    let mut r = Json(page).into_response();
    if let Ok(v) = HeaderValue::from_str(&total.to_string()) {
        r.headers_mut().insert("x-total-count", v);
    }
    Ok(r)
}

async fn spool(
    State(st): State<SpoolmanState>,
    p: Printer,
    MaybeWs(ws): MaybeWs,
    Path(id): Path<IdParam>,
) -> SmResult<Response> {
    let n = num(&id)?;
    if let Some(ws) = ws {
        return feed::upgrade(ws, st, p, feed::Filter::Spools(Some(n))).await;
    }
    let mut tx = begin(&st, &p).await?;
    let found = model::load_spools(&mut tx, Some(n)).await?;
    tx.commit().await?;
    one(found, "spool", n)
}

/// The one record a `/{kind}/{id}` request asks for, or Spoolman's 404.
fn one<T: serde::Serialize>(found: Vec<T>, what: &str, n: i64) -> SmResult<Response> {
    found
        .into_iter()
        .next()
        .map(|x| Json(x).into_response())
        .ok_or_else(|| {
            SmError::new(
                StatusCode::NOT_FOUND,
                format!("No {what} with ID {n} found."),
            )
        })
}

async fn filaments(
    State(st): State<SpoolmanState>,
    p: Printer,
    MaybeWs(ws): MaybeWs,
) -> SmResult<Response> {
    if let Some(ws) = ws {
        return feed::upgrade(ws, st, p, feed::Filter::Filaments(None)).await;
    }
    let mut tx = begin(&st, &p).await?;
    let all = model::load_filaments(&mut tx, None).await?;
    tx.commit().await?;
    Ok(Json(all).into_response())
}

async fn filament(
    State(st): State<SpoolmanState>,
    p: Printer,
    MaybeWs(ws): MaybeWs,
    Path(id): Path<IdParam>,
) -> SmResult<Response> {
    let n = num(&id)?;
    if let Some(ws) = ws {
        return feed::upgrade(ws, st, p, feed::Filter::Filaments(Some(n))).await;
    }
    let mut tx = begin(&st, &p).await?;
    let found = model::load_filaments(&mut tx, Some(n)).await?;
    tx.commit().await?;
    one(found, "filament", n)
}

async fn vendors(
    State(st): State<SpoolmanState>,
    p: Printer,
    MaybeWs(ws): MaybeWs,
) -> SmResult<Response> {
    if let Some(ws) = ws {
        return feed::upgrade(ws, st, p, feed::Filter::Vendors).await;
    }
    let mut tx = begin(&st, &p).await?;
    let all = model::load_vendors(&mut tx, None).await?;
    tx.commit().await?;
    Ok(Json(all).into_response())
}

async fn vendor(
    State(st): State<SpoolmanState>,
    p: Printer,
    Path(id): Path<IdParam>,
) -> SmResult<Response> {
    let n = num(&id)?;
    let mut tx = begin(&st, &p).await?;
    let found = model::load_vendors(&mut tx, Some(n)).await?;
    tx.commit().await?;
    one(found, "vendor", n)
}

async fn feed_all(
    State(st): State<SpoolmanState>,
    p: Printer,
    MaybeWs(ws): MaybeWs,
) -> SmResult<Response> {
    match ws {
        Some(ws) => feed::upgrade(ws, st, p, feed::Filter::All).await,
        None => Err(SmError::new(StatusCode::NOT_FOUND, "Not Found")),
    }
}

/// A request transaction for the printer's shop, with every row numbered.
async fn begin(st: &SpoolmanState, p: &Printer) -> SmResult<crate::api::common::Tx> {
    let mut tx = crate::tenancy::begin(&st.api.app, p.user.shop_id, p.user.user_id).await?;
    ids::ensure(&mut tx, p.user.shop_id).await?;
    Ok(tx)
}

/// A write's transaction, queued behind the shop's other writers (before the carry is
/// read), and the spool numbered `n`: its id, filament diameter and density, and its
/// empty-spool weight (its own, else its filament's).
async fn begin_write(
    st: &SpoolmanState,
    p: &Printer,
    n: i64,
) -> SmResult<(crate::api::common::Tx, sqlx::postgres::PgRow)> {
    let mut tx = crate::tenancy::begin(&st.api.app, p.user.shop_id, p.user.user_id).await?;
    lock_shop(&mut tx, p.user.shop_id).await?;
    ids::ensure(&mut tx, p.user.shop_id).await?;
    let row = sqlx::query(
        r#"select s.id, f.diameter, f.density_mg_cm3,
                  coalesce(s.empty_spool_cg, f.empty_spool_cg) as empty_cg
           from spool s
           join filament f on f.id = s.filament_id
           join spoolman_id i on i.kind = 'spool' and i.ref_id = s.id
           where i.num = $1"#,
    )
    .bind(i32::try_from(n).unwrap_or(i32::MAX))
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| SmError::no_spool(n))?;
    Ok((tx, row))
}

/// A write's answer: the spool as it is now; commits.
async fn answer(mut tx: crate::api::common::Tx, n: i64) -> SmResult<Response> {
    let found = model::load_spools(&mut tx, Some(n)).await?;
    tx.commit().await?;
    one(found, "spool", n)
}

/// `PUT /spool/{id}/use` body.
#[derive(Debug, Deserialize)]
pub struct UseIn {
    #[serde(default)]
    pub use_weight: Option<f64>,
    #[serde(default)]
    pub use_length: Option<f64>,
}

/// Largest use one report may carry, in grams.
const MAX_REPORT_G: f64 = 20_000.0;

/// `PUT /spool/{id}/use`: grams (`use_weight`) or millimetres (`use_length`, converted with
/// the filament's diameter and density). Parts of a centigram are carried to the printer's
/// next report of the same spool (Moonraker reports every few seconds), so nothing is lost
/// to rounding.
async fn use_spool(
    State(st): State<SpoolmanState>,
    p: Printer,
    Path(id): Path<IdParam>,
    body: axum::body::Bytes,
) -> SmResult<Response> {
    let n = num(&id)?;
    let input: UseIn = serde_json::from_slice(&body)
        .map_err(|e| SmError::bad(format!("the body is not a use ({e}); send {{\"use_weight\": grams}} or {{\"use_length\": millimetres}}")))?;
    let (mut tx, row) = begin_write(&st, &p, n).await?;
    let spool_id: Uuid = row.get("id");
    let grams = match (input.use_weight, input.use_length) {
        (Some(_), Some(_)) => {
            return Err(SmError::bad(
                "Only specify either use_weight or use_length.",
            ));
        }
        (None, None) => {
            return Err(SmError::bad(
                "Either use_weight or use_length must be specified.",
            ));
        }
        (Some(w), None) => w,
        (None, Some(len)) => {
            let diameter: String = row.get("diameter");
            let density: i32 = row.get("density_mg_cm3");
            sm::grams_for_length(
                len,
                diameter.parse().unwrap_or(1.75),
                f64::from(density) / 1000.0,
            )
        }
    };
    if !grams.is_finite() || grams.abs() > MAX_REPORT_G {
        return Err(SmError::bad(format!(
            "a use of {grams} g is not possible; report at most {MAX_REPORT_G} g at once"
        )));
    }
    // Micrograms, with what earlier reports of this printer left below a centigram.
    let carry: i64 = sqlx::query_scalar(
        r#"select carry_ug from spoolman_carry where token_id = $1 and spool_id = $2"#,
    )
    .bind(p.token_id)
    .bind(spool_id)
    .fetch_optional(&mut *tx)
    .await?
    .unwrap_or(0);
    let total = carry + (grams * 1_000_000.0).round() as i64;
    let used = total / 10_000;
    let rest = total % 10_000;
    sqlx::query(
        r#"insert into spoolman_carry (shop_id, token_id, spool_id, carry_ug)
           values ($1, $2, $3, $4)
           on conflict (token_id, spool_id) do update set carry_ug = excluded.carry_ug"#,
    )
    .bind(p.user.shop_id)
    .bind(p.token_id)
    .bind(spool_id)
    .bind(rest)
    .execute(&mut *tx)
    .await?;
    if used != 0 {
        let body = OpBody::SpoolUse(SpoolUse {
            spool_id: SpoolId(spool_id),
            used_cg: Centigrams(used),
            reason: if used > 0 {
                UsageReason::Print
            } else {
                UsageReason::Correction
            },
            job_id: None,
            note: Some(printer_note(&p.name)),
        });
        apply(&mut tx, &p, body).await?;
    }
    answer(tx, n).await
}

/// The note of a printer's op: who reported it.
pub fn printer_note(name: &str) -> String {
    format!("reported by printer {name} (Spoolman API)")
}

async fn apply(tx: &mut crate::api::common::Tx, p: &Printer, body: OpBody) -> SmResult<()> {
    let done = apply_server_op_as(tx, &p.user, p.device, body).await?;
    if done.answer.status == Status::Rejected {
        return Err(SmError::bad(
            done.answer
                .reason
                .unwrap_or_else(|| "the change was refused".into()),
        ));
    }
    Ok(())
}

/// `PUT /spool/{id}/measure` body: the gross weight on a scale, spool included.
#[derive(Debug, Deserialize)]
pub struct MeasureIn {
    pub weight: f64,
}

/// `PUT /spool/{id}/measure`: grams left become the weight minus the empty spool's.
async fn measure(
    State(st): State<SpoolmanState>,
    p: Printer,
    Path(id): Path<IdParam>,
    body: axum::body::Bytes,
) -> SmResult<Response> {
    let n = num(&id)?;
    let input: MeasureIn = serde_json::from_slice(&body).map_err(|e| {
        SmError::bad(format!(
            "the body is not a measurement ({e}); send {{\"weight\": grams on the scale}}"
        ))
    })?;
    let gross = sm::centigrams_from_grams(input.weight)
        .filter(|g| g.0 >= 0)
        .ok_or_else(|| SmError::bad(format!("a weight of {} g is not possible", input.weight)))?;
    let (mut tx, row) = begin_write(&st, &p, n).await?;
    let empty: Option<i64> = row.get("empty_cg");
    let empty = empty.ok_or_else(|| {
        SmError::bad("the empty-spool weight of this spool is unknown; set it on the spool or its filament in PrintStall")
    })?;
    let body = OpBody::SpoolWeigh(SpoolWeigh {
        spool_id: SpoolId(row.get("id")),
        gross_cg: gross,
        empty_spool_cg: Centigrams(empty),
        note: Some(printer_note(&p.name)),
    });
    if let Err(e) = body.validate() {
        return Err(SmError::bad(e.to_string()));
    }
    apply(&mut tx, &p, body).await?;
    answer(tx, n).await
}

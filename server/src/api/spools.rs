//! Spools (the physical rolls) and their usage ledger: CRUD and archive, list with filters,
//! record a use, weigh, read the ledger. Uses, weighings and edits are ops applied with the
//! sync rules (`sync::push::apply_server_op`), so a phone and the server compute the same
//! grams; grams left never go below 0 (the rules clamp, the ledger keeps the overshoot).

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::routing::{get, post};
use printstall_core::domain::member::Action;
use printstall_core::domain::spool::{self, Spool, SpoolPatch, UsageReason};
use printstall_core::domain::{Centigrams, FilamentId, PrintJobId, SpoolId};
use printstall_core::money::Minor;
use printstall_core::sync::op::{EntitySet, SpoolUse, SpoolWeigh};
use printstall_core::sync::{EntityKind, OpBody};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use super::common::{
    ApiJson, ApiPath, ApiQuery, ApiResult, ListQuery, Page, Tx, db, invalid, invalid_field, label,
    merge_patch, new_entity, require,
};
use super::products::ensure_exists;
use super::{ApiState, Routes};
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::sync::push::{ServerApplied, lock_shop};
use crate::sync::rest;

pub fn routes(r: Routes) -> Routes {
    r.route(
        "/spools",
        &[Method::GET, Method::POST],
        get(list).post(create),
    )
    .route(
        "/spools/{id}",
        &[Method::GET, Method::PATCH, Method::DELETE],
        get(read).patch(update).delete(archive),
    )
    .route("/spools/{id}/use", &[Method::POST], post(use_spool))
    .route("/spools/{id}/weigh", &[Method::POST], post(weigh))
    .route("/spools/{id}/ledger", &[Method::GET], get(ledger))
}

/// A spool with its level.
#[derive(Debug, Serialize)]
pub struct SpoolOut {
    #[serde(flatten)]
    pub spool: Spool,
    /// Grams left, kept in step with the ledger.
    pub left_cg: Centigrams,
    #[serde(with = "time::serde::rfc3339::option")]
    pub first_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

pub(crate) const COLUMNS: &str = "id, filament_id, initial_net_cg, left_cg, empty_spool_cg, price_paid, \
    purchase_date, location, lot_number, barcode, nfc_tag_id, first_used_at, last_used_at, \
    archived, updated_at";

pub(crate) fn from_row(r: &PgRow) -> SpoolOut {
    SpoolOut {
        spool: Spool {
            id: SpoolId(r.get("id")),
            filament_id: FilamentId(r.get("filament_id")),
            initial_net_cg: Centigrams(r.get("initial_net_cg")),
            empty_spool_cg: r.get::<Option<i64>, _>("empty_spool_cg").map(Centigrams),
            price_paid: r.get::<Option<i64>, _>("price_paid").map(Minor),
            purchase_date: r.get("purchase_date"),
            location: r.get("location"),
            lot_number: r.get("lot_number"),
            barcode: r.get("barcode"),
            nfc_tag_id: r.get("nfc_tag_id"),
            archived: r.get("archived"),
        },
        left_cg: Centigrams(r.get("left_cg")),
        first_used_at: r.get("first_used_at"),
        last_used_at: r.get("last_used_at"),
        updated_at: r.get("updated_at"),
    }
}

pub async fn fetch(conn: &mut PgConnection, id: Uuid) -> ApiResult<SpoolOut> {
    let row = sqlx::query(&format!("select {COLUMNS} from spool where id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?
        .ok_or_else(|| ApiError::NotFound("spool".into()))?;
    Ok(from_row(&row))
}

/// Filters besides the common list parameters: `filament_id`, `material`, and `q`, which
/// matches the barcode or NFC tag exactly, or the lot, location, filament brand or colour.
#[derive(Debug, Deserialize, Default)]
pub struct SpoolQuery {
    pub cursor: Option<String>,
    pub limit: Option<i64>,
    pub q: Option<String>,
    #[serde(default)]
    pub archived: bool,
    pub filament_id: Option<Uuid>,
    pub material: Option<printstall_core::domain::filament::Material>,
}

async fn list(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiQuery(sq): ApiQuery<SpoolQuery>,
) -> ApiResult<ApiJson<Page<SpoolOut>>> {
    require(&auth, Action::LookUp)?;
    let q = ListQuery {
        cursor: sq.cursor,
        limit: sq.limit,
        q: sq.q,
        archived: sq.archived,
    };
    let limit = q.limit()?;
    let material = sq.material.as_ref().map(label).transpose()?;
    let mut tx = state.tx(&auth).await?;
    let rows = sqlx::query(&format!(
        r#"select {COLUMNS} from spool
           where ($1::uuid is null or id > $1)
             and ($2::text is null or barcode = $3 or nfc_tag_id = $3 or lot_number ilike $2
                  or location ilike $2
                  or filament_id in (select id from filament
                                     where brand ilike $2 or colour_name ilike $2))
             and ($4 or not archived)
             and ($5::uuid is null or filament_id = $5)
             and ($6::text is null
                  or filament_id in (select id from filament where material = $6))
           order by id
           limit $7"#
    ))
    .bind(q.after()?)
    .bind(q.pattern()?)
    .bind(q.q.as_deref().map(str::trim))
    .bind(q.archived)
    .bind(sq.filament_id)
    .bind(material)
    .bind(limit + 1)
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    let items = rows.iter().map(from_row).collect();
    Ok(ApiJson(Page::from_rows(items, limit, |s| s.spool.id.0)))
}

async fn read(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<ApiJson<SpoolOut>> {
    require(&auth, Action::LookUp)?;
    let mut tx = state.tx(&auth).await?;
    let out = fetch(&mut tx, id).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(out))
}

/// `POST /spools`: grams left start at `initial_net_cg` (enter what is on the roll now for
/// a used one). Recorded as an `entity.set.v1` of every field, so devices pull it.
async fn create(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(StatusCode, ApiJson<SpoolOut>)> {
    require(&auth, Action::EditCatalogue)?;
    let s: Spool = new_entity(body)?;
    if s.price_paid.is_some() {
        require(&auth, Action::EditPrices)?;
    }
    s.validate().map_err(invalid)?;
    let mut tx = state.tx(&auth).await?;
    // The shop's writers queue here first, as a push does, before any row lock is taken.
    lock_shop(&mut tx, auth.shop_id).await?;
    sqlx::query(
        r#"insert into spool (id, shop_id, filament_id, initial_net_cg, left_cg, empty_spool_cg,
                              price_paid, purchase_date, location, lot_number, barcode,
                              nfc_tag_id, archived)
           values ($1, $2, $3, $4, $4, $5, $6, $7, $8, $9, $10, $11, $12)"#,
    )
    .bind(s.id.0)
    .bind(auth.shop_id)
    .bind(s.filament_id.0)
    .bind(s.initial_net_cg.0)
    .bind(s.empty_spool_cg.map(|c| c.0))
    .bind(s.price_paid.map(|p| p.0))
    .bind(s.purchase_date)
    .bind(&s.location)
    .bind(&s.lot_number)
    .bind(&s.barcode)
    .bind(&s.nfc_tag_id)
    .bind(s.archived)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    let made = fetch(&mut tx, s.id.0).await?.spool;
    rest::set_changed(&mut tx, &auth, EntityKind::Spool, s.id.0, None, &made, true).await?;
    let out = fetch(&mut tx, s.id.0).await?;
    tx.commit().await.map_err(db)?;
    Ok((StatusCode::CREATED, ApiJson(out)))
}

/// `PATCH /spools/{id}`: a changed `initial_net_cg` moves grams left by the same amount
/// (the level stays `initial - sum(ledger)`); grams left themselves change only by a use or
/// a weighing. The changed fields are an `entity.set.v1` for devices; grams left follow the
/// merge rules (see `sync::project`).
async fn update(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<Value>,
) -> ApiResult<ApiJson<SpoolOut>> {
    require(&auth, Action::EditCatalogue)?;
    let mut tx = state.tx(&auth).await?;
    lock_shop(&mut tx, auth.shop_id).await?;
    sqlx::query("select 1 from spool where id = $1 for update")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?
        .ok_or_else(|| ApiError::NotFound("spool".into()))?;
    let current = fetch(&mut tx, id).await?;
    let (next, typed): (Spool, SpoolPatch) =
        merge_patch(&current.spool, patch, SpoolPatch::NULLABLE)?;
    typed.validate().map_err(invalid)?;
    if next.price_paid != current.spool.price_paid {
        require(&auth, Action::EditPrices)?;
    }
    next.validate().map_err(invalid)?;
    let left = current.left_cg.0 + (next.initial_net_cg.0 - current.spool.initial_net_cg.0);
    if left < 0 {
        return Err(invalid_field(
            "initial_net_cg",
            format!(
                "would leave less than 0 g on the spool ({} already used); weigh the spool instead",
                Centigrams(current.spool.initial_net_cg.0 - current.left_cg.0)
            ),
        ));
    }
    sqlx::query(
        r#"update spool set filament_id = $2, initial_net_cg = $3, left_cg = $4,
                  empty_spool_cg = $5, price_paid = $6, purchase_date = $7, location = $8,
                  lot_number = $9, barcode = $10, nfc_tag_id = $11, archived = $12,
                  updated_at = now()
           where id = $1"#,
    )
    .bind(id)
    .bind(next.filament_id.0)
    .bind(next.initial_net_cg.0)
    .bind(left)
    .bind(next.empty_spool_cg.map(|c| c.0))
    .bind(next.price_paid.map(|p| p.0))
    .bind(next.purchase_date)
    .bind(&next.location)
    .bind(&next.lot_number)
    .bind(&next.barcode)
    .bind(&next.nfc_tag_id)
    .bind(next.archived)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    // A spool a device deleted may still be edited here: the rules refuse the op but keep
    // its values for an undelete, as for a device's edit.
    rest::set_changed(
        &mut tx,
        &auth,
        EntityKind::Spool,
        id,
        Some(&current.spool),
        &next,
        false,
    )
    .await?;
    let out = fetch(&mut tx, id).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(out))
}

/// `DELETE /spools/{id}`: archives (its ledger stays). A spool's `archived` is one of its
/// fields (a PATCH can bring it back), so devices get it as an `entity.set.v1`.
async fn archive(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    require(&auth, Action::Delete)?;
    let mut tx = state.tx(&auth).await?;
    lock_shop(&mut tx, auth.shop_id).await?;
    let before: Option<bool> =
        sqlx::query_scalar(r#"select archived from spool where id = $1 for update"#)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
    let Some(was_archived) = before else {
        return Err(ApiError::NotFound("spool".into()));
    };
    sqlx::query(r#"update spool set archived = true, updated_at = now() where id = $1"#)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    if !was_archived {
        let fields = serde_json::Map::from_iter([("archived".to_owned(), Value::Bool(true))]);
        let body = OpBody::EntitySet(EntitySet {
            entity: EntityKind::Spool,
            id,
            fields,
        });
        rest::apply(&mut tx, &auth, body, false).await?;
    }
    tx.commit().await.map_err(db)?;
    Ok(StatusCode::NO_CONTENT)
}

/// One row of a spool's usage ledger.
#[derive(Debug, Serialize)]
pub struct UsageRow {
    pub id: Uuid,
    pub spool_id: Uuid,
    /// What left the spool (negative: grams given back or found by a weighing).
    pub used_cg: Centigrams,
    /// What was asked beyond the grams left (the level clamped at 0).
    pub overshoot_cg: Centigrams,
    pub reason: String,
    pub job_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    /// The printer that reported it through the Spoolman API (its name then, and the
    /// printer when its token names one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub printer_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub printer_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

const USAGE_COLUMNS: &str = "id, spool_id, used_cg, overshoot_cg, reason, job_id, user_id, \
    printer_name, printer_id, at";

pub fn usage_from_row(r: &PgRow) -> UsageRow {
    UsageRow {
        id: r.get("id"),
        spool_id: r.get("spool_id"),
        used_cg: Centigrams(r.get("used_cg")),
        overshoot_cg: Centigrams(r.get("overshoot_cg")),
        reason: r.get("reason"),
        job_id: r.get("job_id"),
        user_id: r.get("user_id"),
        printer_name: r.get("printer_name"),
        printer_id: r.get("printer_id"),
        at: r.get("at"),
    }
}

/// The usage ledger rows of a print job.
pub async fn usage_of_job(tx: &mut Tx, job_id: Uuid) -> ApiResult<Vec<UsageRow>> {
    let rows = sqlx::query(&format!(
        "select {USAGE_COLUMNS} from spool_usage where job_id = $1 order by id"
    ))
    .bind(job_id)
    .fetch_all(&mut **tx)
    .await
    .map_err(db)?;
    Ok(rows.iter().map(usage_from_row).collect())
}

/// The ledger row a use or weighing wrote.
async fn entry(tx: &mut Tx, done: &ServerApplied) -> ApiResult<UsageRow> {
    let id = done.spool_entries.last().copied().ok_or_else(|| {
        ApiError::Conflict(
            "a weighing made after this change already includes it; grams left did not change"
                .into(),
        )
    })?;
    let row = sqlx::query(&format!(
        "select {USAGE_COLUMNS} from spool_usage where id = $1"
    ))
    .bind(id)
    .fetch_one(&mut **tx)
    .await
    .map_err(db)?;
    Ok(usage_from_row(&row))
}

#[derive(Debug, Deserialize)]
pub struct UseIn {
    /// Grams used, in centigrams (negative only with `correction`: grams given back).
    pub used_cg: Centigrams,
    /// `print`, `test`, `failed_print` or `correction` (a weighing records `measurement`).
    pub reason: UsageReason,
    #[serde(default)]
    pub job_id: Option<PrintJobId>,
}

/// The spool after a use or a weighing, and the ledger row written.
#[derive(Debug, Serialize)]
pub struct SpoolActionOut {
    pub spool: SpoolOut,
    pub entry: UsageRow,
    /// For a weighing: how far the gross weight was below the empty-spool weight (non-zero
    /// means that weight is wrong for this spool).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub below_empty_cg: Option<Centigrams>,
}

/// `POST /spools/{id}/use`: a `spool.use.v1` op (grams left clamp at 0 by the merge rules;
/// the ledger row keeps the overshoot).
async fn use_spool(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<UseIn>,
) -> ApiResult<ApiJson<SpoolActionOut>> {
    require(&auth, Action::AdjustStock)?;
    if input.reason == UsageReason::Measurement {
        return Err(invalid_field(
            "reason",
            "`measurement` is recorded by a weighing; weigh the spool instead",
        ));
    }
    spool::validate_use("used_cg", input.used_cg, input.reason).map_err(invalid)?;
    let mut tx = state.tx(&auth).await?;
    ensure_exists(&mut tx, "spool", "spool", id).await?;
    if let Some(job) = input.job_id {
        ensure_exists(&mut tx, "print_job", "print job", job.0).await?;
    }
    let body = OpBody::SpoolUse(SpoolUse {
        spool_id: SpoolId(id),
        used_cg: input.used_cg,
        reason: input.reason,
        job_id: input.job_id,
        note: None,
    });
    let done = rest::apply(&mut tx, &auth, body, true).await?;
    let entry = entry(&mut tx, &done).await?;
    let out = fetch(&mut tx, id).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(SpoolActionOut {
        spool: out,
        entry,
        below_empty_cg: None,
    }))
}

#[derive(Debug, Deserialize)]
pub struct WeighIn {
    /// The scale reading: spool and filament together, in centigrams.
    pub gross_cg: Centigrams,
    /// The empty-spool weight, when neither the spool nor its filament has one.
    #[serde(default)]
    pub empty_spool_cg: Option<Centigrams>,
}

/// `POST /spools/{id}/weigh`: a `spool.weigh.v1` op: grams left become gross minus the
/// empty-spool weight (the spool's, else its filament's); the difference is a
/// `measurement` ledger row.
async fn weigh(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<WeighIn>,
) -> ApiResult<ApiJson<SpoolActionOut>> {
    require(&auth, Action::AdjustStock)?;
    let mut tx = state.tx(&auth).await?;
    let row = sqlx::query(
        r#"select coalesce(s.empty_spool_cg, f.empty_spool_cg) as empty_cg
           from spool s join filament f on f.id = s.filament_id
           where s.id = $1"#,
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?
    .ok_or_else(|| ApiError::NotFound("spool".into()))?;
    let empty = input
        .empty_spool_cg
        .or_else(|| row.get::<Option<i64>, _>("empty_cg").map(Centigrams))
        .ok_or_else(|| {
            invalid_field(
                "empty_spool_cg",
                "is unknown for this spool and its filament; send it, or set it on the spool",
            )
        })?;
    spool::validate_weighing(input.gross_cg, empty).map_err(invalid)?;
    let w = spool::weigh(input.gross_cg, empty);
    let body = OpBody::SpoolWeigh(SpoolWeigh {
        spool_id: SpoolId(id),
        gross_cg: input.gross_cg,
        empty_spool_cg: empty,
        note: None,
    });
    let done = rest::apply(&mut tx, &auth, body, true).await?;
    let entry = entry(&mut tx, &done).await?;
    let out = fetch(&mut tx, id).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(SpoolActionOut {
        spool: out,
        entry,
        below_empty_cg: Some(w.below_empty_cg),
    }))
}

/// `GET /spools/{id}/ledger`: the usage ledger, oldest first, by cursor.
async fn ledger(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<ApiJson<Page<UsageRow>>> {
    require(&auth, Action::LookUp)?;
    let limit = q.limit()?;
    let mut tx = state.tx(&auth).await?;
    fetch(&mut tx, id).await?;
    let rows = sqlx::query(&format!(
        r#"select {USAGE_COLUMNS} from spool_usage
           where spool_id = $1 and ($2::uuid is null or id > $2)
           order by id limit $3"#
    ))
    .bind(id)
    .bind(q.after()?)
    .bind(limit + 1)
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    let items = rows.iter().map(usage_from_row).collect();
    Ok(ApiJson(Page::from_rows(items, limit, |r| r.id)))
}

//! Print jobs: create, list in queue order, edit, move within the queue, change status by
//! core's `JobStatus::transition`, finish (filament off the spools, units into stock) and
//! fail (wasted filament), each in one transaction. Every change is an op applied with the
//! sync rules (`sync::push::apply_server_op`), as a phone's is: creates, edits and moves as
//! `entity.set.v1` of the job's fields, status changes, finishes and fails as job ops.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::routing::{get, post};
use printstall_core::domain::member::Action;
use printstall_core::domain::print_job::{JobStatus, PrintJob, PrintJobPatch};
use printstall_core::domain::product::StockReason;
use printstall_core::domain::spool::{self, UsageReason};
use printstall_core::domain::{
    Centigrams, MarketEventId, PrintJobId, PrinterId, ProductId, SpoolId, VariantId,
};
use printstall_core::sync::op::{JobFail, JobFinish, JobTransition, Produced, SpoolGrams};
use printstall_core::sync::{EntityKind, OpBody};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;
use uuid::Uuid;

use super::common::{
    ApiJson, ApiPath, ApiQuery, ApiResult, ListQuery, Page, Tx, db, int, invalid, invalid_field,
    label, merge_patch, new_id, parse_label, require, uint,
};
use super::printer_reports::{self, SpoolLine};
use super::products::ensure_exists;
use super::spools::{UsageRow, usage_of_job};
use super::{ApiState, Routes};
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::sync::push::lock_shop;
use crate::sync::rest;

/// Most spools or products named in one finish or fail.
const MAX_LINES: usize = 50;

/// The reason a `job.fail.v1` carries when the REST request gave none (the op needs one).
const NO_REASON: &str = "no reason given";

pub fn routes(r: Routes) -> Routes {
    r.route(
        "/print-jobs",
        &[Method::GET, Method::POST],
        get(list).post(create),
    )
    .route(
        "/print-jobs/{id}",
        &[Method::GET, Method::PATCH],
        get(read).patch(update),
    )
    .route("/print-jobs/{id}/move", &[Method::POST], post(move_job))
    .route("/print-jobs/{id}/status", &[Method::POST], post(set_status))
    .route("/print-jobs/{id}/finish", &[Method::POST], post(finish))
    .route("/print-jobs/{id}/fail", &[Method::POST], post(fail))
}

/// A job; reading one job (and finishing or failing it) adds what its ledgers hold.
#[derive(Debug, Serialize)]
pub struct JobOut {
    #[serde(flatten)]
    pub job: PrintJob,
    pub created_by: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Filament taken off spools for this job.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spools_used: Option<Vec<UsageRow>>,
    /// Units put into stock by this job.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub produced: Option<Vec<ProducedRow>>,
    /// What the job's printer reported while the job ran (Spoolman API), per spool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub printer_reports: Option<Vec<SpoolLine>>,
    /// The lines its finish or fail took from those reports: the job's filament, already
    /// taken off the spools by the printer's own reports (not in `spools_used`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spools_reported: Option<Vec<SpoolLine>>,
}

#[derive(Debug, Serialize)]
pub struct ProducedRow {
    pub product_id: Uuid,
    pub quantity: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

const COLUMNS: &str = "id, variant_id, units, plates, printer_id, status, priority, position, \
    event_id, started_at, finished_at, failure_reason, notes, created_by, updated_at";

const OPEN: &str = "status in ('queued', 'printing', 'paused')";

fn from_row(r: &PgRow) -> ApiResult<JobOut> {
    Ok(JobOut {
        job: PrintJob {
            id: PrintJobId(r.get("id")),
            variant_id: VariantId(r.get("variant_id")),
            units: uint(r.get("units")),
            plates: uint(r.get("plates")),
            printer_id: r.get::<Option<Uuid>, _>("printer_id").map(PrinterId),
            status: parse_label(r.get("status"))?,
            priority: r.get("priority"),
            position: r.get("position"),
            event_id: r.get::<Option<Uuid>, _>("event_id").map(MarketEventId),
            started_at: r.get("started_at"),
            finished_at: r.get("finished_at"),
            failure_reason: r.get("failure_reason"),
            notes: r.get("notes"),
        },
        created_by: r.get("created_by"),
        updated_at: r.get("updated_at"),
        spools_used: None,
        produced: None,
        printer_reports: None,
        spools_reported: None,
    })
}

/// A job's fields as `entity.set.v1` spells them (its status moves with the job ops).
fn fields_of(j: &PrintJob) -> PrintJobPatch {
    PrintJobPatch {
        variant_id: Some(j.variant_id),
        units: Some(j.units),
        plates: Some(j.plates),
        printer_id: j.printer_id,
        priority: Some(j.priority),
        position: Some(j.position),
        event_id: j.event_id,
        notes: j.notes.clone(),
    }
}

/// Records the change of a job's fields from `before` (a new job without) to what its row
/// holds now, for devices.
async fn record(
    tx: &mut Tx,
    auth: &AuthUser,
    id: Uuid,
    before: Option<&PrintJob>,
    strict: bool,
) -> ApiResult<()> {
    let now = fetch(tx, id, false).await?.job;
    rest::set_changed(
        tx,
        auth,
        EntityKind::PrintJob,
        id,
        before.map(fields_of).as_ref(),
        &fields_of(&now),
        strict,
    )
    .await?;
    Ok(())
}

/// The job, locked for the rest of `tx` when `lock`.
async fn fetch(tx: &mut Tx, id: Uuid, lock: bool) -> ApiResult<JobOut> {
    let lock = if lock { " for update" } else { "" };
    let row = sqlx::query(&format!(
        "select {COLUMNS} from print_job where id = $1{lock}"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
    .map_err(db)?
    .ok_or_else(|| ApiError::NotFound("print job".into()))?;
    from_row(&row)
}

/// The job with its ledger rows.
async fn fetch_full(tx: &mut Tx, id: Uuid) -> ApiResult<JobOut> {
    let mut out = fetch(tx, id, false).await?;
    out.spools_used = Some(usage_of_job(tx, id).await?);
    let rows = sqlx::query(
        r#"select product_id, quantity, at from stock_entry where job_id = $1 order by id"#,
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await
    .map_err(db)?;
    out.produced = Some(
        rows.iter()
            .map(|r| ProducedRow {
                product_id: r.get("product_id"),
                quantity: r.get("quantity"),
                at: r.get("at"),
            })
            .collect(),
    );
    out.printer_reports = Some(printer_reports::reported_for(tx, &out.job).await?);
    out.spools_reported = Some(printer_reports::recorded_for(tx, id).await?);
    Ok(out)
}

/// The jobs printing or paused on a printer.
pub async fn running_on_printers(tx: &mut Tx) -> ApiResult<Vec<PrintJob>> {
    let rows = sqlx::query(&format!(
        "select {COLUMNS} from print_job
         where status in ('printing', 'paused') and printer_id is not null
           and started_at is not null
         order by priority desc, position, id"
    ))
    .fetch_all(&mut **tx)
    .await
    .map_err(db)?;
    rows.iter().map(|r| from_row(r).map(|j| j.job)).collect()
}

/// `?status=` (`open`: queued, printing or paused, the default; `all`; or one status),
/// `printer_id`, `event_id`, `q` (the variant's or its model's name, the printer's name),
/// with the common cursor and limit.
#[derive(Debug, Deserialize, Default)]
pub struct JobQuery {
    pub cursor: Option<String>,
    pub limit: Option<i64>,
    pub q: Option<String>,
    pub status: Option<String>,
    pub printer_id: Option<Uuid>,
    pub event_id: Option<Uuid>,
}

/// `GET /print-jobs`: in queue order (priority high to low, then position, then id).
async fn list(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiQuery(jq): ApiQuery<JobQuery>,
) -> ApiResult<ApiJson<Page<JobOut>>> {
    require(&auth, Action::LookUp)?;
    let q = ListQuery {
        cursor: jq.cursor,
        limit: jq.limit,
        q: jq.q,
        ..Default::default()
    };
    let limit = q.limit()?;
    let pattern = q.pattern()?;
    let (open, all, status) = match jq.status.as_deref() {
        None | Some("open") => (true, false, None),
        Some("all") => (false, true, None),
        Some(s) => {
            let st: JobStatus = parse_label(s.to_owned()).map_err(|_| {
                invalid_field(
                    "status",
                    "is not a job status; use open, all, queued, printing, paused, done, failed or cancelled",
                )
            })?;
            (false, false, Some(label(&st)?))
        }
    };
    let mut tx = state.tx(&auth).await?;
    let rows = sqlx::query(&format!(
        r#"select {COLUMNS} from print_job
           where ($1::uuid is null
                  or (-priority, position, id) > (select -priority, position, id from print_job where id = $1))
             and (not $2 or {OPEN})
             and ($3 or $2 or status = $4)
             and ($5::uuid is null or printer_id = $5)
             and ($6::uuid is null or event_id = $6)
             and ($8::text is null
                  or variant_id in (select v.id from model_variant v
                                    where v.name ilike $8
                                       or v.model_id in (select m.id from model m
                                                         where m.name ilike $8))
                  or printer_id in (select p.id from printer p where p.name ilike $8))
           order by priority desc, position, id
           limit $7"#
    ))
    .bind(q.after()?)
    .bind(open)
    .bind(all)
    .bind(status)
    .bind(jq.printer_id)
    .bind(jq.event_id)
    .bind(limit + 1)
    .bind(pattern)
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    let items = rows.iter().map(from_row).collect::<ApiResult<Vec<_>>>()?;
    Ok(ApiJson(Page::from_rows(items, limit, |j| j.job.id.0)))
}

async fn read(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<ApiJson<JobOut>> {
    require(&auth, Action::LookUp)?;
    let mut tx = state.tx(&auth).await?;
    let out = fetch_full(&mut tx, id).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(out))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewJob {
    #[serde(default)]
    pub id: Option<Uuid>,
    pub variant_id: VariantId,
    pub units: u32,
    /// Default: the variant's plates for `units` (core's `plates_for`).
    #[serde(default)]
    pub plates: Option<u32>,
    #[serde(default)]
    pub printer_id: Option<PrinterId>,
    #[serde(default)]
    pub priority: i32,
    /// Default: after every other job.
    #[serde(default)]
    pub position: Option<i64>,
    #[serde(default)]
    pub event_id: Option<MarketEventId>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// `POST /print-jobs`: a queued job.
async fn create(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiJson(input): ApiJson<NewJob>,
) -> ApiResult<(StatusCode, ApiJson<JobOut>)> {
    require(&auth, Action::PlanPrintJobs)?;
    let mut tx = state.tx(&auth).await?;
    // The shop's writers queue here first, as a push does, before any row lock is taken.
    lock_shop(&mut tx, auth.shop_id).await?;
    let variant = super::models::fetch_variant(&mut tx, input.variant_id.0).await?;
    let position = match input.position {
        Some(p) => p,
        None => {
            sqlx::query_scalar::<_, i64>("select coalesce(max(position), 0) + 1 from print_job")
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?
        }
    };
    let job = PrintJob {
        id: PrintJobId(new_id(input.id)),
        variant_id: input.variant_id,
        units: input.units,
        plates: input
            .plates
            .unwrap_or_else(|| variant.variant.plates_for(input.units)),
        printer_id: input.printer_id,
        status: JobStatus::Queued,
        priority: input.priority,
        position,
        event_id: input.event_id,
        started_at: None,
        finished_at: None,
        failure_reason: None,
        notes: input.notes,
    };
    job.validate().map_err(invalid)?;
    sqlx::query(
        r#"insert into print_job (id, shop_id, variant_id, units, plates, printer_id, priority,
                                  position, event_id, notes, created_by)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"#,
    )
    .bind(job.id.0)
    .bind(auth.shop_id)
    .bind(job.variant_id.0)
    .bind(int(job.units))
    .bind(int(job.plates))
    .bind(job.printer_id.map(|p| p.0))
    .bind(job.priority)
    .bind(job.position)
    .bind(job.event_id.map(|e| e.0))
    .bind(&job.notes)
    .bind(auth.user_id)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    // Every field, as an `entity.set.v1`, so that devices pull the new job.
    record(&mut tx, &auth, job.id.0, None, true).await?;
    let out = fetch_full(&mut tx, job.id.0).await?;
    tx.commit().await.map_err(db)?;
    Ok((StatusCode::CREATED, ApiJson(out)))
}

fn ended(job: &PrintJob) -> ApiError {
    ApiError::Conflict(format!(
        "the job is already {}; start a new job to print again",
        job.status.label()
    ))
}

/// `PATCH /print-jobs/{id}`: what, how many, where and when; not the status (use `status`,
/// `finish`, `fail`). A job that ended cannot change.
async fn update(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<Value>,
) -> ApiResult<ApiJson<JobOut>> {
    require(&auth, Action::PlanPrintJobs)?;
    let mut tx = state.tx(&auth).await?;
    lock_shop(&mut tx, auth.shop_id).await?;
    let current = fetch(&mut tx, id, true).await?;
    let (next, typed): (PrintJob, PrintJobPatch) =
        merge_patch(&current.job, patch, PrintJobPatch::NULLABLE)?;
    typed.validate().map_err(invalid)?;
    next.validate().map_err(invalid)?;
    if current.job.status.is_final() {
        return Err(ended(&current.job));
    }
    sqlx::query(
        r#"update print_job set variant_id = $2, units = $3, plates = $4, printer_id = $5,
                  priority = $6, position = $7, event_id = $8, notes = $9, updated_at = now()
           where id = $1"#,
    )
    .bind(id)
    .bind(next.variant_id.0)
    .bind(int(next.units))
    .bind(int(next.plates))
    .bind(next.printer_id.map(|p| p.0))
    .bind(next.priority)
    .bind(next.position)
    .bind(next.event_id.map(|e| e.0))
    .bind(&next.notes)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    // The changed fields, merged last-writer-wins with a phone's edits.
    record(&mut tx, &auth, id, Some(&current.job), false).await?;
    let out = fetch_full(&mut tx, id).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(out))
}

/// Where to put a job: just before or after another open job (taking its priority), or at
/// the end of a priority.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveIn {
    #[serde(default)]
    pub before: Option<PrintJobId>,
    #[serde(default)]
    pub after: Option<PrintJobId>,
    #[serde(default)]
    pub priority: Option<i32>,
}

/// `POST /print-jobs/{id}/move`: renumbers the open jobs of the target priority so that the
/// order is exact.
async fn move_job(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<MoveIn>,
) -> ApiResult<ApiJson<JobOut>> {
    require(&auth, Action::PlanPrintJobs)?;
    let anchor = match (input.before, input.after, input.priority) {
        (Some(b), None, None) => Some((b.0, -1)),
        (None, Some(a), None) => Some((a.0, 1)),
        (None, None, Some(_)) => None,
        _ => {
            return Err(invalid_field(
                "before",
                "send exactly one of `before`, `after` (a job id) or `priority`",
            ));
        }
    };
    let mut tx = state.tx(&auth).await?;
    lock_shop(&mut tx, auth.shop_id).await?;
    let job = fetch(&mut tx, id, true).await?;
    if job.job.status.is_final() {
        return Err(ended(&job.job));
    }
    let before = places(&mut tx).await?;
    let (priority, position) = match anchor {
        Some((other, offset)) => {
            if other == id {
                return Err(invalid_field("before", "names the job itself"));
            }
            let target = fetch(&mut tx, other, true).await?;
            if target.job.status.is_final() {
                return Err(ended(&target.job));
            }
            let p = target.job.priority;
            // Even positions 2, 4, 6, ... for the band without the moved job.
            sqlx::query(&format!(
                r#"with ordered as (
                       select id, row_number() over (order by position, id) * 2 as pos
                       from print_job where priority = $1 and {OPEN} and id <> $2
                   )
                   update print_job j set position = ordered.pos
                   from ordered where j.id = ordered.id"#
            ))
            .bind(p)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            let at: i64 = sqlx::query_scalar("select position from print_job where id = $1")
                .bind(other)
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?;
            (p, at + offset)
        }
        None => {
            let p = input.priority.unwrap_or(job.job.priority);
            let last: i64 = sqlx::query_scalar(&format!(
                "select coalesce(max(position), 0) + 1 from print_job where priority = $1 and {OPEN} and id <> $2"
            ))
            .bind(p)
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
            (p, last)
        }
    };
    sqlx::query(
        "update print_job set priority = $2, position = $3, updated_at = now() where id = $1",
    )
    .bind(id)
    .bind(priority)
    .bind(position)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    // Each job whose place changed (the renumbered band too), as a phone's move is.
    for (job, place) in places(&mut tx).await? {
        if let Some(old) = before.get(&job).filter(|old| **old != place) {
            let mut fields = serde_json::Map::new();
            if old.0 != place.0 {
                fields.insert("priority".into(), Value::from(place.0));
            }
            if old.1 != place.1 {
                fields.insert("position".into(), Value::from(place.1));
            }
            let body = OpBody::EntitySet(printstall_core::sync::op::EntitySet {
                entity: EntityKind::PrintJob,
                id: job,
                fields,
            });
            rest::apply(&mut tx, &auth, body, false).await?;
        }
    }
    let out = fetch_full(&mut tx, id).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(out))
}

/// The places (priority, position) of the open jobs.
async fn places(tx: &mut Tx) -> ApiResult<BTreeMap<Uuid, (i32, i64)>> {
    let rows: Vec<(Uuid, i32, i64)> = sqlx::query_as(&format!(
        "select id, priority, position from print_job where {OPEN}"
    ))
    .fetch_all(&mut **tx)
    .await
    .map_err(db)?;
    Ok(rows
        .into_iter()
        .map(|(id, pr, pos)| (id, (pr, pos)))
        .collect())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusIn {
    /// `printing` (start or resume), `paused` or `cancelled`.
    pub status: JobStatus,
}

/// `POST /print-jobs/{id}/status`: start, pause, resume or cancel.
async fn set_status(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<StatusIn>,
) -> ApiResult<ApiJson<JobOut>> {
    require(&auth, Action::MovePrintJob)?;
    if matches!(input.status, JobStatus::Done | JobStatus::Failed) {
        return Err(invalid_field(
            "status",
            format!(
                "`{}` needs the filament used; POST /print-jobs/{{id}}/{}",
                input.status.label(),
                if input.status == JobStatus::Done {
                    "finish"
                } else {
                    "fail"
                }
            ),
        ));
    }
    let mut tx = state.tx(&auth).await?;
    lock_shop(&mut tx, auth.shop_id).await?;
    fetch(&mut tx, id, true).await?;
    // The job's steps follow core's status machine in the order of their clocks, on the
    // phone and here alike; a step it refuses is 409 with its message.
    let body = OpBody::JobTransition(JobTransition {
        job_id: PrintJobId(id),
        to: input.status,
        note: None,
    });
    rest::apply(&mut tx, &auth, body, true).await?;
    let out = fetch_full(&mut tx, id).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(out))
}

/// Filament taken off one spool.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpoolUseIn {
    pub spool_id: SpoolId,
    pub used_cg: Centigrams,
    /// The job's printer already reported these grams (the spool's ledger has them).
    #[serde(default)]
    pub reported: bool,
}

/// Where a finish or fail takes the job's filament from, instead of naming spools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GramsFrom {
    /// What the job's printer reported while it ran (`printer_reports`).
    Printer,
}

/// Units of one product put into stock.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProducedIn {
    pub product_id: ProductId,
    pub quantity: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinishIn {
    #[serde(default)]
    pub spools: Vec<SpoolUseIn>,
    #[serde(default)]
    pub grams_from: Option<GramsFrom>,
    /// Default: the job's units of the one active product made from its variant (none when
    /// there is no such product; name them when there are several).
    #[serde(default)]
    pub produced: Option<Vec<ProducedIn>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailIn {
    #[serde(default)]
    pub reason: Option<String>,
    /// The filament wasted.
    #[serde(default)]
    pub spools: Vec<SpoolUseIn>,
    #[serde(default)]
    pub grams_from: Option<GramsFrom>,
}

/// Checks the spool lines and sums them per spool and whether the printer reported them
/// (in id order, the order rows are locked).
fn spool_totals(
    lines: &[SpoolUseIn],
    reason: UsageReason,
) -> ApiResult<BTreeMap<(Uuid, bool), i64>> {
    if lines.len() > MAX_LINES {
        return Err(invalid_field(
            "spools",
            format!("has {} lines; name at most {MAX_LINES} spools", lines.len()),
        ));
    }
    let mut totals: BTreeMap<(Uuid, bool), i64> = BTreeMap::new();
    for (i, l) in lines.iter().enumerate() {
        spool::validate_use(&format!("spools[{i}].used_cg"), l.used_cg, reason).map_err(invalid)?;
        *totals.entry((l.spool_id.0, l.reported)).or_default() += l.used_cg.0;
    }
    for (i, l) in lines.iter().enumerate() {
        if let Some(total) = totals.get(&(l.spool_id.0, l.reported)) {
            spool::validate_use(&format!("spools[{i}].used_cg"), Centigrams(*total), reason)
                .map_err(invalid)?;
        }
    }
    Ok(totals)
}

/// The spool lines of a finish or fail, one per spool (and per whether the printer reported
/// it); 404 when a spool is not the shop's. With `grams_from: "printer"`, the lines are what
/// the job's printer reported while it ran, marked as reported.
async fn spool_lines(
    tx: &mut Tx,
    job: &PrintJob,
    named: &[SpoolUseIn],
    grams_from: Option<GramsFrom>,
    reason: UsageReason,
) -> ApiResult<Vec<SpoolGrams>> {
    let totals = match grams_from {
        None => spool_totals(named, reason)?,
        Some(GramsFrom::Printer) => {
            if !named.is_empty() {
                return Err(invalid_field(
                    "grams_from",
                    "send either the spools used or grams_from, not both",
                ));
            }
            let found = printer_reports::reported_for(tx, job).await?;
            if found.is_empty() {
                return Err(invalid_field(
                    "grams_from",
                    match (job.printer_id, job.started_at) {
                        (None, _) => "the job has no printer; name the spools and grams used",
                        (_, None) => {
                            "the job never started on its printer; name the spools and grams used"
                        }
                        _ => {
                            "the job's printer reported no filament since the job started; name the spools and grams used"
                        }
                    },
                ));
            }
            found
                .into_iter()
                .map(|l| ((l.spool_id.0, true), l.used_cg.0))
                .collect()
        }
    };
    let mut lines = Vec::with_capacity(totals.len());
    for ((spool_id, reported), used) in totals {
        ensure_exists(tx, "spool", "spool", spool_id).await?;
        lines.push(SpoolGrams {
            spool_id: SpoolId(spool_id),
            used_cg: Centigrams(used),
            reported,
        });
    }
    Ok(lines)
}

/// `POST /print-jobs/{id}/finish`: one transaction: the job becomes done, each spool loses
/// its grams (`print` ledger rows, clamped at 0), each product gains its units (`produced`).
async fn finish(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<FinishIn>,
) -> ApiResult<ApiJson<JobOut>> {
    require(&auth, Action::MovePrintJob)?;
    if input.grams_from.is_none() {
        spool_totals(&input.spools, UsageReason::Print)?;
    }
    if let Some(p) = &input.produced {
        if p.len() > MAX_LINES {
            return Err(invalid_field(
                "produced",
                format!("has {} lines; name at most {MAX_LINES} products", p.len()),
            ));
        }
        for (i, l) in p.iter().enumerate() {
            StockReason::Produced
                .validate_delta(&format!("produced[{i}].quantity"), l.quantity)
                .map_err(invalid)?;
        }
    }
    let mut tx = state.tx(&auth).await?;
    lock_shop(&mut tx, auth.shop_id).await?;
    let job = fetch(&mut tx, id, true).await?;
    if job.job.status.is_final() {
        return Err(ended(&job.job));
    }
    let produced: BTreeMap<Uuid, i64> = match input.produced {
        Some(lines) => {
            let mut m = BTreeMap::new();
            for l in lines {
                *m.entry(l.product_id.0).or_default() += l.quantity;
            }
            m
        }
        None => {
            let made: Vec<Uuid> = sqlx::query_scalar(
                r#"select id from product where variant_id = $1 and active and archived_at is null"#,
            )
            .bind(job.job.variant_id.0)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
            match made.as_slice() {
                [] => BTreeMap::new(),
                [one] => BTreeMap::from([(*one, i64::from(job.job.units))]),
                _ => {
                    return Err(invalid_field(
                        "produced",
                        "several products are made from this variant; name the units of each",
                    ));
                }
            }
        }
    };
    let spools = spool_lines(
        &mut tx,
        &job.job,
        &input.spools,
        input.grams_from,
        UsageReason::Print,
    )
    .await?;
    let mut lines = Vec::with_capacity(produced.len());
    for (product_id, quantity) in produced {
        ensure_exists(&mut tx, "product", "product", product_id).await?;
        let quantity = u32::try_from(quantity).map_err(|_| {
            invalid_field(
                "produced",
                "names more units of one product than a job can make",
            )
        })?;
        lines.push(Produced {
            product_id: ProductId(product_id),
            quantity,
        });
    }
    // One op: the rules put the units into stock and take the grams off the spools only if
    // this finish is the step that ends the job.
    let body = OpBody::JobFinish(JobFinish {
        job_id: PrintJobId(id),
        produced: lines,
        spools,
    });
    rest::apply(&mut tx, &auth, body, true).await?;
    let out = fetch_full(&mut tx, id).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(out))
}

/// `POST /print-jobs/{id}/fail`: one transaction: the job becomes failed with its reason,
/// and the wasted grams leave the spools (`failed_print` ledger rows).
async fn fail(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<FailIn>,
) -> ApiResult<ApiJson<JobOut>> {
    require(&auth, Action::MovePrintJob)?;
    if input.grams_from.is_none() {
        spool_totals(&input.spools, UsageReason::FailedPrint)?;
    }
    let reason = input
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    let mut tx = state.tx(&auth).await?;
    lock_shop(&mut tx, auth.shop_id).await?;
    let job = fetch(&mut tx, id, true).await?;
    if job.job.status.is_final() {
        return Err(ended(&job.job));
    }
    let failed = PrintJob {
        status: JobStatus::Failed,
        failure_reason: reason.clone(),
        ..job.job.clone()
    };
    failed.validate().map_err(|e| {
        invalid(if e.field == "failure_reason" {
            printstall_core::domain::ValidationError::new("reason", e.message)
        } else {
            e
        })
    })?;
    let spools = spool_lines(
        &mut tx,
        &job.job,
        &input.spools,
        input.grams_from,
        UsageReason::FailedPrint,
    )
    .await?;
    let body = OpBody::JobFail(JobFail {
        job_id: PrintJobId(id),
        reason: reason.unwrap_or_else(|| NO_REASON.to_owned()),
        spools,
    });
    rest::apply(&mut tx, &auth, body, true).await?;
    let out = fetch_full(&mut tx, id).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(out))
}

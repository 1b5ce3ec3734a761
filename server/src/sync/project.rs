//! Keeps the REST tables in step with an applied op, in the push's transaction: stock
//! levels and their ledger, sales and their lines, spool grams and their ledger, and the
//! descriptive columns of products, filaments, spools, printers, print jobs, market
//! events, models and variants with their filament needs (rows made on a phone are
//! inserted once complete), print job statuses (the replay
//! of the job's steps) and event stock plans.
//!
//! Sales and stock moves are not written here but gathered in [`Deferred`] and written
//! set-based (see `super::deferred`): at once for a single op, over the batch on a push's
//! fast path.
//!
//! The merge cells (`sync_cell`) are the truth for sync; these tables are what the REST API
//! and reports read. A row the REST tables cannot hold (a product made on a phone before it
//! has a SKU, a sale of a product the back office never had) is skipped here with a note in
//! the op's answer: the op still counts, and the cells still carry it.

use printstall_core::domain::sale::Discount;
use printstall_core::domain::{MarketEventId, PrintJobId, ProductId, SpoolId};
use printstall_core::sync::cells::JobStep;
use printstall_core::sync::{Applied, EntityKind, LevelChange, Op, OpBody, State};
use serde_json::{Map, Value};
use sqlx::PgConnection;
use uuid::Uuid;

use super::deferred::{Deferred, SaleRow, StockMove};
use crate::auth::AuthUser;

/// What projecting an op wrote.
#[derive(Debug, Default)]
pub struct Projected {
    /// Why the REST tables could not show the op (a data error, rolled back to the op's
    /// savepoint); the op still counts.
    pub note: Option<String>,
    /// The spool ledger rows written, in order (the REST API answers them).
    pub spool_entries: Vec<Uuid>,
}

/// Projects `op`, in a savepoint: a data error becomes the op's note. `Err` only for
/// failures that should fail the push.
pub async fn project(
    conn: &mut PgConnection,
    user: &AuthUser,
    op: &Op,
    applied: &Applied,
    state: &State,
) -> Result<Projected, sqlx::Error> {
    sqlx::query("savepoint sync_projection")
        .execute(&mut *conn)
        .await?;
    match project_unguarded(conn, user, op, applied, state).await {
        Ok(out) => {
            sqlx::query("release savepoint sync_projection")
                .execute(&mut *conn)
                .await?;
            Ok(out)
        }
        Err(sqlx::Error::Database(e))
            if e.code()
                .is_some_and(|c| c.starts_with("23") || c.starts_with("22")) =>
        {
            tracing::warn!(op_id = %op.op_id, error = %e, "sync op not shown in the REST tables");
            sqlx::query("rollback to savepoint sync_projection")
                .execute(&mut *conn)
                .await?;
            sqlx::query("release savepoint sync_projection")
                .execute(&mut *conn)
                .await?;
            Ok(Projected {
                note: Some(format!(
                    "the back-office lists do not show this change yet ({}); it is kept and counted",
                    e.constraint().unwrap_or("a required value is missing")
                )),
                spool_entries: Vec::new(),
            })
        }
        Err(e) => Err(e),
    }
}

/// [`project`] without its savepoint, for a push that first tries its whole batch without
/// one savepoint per op (two round trips each): a data error fails the statement, and the
/// push then rolls back and applies the batch again through [`project`] (see
/// `push::attempt`). The error is returned as is. The op's sales and stock moves are
/// written before it returns.
pub async fn project_unguarded(
    conn: &mut PgConnection,
    user: &AuthUser,
    op: &Op,
    applied: &Applied,
    state: &State,
) -> Result<Projected, sqlx::Error> {
    let mut out = Projected::default();
    let refs = project_inner(conn, user, op, applied, state, &mut out).await?;
    let mut own = Deferred::default();
    gather(op, applied, state, refs, &mut own);
    own.flush(conn, user.shop_id, user.user_id, op.device_id.0)
        .await?;
    Ok(out)
}

/// Whether all `op` writes to the REST tables are sales and stock moves, which a push's
/// fast path may gather over its batch ([`project_deferred`]).
pub fn deferrable(op: &Op, applied: &Applied) -> bool {
    matches!(
        op.body,
        OpBody::SaleRecord(_) | OpBody::StockAdjust(_) | OpBody::StockCount(_)
    ) && applied
        .levels
        .iter()
        .all(|c| c.entity.kind == EntityKind::Product)
}

/// Projects a [`deferrable`] op by adding its rows to `pending`, which the caller flushes
/// before anything else reads or writes the REST tables.
pub fn project_deferred(op: &Op, applied: &Applied, state: &State, pending: &mut Deferred) {
    gather(op, applied, state, Refs::of(op), pending);
}

/// Whether `e` is a data error that [`project`] turns into a note (and a push's fast path
/// into a second, guarded attempt).
pub fn is_data_error(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(e) => e
            .code()
            .is_some_and(|c| c.starts_with("23") || c.starts_with("22")),
        _ => false,
    }
}

/// The rows an op's stock ledger rows refer to.
#[derive(Debug, Default, Clone, Copy)]
struct Refs {
    sale: Option<Uuid>,
    job: Option<Uuid>,
    event: Option<Uuid>,
}

impl Refs {
    /// What the op names itself (a finished job's event is read by [`project_inner`]).
    fn of(op: &Op) -> Refs {
        match &op.body {
            OpBody::SaleRecord(sale) => Refs {
                sale: Some(sale.sale_id.0),
                event: sale.event_id.map(|e| e.0),
                ..Refs::default()
            },
            OpBody::SaleVoid(v) => Refs {
                sale: Some(v.sale_id.0),
                ..Refs::default()
            },
            OpBody::StockAdjust(b) => Refs {
                job: b.job_id.map(|j| j.0),
                event: b.event_id.map(|e| e.0),
                ..Refs::default()
            },
            OpBody::StockCount(b) => Refs {
                event: b.event_id.map(|e| e.0),
                ..Refs::default()
            },
            OpBody::SpoolUse(b) => Refs {
                job: b.job_id.map(|j| j.0),
                ..Refs::default()
            },
            OpBody::JobFinish(b) => Refs {
                job: Some(b.job_id.0),
                ..Refs::default()
            },
            OpBody::JobFail(b) => Refs {
                job: Some(b.job_id.0),
                ..Refs::default()
            },
            _ => Refs::default(),
        }
    }
}

/// The op's sale (when this op is the one that recorded it) and its stock moves, added to
/// `pending`.
fn gather(op: &Op, applied: &Applied, state: &State, refs: Refs, pending: &mut Deferred) {
    if let OpBody::SaleRecord(sale) = &op.body {
        let ours = state
            .sales
            .get(&sale.sale_id)
            .and_then(|c| c.record.as_ref())
            .is_some_and(|r| r.stamp.op_id == op.op_id);
        if ours && let Some(row) = sale_row(op, state) {
            pending.sale(row);
        }
    }
    for change in &applied.levels {
        let d = change.after - change.before;
        if change.entity.kind == EntityKind::Product
            && (d != 0 || matches!(op.body, OpBody::StockCount(_)))
        {
            pending.stock_move(StockMove {
                op_id: op.op_id,
                product_id: change.entity.id,
                quantity: d,
                level_before: change.before,
                reason: stock_reason(op, d),
                job_id: refs.job,
                sale_id: refs.sale,
                event_id: refs.event,
            });
        }
    }
}

/// Writes what an op changes in the REST tables, but for its sales and stock moves
/// ([`gather`]); answers what those refer to.
async fn project_inner(
    conn: &mut PgConnection,
    user: &AuthUser,
    op: &Op,
    applied: &Applied,
    state: &State,
    out: &mut Projected,
) -> Result<Refs, sqlx::Error> {
    let mut refs = Refs::of(op);
    let job_id = refs.job;
    match &op.body {
        OpBody::SaleVoid(v) => {
            sqlx::query(r#"update sale set voided = true where id = $1"#)
                .bind(v.sale_id.0)
                .execute(&mut *conn)
                .await?;
        }
        OpBody::JobFinish(b) => refs.event = job_event(conn, b.job_id).await?,
        OpBody::EntitySet(b) => {
            descriptive(conn, user, b.entity, b.id, b.fields.keys(), state).await?;
            if b.entity == EntityKind::Variant {
                variant_needs(conn, user, b.id, state).await?;
            }
        }
        OpBody::EntityDelete(t) | OpBody::EntityUndelete(t) => {
            lifecycle(conn, t.entity, t.id, state).await?;
        }
        OpBody::EventPlan(p) => plan_line(conn, user, p.event_id, p.product_id, state).await?,
        _ => {}
    }
    // What each spool line asked for, in the order the rules report the spools' levels:
    // the part of it beyond what the spool held is the ledger row's overshoot.
    let mut asked: Vec<(Uuid, i64)> = match &op.body {
        OpBody::SpoolUse(b) => vec![(b.spool_id.0, b.used_cg.0)],
        OpBody::JobFinish(b) => b
            .spools
            .iter()
            .map(|s| (s.spool_id.0, s.used_cg.0))
            .collect(),
        OpBody::JobFail(b) => b
            .spools
            .iter()
            .map(|s| (s.spool_id.0, s.used_cg.0))
            .collect(),
        _ => Vec::new(),
    };
    for change in &applied.levels {
        if change.entity.kind != EntityKind::Spool {
            continue;
        }
        let d = change.after - change.before;
        let line = asked.iter().position(|(s, _)| *s == change.entity.id);
        let want = line.map_or(0, |i| asked.remove(i).1);
        let overshoot = if want > 0 { (want + d).max(0) } else { 0 };
        // A weighing is recorded even when it confirms the level.
        if d != 0 || overshoot > 0 || matches!(op.body, OpBody::SpoolWeigh(_)) {
            let row = spool_move(conn, user, op, change, -d, overshoot, job_id).await?;
            out.spool_entries.extend(row);
        }
    }
    let job = match &op.body {
        OpBody::JobTransition(b) => Some(b.job_id),
        OpBody::JobFinish(b) => Some(b.job_id),
        OpBody::JobFail(b) => Some(b.job_id),
        _ => None,
    };
    if let Some(job) = job {
        job_status(conn, job, state).await?;
        if matches!(op.body, OpBody::JobFinish(_) | OpBody::JobFail(_)) {
            job_printer_use(conn, user, job, state).await?;
        }
    }
    Ok(refs)
}

/// The market event a print job is for.
async fn job_event(conn: &mut PgConnection, job: PrintJobId) -> Result<Option<Uuid>, sqlx::Error> {
    Ok(
        sqlx::query_scalar::<_, Option<Uuid>>(r#"select event_id from print_job where id = $1"#)
            .bind(job.0)
            .fetch_optional(&mut *conn)
            .await?
            .flatten(),
    )
}

/// Writes a job's status as the replay of its steps gives it: `started_at` on the first
/// start, `finished_at` while it has ended, the failure reason of the fail that ended it.
async fn job_status(
    conn: &mut PgConnection,
    job: PrintJobId,
    state: &State,
) -> Result<(), sqlx::Error> {
    let Some(cell) = state.jobs.get(&job) else {
        return Ok(());
    };
    let replay = cell.replay();
    let reason = replay
        .terminal
        .and_then(|s| cell.steps.get(&s))
        .and_then(|step| match step {
            JobStep::Fail(f) => Some(f.reason.trim().to_owned()),
            _ => None,
        });
    sqlx::query(
        r#"update print_job set status = $2,
                  started_at = case when $2 in ('printing', 'done', 'failed')
                                    then coalesce(started_at, now()) else started_at end,
                  finished_at = case when $3 then coalesce(finished_at, now()) else null end,
                  failure_reason = $4, updated_at = now()
           where id = $1"#,
    )
    .bind(job.0)
    .bind(replay.status.label())
    .bind(replay.status.is_final())
    .bind(reason)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Keeps a job's `print_job_printer_use` rows equal to the reported lines of the step that
/// ended it (a later-arriving finish that wins by clock replaces them; none when it ended
/// without them). Only for a job and spools the REST tables hold.
async fn job_printer_use(
    conn: &mut PgConnection,
    user: &AuthUser,
    job: PrintJobId,
    state: &State,
) -> Result<(), sqlx::Error> {
    let lines = state
        .jobs
        .get(&job)
        .map(|c| c.reported_lines())
        .unwrap_or_default();
    sqlx::query(r#"delete from print_job_printer_use where job_id = $1"#)
        .bind(job.0)
        .execute(&mut *conn)
        .await?;
    if lines.is_empty() {
        return Ok(());
    }
    let spools: Vec<Uuid> = lines.iter().map(|l| l.spool_id.0).collect();
    let grams: Vec<i64> = lines.iter().map(|l| l.used_cg.0).collect();
    sqlx::query(
        r#"insert into print_job_printer_use (shop_id, job_id, spool_id, used_cg)
           select $1, j.id, l.spool_id, sum(l.used_cg)
           from unnest($3::uuid[], $4::bigint[]) as l (spool_id, used_cg)
           join print_job j on j.id = $2
           join spool s on s.id = l.spool_id
           group by j.id, l.spool_id"#,
    )
    .bind(user.shop_id)
    .bind(job.0)
    .bind(&spools)
    .bind(&grams)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes one line of an event's stock plan as merged (a target of 0 removes it).
async fn plan_line(
    conn: &mut PgConnection,
    user: &AuthUser,
    event: MarketEventId,
    product: ProductId,
    state: &State,
) -> Result<(), sqlx::Error> {
    let target = state
        .plans
        .get(&event)
        .and_then(|m| m.get(&product))
        .map_or(0, |r| r.value);
    if target == 0 {
        sqlx::query(r#"delete from event_stock_plan where event_id = $1 and product_id = $2"#)
            .bind(event.0)
            .bind(product.0)
            .execute(&mut *conn)
            .await?;
        return Ok(());
    }
    sqlx::query(
        r#"insert into event_stock_plan (shop_id, event_id, product_id, target)
           values ($1, $2, $3, $4)
           on conflict (event_id, product_id) do update set target = excluded.target"#,
    )
    .bind(user.shop_id)
    .bind(event.0)
    .bind(product.0)
    .bind(i32::try_from(target).unwrap_or(i32::MAX))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn label<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

/// Why a product's level moved by `d`, as its ledger row says.
fn stock_reason(op: &Op, d: i64) -> String {
    match &op.body {
        OpBody::StockAdjust(b) => label(&b.reason),
        OpBody::StockCount(_) => "counted".into(),
        OpBody::SaleRecord(_) => "sold".into(),
        // A voided sale's units are back on the shelf.
        OpBody::SaleVoid(_) => "returned".into(),
        OpBody::JobFinish(_) if d > 0 => "produced".into(),
        _ => "adjusted".into(),
    }
}

/// Moves a spool's grams and appends its ledger row (with what was asked beyond the grams
/// left); the row's id, when the REST tables hold the spool.
async fn spool_move(
    conn: &mut PgConnection,
    user: &AuthUser,
    op: &Op,
    change: &LevelChange,
    used: i64,
    overshoot: i64,
    job_id: Option<Uuid>,
) -> Result<Option<Uuid>, sqlx::Error> {
    let reason = match &op.body {
        OpBody::SpoolWeigh(_) => "measurement".to_owned(),
        _ if used < 0 => "correction".to_owned(),
        OpBody::SpoolUse(b) => label(&b.reason),
        OpBody::JobFail(_) => "failed_print".into(),
        _ => "print".into(),
    };
    let spool = change.entity.id;
    let found: Option<Uuid> = sqlx::query_scalar(
        r#"update spool set left_cg = greatest(0, left_cg - $2),
                  first_used_at = case when $2 > 0 then coalesce(first_used_at, now())
                                       else first_used_at end,
                  last_used_at = case when $2 > 0 then now() else last_used_at end,
                  updated_at = now()
           where id = $1 returning id"#,
    )
    .bind(spool)
    .bind(used)
    .fetch_optional(&mut *conn)
    .await?;
    if found.is_none() {
        return Ok(None);
    }
    let id = Uuid::now_v7();
    // An op of a printer's device (the Spoolman API) names the printer on its row.
    sqlx::query(
        r#"with printer_of as (
               select t.id, t.printer_id, coalesce(p.name, t.name) as name
               from device d join printer_token t on t.id = d.printer_token_id
               left join printer p on p.id = t.printer_id
               where d.id = $9
           )
           insert into spool_usage (id, shop_id, spool_id, used_cg, overshoot_cg, reason, job_id,
                                    user_id, printer_token_id, printer_id, printer_name)
           values ($1, $2, $3, $4, $5, $6, (select id from print_job where id = $7), $8,
                   (select id from printer_of), (select printer_id from printer_of),
                   (select name from printer_of))"#,
    )
    .bind(id)
    .bind(user.shop_id)
    .bind(spool)
    .bind(used)
    .bind(overshoot)
    .bind(reason)
    .bind(job_id)
    .bind(user.user_id)
    .bind(op.device_id.0)
    .execute(&mut *conn)
    .await?;
    Ok(Some(id))
}

/// The `sale` row of a `sale.record.v1` op, with its lines (none when its totals cannot be
/// worked out: the op was refused then).
fn sale_row(op: &Op, state: &State) -> Option<SaleRow> {
    let OpBody::SaleRecord(sale) = &op.body else {
        return None;
    };
    let totals = sale.totals().ok()?;
    let (discount_type, discount_value) = match sale.discount {
        Discount::None => ("none", 0),
        Discount::Amount { amount } => ("amount", amount.0),
        Discount::Percent { bp } => ("percent", i64::from(bp)),
    };
    let voided = state
        .sales
        .get(&sale.sale_id)
        .is_some_and(|c| c.void.is_some());
    Some(SaleRow {
        op_id: op.op_id,
        id: sale.sale_id.0,
        event_id: sale.event_id.map(|e| e.0),
        discount_type,
        discount_value,
        subtotal: totals.subtotal.0,
        discount: totals.discount.0,
        total: totals.total.0,
        tax: totals.tax.0,
        payment_method: label(&sale.payment_method),
        tax_rate_bp: i32::try_from(sale.tax_rate_bp).unwrap_or(i32::MAX),
        prices_include_tax: sale.prices_include_tax,
        taken_at: sale.taken_at,
        device_id: op.device_id.0,
        voided,
        lines: sale
            .lines
            .iter()
            .map(|l| {
                (
                    l.product_id.0,
                    i32::try_from(l.quantity).unwrap_or(i32::MAX),
                    l.unit_price.0,
                )
            })
            .collect(),
    })
}

/// The table and the `entity.set.v1` fields that are plain columns of it.
fn columns(kind: EntityKind) -> Option<(&'static str, &'static [&'static str])> {
    match kind {
        EntityKind::Product => Some((
            "product",
            &[
                "sku",
                "name",
                "variant_id",
                "price",
                "unit_cost",
                "barcode",
                "location",
                "low_stock_threshold",
                "tags",
                "active",
            ],
        )),
        EntityKind::Filament => Some((
            "filament",
            &[
                "brand",
                "material",
                "diameter",
                "density_mg_cm3",
                "net_weight_cg",
                "empty_spool_cg",
                "price_per_spool",
                "nozzle_temp_c",
                "bed_temp_c",
                "article_number",
                "ean",
                // From the `colour` field (name, hex, multi_hexes), see `flatten_colour`.
                "colour_name",
                "colour_hex",
                "multi_hexes",
            ],
        )),
        // The shop's settings from the Settings screen (business details and the machine
        // cost per hour live in the synced cell only).
        EntityKind::Shop => Some((
            "shop",
            &[
                "name",
                "currency",
                "time_zone",
                "tax_rate_bp",
                "prices_include_tax",
            ],
        )),
        EntityKind::Spool => Some((
            "spool",
            &[
                "filament_id",
                "initial_net_cg",
                "empty_spool_cg",
                "price_paid",
                "purchase_date",
                "location",
                "lot_number",
                "barcode",
                "nfc_tag_id",
                "archived",
            ],
        )),
        EntityKind::Printer => Some((
            "printer",
            &[
                "name",
                "model",
                "nozzle_um",
                // From the `build_volume` field, see `flatten_build_volume`.
                "build_x_mm",
                "build_y_mm",
                "build_z_mm",
                "notes",
                "loaded_spool_id",
            ],
        )),
        // The status is not a field: it is the replay of the job's steps (`job_status`).
        EntityKind::PrintJob => Some((
            "print_job",
            &[
                "variant_id",
                "units",
                "plates",
                "printer_id",
                "priority",
                "position",
                "event_id",
                "notes",
            ],
        )),
        EntityKind::Model => Some((
            "model",
            &[
                "name",
                "designer_name",
                "source_url",
                "source_site",
                // From the `licence` field, see `flatten_nested`.
                "licence_name",
                "licence_allows_selling",
                "category",
                "tags",
                "notes",
            ],
        )),
        // The filament needs are rows of `variant_filament` (`variant_needs`).
        EntityKind::Variant => Some((
            "model_variant",
            &[
                "model_id",
                "name",
                "slicer_settings",
                "parts_per_plate",
                "print_time_s",
                "sliced_file_id",
            ],
        )),
        EntityKind::MarketEvent => Some((
            "market_event",
            &[
                "name",
                "starts_on",
                "ends_on",
                "location",
                "booth_fee",
                "theme_tags",
                "notes",
            ],
        )),
        _ => None,
    }
}

/// The `entity.set.v1` fields that are objects, and the columns each is flattened into
/// (see `flatten_nested`).
const NESTED: &[(&str, &[&str])] = &[
    ("colour", &["colour_name", "colour_hex", "multi_hexes"]),
    ("build_volume", &["build_x_mm", "build_y_mm", "build_z_mm"]),
    ("licence", &["licence_name", "licence_allows_selling"]),
];

/// Copies the merged values (last writer wins, not the op's own values) of the fields the
/// op set into the row's columns; makes the product or spool row when it is new and
/// complete enough.
async fn descriptive<'a>(
    conn: &mut PgConnection,
    user: &AuthUser,
    kind: EntityKind,
    id: Uuid,
    set: impl Iterator<Item = &'a String>,
    state: &State,
) -> Result<(), sqlx::Error> {
    let Some((table, allowed)) = columns(kind) else {
        return Ok(());
    };
    let Some(cell) = state.entity_cell(kind, id) else {
        return Ok(());
    };
    let mut merged = cell.values();
    flatten_nested(&mut merged);
    let cols: Vec<&str> = set
        .flat_map(|f| match NESTED.iter().find(|(n, _)| *n == f.as_str()) {
            Some((_, cols)) => cols.to_vec(),
            None => allowed
                .iter()
                .find(|c| **c == f.as_str())
                .copied()
                .into_iter()
                .collect(),
        })
        .filter(|c| allowed.contains(c))
        .collect();
    if cols.is_empty() {
        return Ok(());
    }
    let values = Value::Object(
        cols.iter()
            .map(|c| {
                (
                    (*c).to_owned(),
                    merged.get(*c).cloned().unwrap_or(Value::Null),
                )
            })
            .collect::<Map<_, _>>(),
    );
    // Column names come from the fixed lists above, never from the request.
    let targets = cols.join(", ");
    let sources = cols
        .iter()
        .map(|c| format!("r.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "update {table} set ({targets}, updated_at) = (select {sources}, now() from jsonb_populate_record(null::{table}, $1) r) where id = $2 returning id"
    );
    let spool_before: Option<(i64, i64)> = if kind == EntityKind::Spool {
        sqlx::query_as(r#"select initial_net_cg, left_cg from spool where id = $1"#)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
    } else {
        None
    };
    let found: Option<Uuid> = sqlx::query_scalar(&sql)
        .bind(&values)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some((initial, left)) = spool_before {
        align_spool(conn, user, id, initial, left, state).await?;
    }
    if found.is_some() {
        return Ok(());
    }
    // A new row: every known column, plus the level the cells hold.
    let mut all: Map<String, Value> = allowed
        .iter()
        .filter_map(|c| merged.get(*c).map(|v| ((*c).to_owned(), v.clone())))
        .filter(|(_, v)| !v.is_null())
        .collect();
    let required: &[&str] = match kind {
        EntityKind::Product => &["sku", "name", "price"],
        EntityKind::Filament => &[
            "brand",
            "material",
            "colour_name",
            "colour_hex",
            "diameter",
            "density_mg_cm3",
            "net_weight_cg",
        ],
        EntityKind::Spool => &["filament_id", "initial_net_cg"],
        EntityKind::Printer => &["name"],
        EntityKind::PrintJob => &["variant_id", "units", "plates"],
        EntityKind::MarketEvent => &["name", "starts_on", "ends_on"],
        EntityKind::Model => &[
            "name",
            "source_site",
            "licence_name",
            "licence_allows_selling",
        ],
        EntityKind::Variant => &["model_id", "name"],
        // The shop's row is made when the shop is.
        _ => return Ok(()),
    };
    if required.iter().any(|c| !all.contains_key(*c)) {
        return Ok(());
    }
    let on_hand = state.on_hand(ProductId(id));
    match kind {
        EntityKind::Spool => {
            let level = state.spool_level(SpoolId(id));
            all.insert("left_cg".into(), Value::from(level.left_cg.0));
        }
        EntityKind::PrintJob => {
            all.insert("created_by".into(), Value::from(user.user_id.to_string()));
        }
        _ => {}
    }
    let cols: Vec<String> = all.keys().cloned().collect();
    let sql = format!(
        "insert into {table} (id, shop_id, {}) select $2, $3, {} from jsonb_populate_record(null::{table}, $1) r on conflict (id) do nothing",
        cols.join(", "),
        cols.iter()
            .map(|c| format!("r.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let inserted = sqlx::query(&sql)
        .bind(Value::Object(all))
        .bind(id)
        .bind(user.shop_id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if inserted > 0 && kind == EntityKind::Product && on_hand != 0 {
        // Ops that moved its stock before the row existed: one entry that brings the
        // ledger to the merged level.
        sqlx::query(r#"update product set on_hand = $2 where id = $1"#)
            .bind(id)
            .bind(on_hand)
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            r#"insert into stock_entry (id, shop_id, product_id, quantity, reason, user_id)
               values ($1, $2, $3, $4, 'counted', $5)"#,
        )
        .bind(Uuid::now_v7())
        .bind(user.shop_id)
        .bind(id)
        .bind(on_hand)
        .bind(user.user_id)
        .execute(&mut *conn)
        .await?;
    }
    if inserted > 0 && kind == EntityKind::PrintJob {
        // Steps merged before the row existed (a phone started the job it just made).
        job_status(conn, PrintJobId(id), state).await?;
    }
    Ok(())
}

/// The object fields that are several columns: a filament's `colour`, a printer's
/// `build_volume` and a model's `licence`.
fn flatten_nested(merged: &mut Map<String, Value>) {
    flatten_colour(merged);
    if let Some(Value::Object(l)) = merged.get("licence").cloned() {
        for (field, column) in [
            ("name", "licence_name"),
            ("allows_selling", "licence_allows_selling"),
        ] {
            merged.insert(
                column.to_owned(),
                l.get(field).cloned().unwrap_or(Value::Null),
            );
        }
    }
    if let Some(bv) = merged.get("build_volume").cloned() {
        for (field, column) in [
            ("x_mm", "build_x_mm"),
            ("y_mm", "build_y_mm"),
            ("z_mm", "build_z_mm"),
        ] {
            merged.insert(
                column.to_owned(),
                bv.get(field).cloned().unwrap_or(Value::Null),
            );
        }
    }
}

/// A filament's `colour` field is three columns: its name, hex and other hexes.
fn flatten_colour(merged: &mut Map<String, Value>) {
    let Some(Value::Object(c)) = merged.get("colour").cloned() else {
        return;
    };
    for (field, column) in [("name", "colour_name"), ("hex", "colour_hex")] {
        if let Some(v) = c.get(field) {
            merged.insert(column.to_owned(), v.clone());
        }
    }
    let multi = c
        .get("multi_hexes")
        .filter(|v| v.is_array())
        .cloned()
        .unwrap_or_else(|| Value::Array(Vec::new()));
    merged.insert("multi_hexes".to_owned(), multi);
}

/// A variant's filament needs as merged, once its row exists: the rows of
/// `variant_filament`. A filament the REST tables do not hold (yet) is left out there; the
/// cells keep it.
async fn variant_needs(
    conn: &mut PgConnection,
    user: &AuthUser,
    id: Uuid,
    state: &State,
) -> Result<(), sqlx::Error> {
    let Some(cell) = state.entity_cell(EntityKind::Variant, id) else {
        return Ok(());
    };
    let needs = match cell.values().get("filament_needs") {
        Some(Value::Array(a)) => Value::Array(a.clone()),
        _ => Value::Array(Vec::new()),
    };
    let exists: Option<Uuid> = sqlx::query_scalar(r#"select id from model_variant where id = $1"#)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    if exists.is_none() {
        return Ok(());
    }
    sqlx::query(r#"delete from variant_filament where variant_id = $1"#)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        r#"insert into variant_filament (shop_id, variant_id, filament_id, per_unit_cg)
           select $2, $1, n.filament_id, n.per_unit_cg
           from jsonb_to_recordset($3) as n (filament_id uuid, per_unit_cg bigint)
           where exists (select 1 from filament f where f.id = n.filament_id)
           on conflict do nothing"#,
    )
    .bind(id)
    .bind(user.shop_id)
    .bind(&needs)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// After a spool's fields changed: grams left become the merged level (the latest weighing,
/// or `initial_net_cg`, minus the uses after it). The REST ledger keeps
/// `left_cg = initial_net_cg - sum(used_cg)`: a new initial weight moves grams left by the
/// same amount, and where the merged level differs from that (a weighing already set it),
/// a `correction` row records the difference.
async fn align_spool(
    conn: &mut PgConnection,
    user: &AuthUser,
    id: Uuid,
    initial_before: i64,
    left_before: i64,
    state: &State,
) -> Result<(), sqlx::Error> {
    let initial: i64 = sqlx::query_scalar(r#"select initial_net_cg from spool where id = $1"#)
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    let expected = left_before + (initial - initial_before);
    let level = state.spool_level(SpoolId(id)).left_cg.0;
    if level != expected {
        sqlx::query(
            r#"insert into spool_usage (id, shop_id, spool_id, used_cg, reason, user_id)
               values ($1, $2, $3, $4, 'correction', $5)"#,
        )
        .bind(Uuid::now_v7())
        .bind(user.shop_id)
        .bind(id)
        .bind(expected - level)
        .bind(user.user_id)
        .execute(&mut *conn)
        .await?;
    }
    if level != left_before {
        sqlx::query(r#"update spool set left_cg = $2, updated_at = now() where id = $1"#)
            .bind(id)
            .bind(level)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

async fn lifecycle(
    conn: &mut PgConnection,
    kind: EntityKind,
    id: Uuid,
    state: &State,
) -> Result<(), sqlx::Error> {
    let deleted = state.entity_cell(kind, id).is_some_and(|c| c.is_deleted());
    // A deleted row is archived (what refers to it keeps doing so); a print job has no
    // archive (the phone cancels it), nor has the shop.
    let table = match kind {
        EntityKind::Product => "product",
        EntityKind::Filament => "filament",
        EntityKind::Model => "model",
        EntityKind::Variant => "model_variant",
        EntityKind::Printer => "printer",
        EntityKind::MarketEvent => "market_event",
        EntityKind::Spool => "spool",
        _ => return Ok(()),
    };
    let sql = if kind == EntityKind::Spool {
        "update spool set archived = $2, updated_at = now() where id = $1".to_owned()
    } else {
        format!(
            "update {table} set archived_at = case when $2 then coalesce(archived_at, now()) end, updated_at = now() where id = $1"
        )
    };
    sqlx::query(&sql)
        .bind(id)
        .bind(deleted)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

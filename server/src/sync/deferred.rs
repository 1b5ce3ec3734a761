//! The REST-table writes of sales and stock moves, gathered and written set-based (issue 9:
//! a push projected them one statement per row, several round trips per op).
//!
//! [`super::project`] does not write a sale, its lines or a stock move itself: it adds them
//! here, and [`Deferred::flush`] writes everything gathered in one statement, whatever the
//! count: the sales with their lines, then the stock moves (the product's level and its
//! ledger row, the row following the merged level). A single op's projection flushes at once (the REST API, a push's guarded
//! path); a push's fast path lets the sales and stock ops of a batch pile up and flushes
//! them before anything else touches the tables (another kind of op's projection, a load of
//! rows not read yet, the end of the batch), so every statement sees what it saw when each
//! op was written on its own.
//!
//! The audit log: the row trigger (migration 0200) ties a row to the op named by the
//! transaction's `app.op_id` setting, which is one value per statement. A flush writes the
//! rows of many ops in one statement, so it switches the trigger off for that statement and
//! writes the same audit rows itself, each with its own op: an insert's whole row, a
//! product's level before and after each move, in the order the ops came. None of these
//! rows holds a key that names a secret, so `audit_redact` would return them unchanged.
//! The `op` entries of deferred ops (what `crate::audit::op_recorded` writes for the others)
//! are written by the flush too.

use serde_json::Value;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// One `sale` row, with the op that recorded it.
#[derive(Debug, Clone)]
pub struct SaleRow {
    pub op_id: Uuid,
    pub id: Uuid,
    pub event_id: Option<Uuid>,
    pub discount_type: &'static str,
    pub discount_value: i64,
    pub subtotal: i64,
    pub discount: i64,
    pub total: i64,
    pub tax: i64,
    pub payment_method: String,
    pub tax_rate_bp: i32,
    pub prices_include_tax: bool,
    pub taken_at: OffsetDateTime,
    pub device_id: Uuid,
    pub voided: bool,
    /// `(product, quantity, unit price)`, in line order.
    pub lines: Vec<(Uuid, i32, i64)>,
}

/// One stock move: a product's level changes by `quantity`, and a ledger row says why.
#[derive(Debug, Clone)]
pub struct StockMove {
    pub op_id: Uuid,
    pub product_id: Uuid,
    pub quantity: i64,
    /// The merged level before the move (the cells' level, which the row follows).
    pub level_before: i64,
    pub reason: String,
    /// References to rows the REST tables do not have (yet) are left empty on the row.
    pub job_id: Option<Uuid>,
    pub sale_id: Option<Uuid>,
    pub event_id: Option<Uuid>,
}

/// What is waiting to be written.
#[derive(Debug, Default)]
pub struct Deferred {
    /// The `op` audit entries of deferred ops: `(device, op id, document)`.
    ops: Vec<(Uuid, Uuid, Value)>,
    sales: Vec<SaleRow>,
    moves: Vec<StockMove>,
}

impl Deferred {
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty() && self.sales.is_empty() && self.moves.is_empty()
    }

    /// The `op` audit entry of an op whose writes are deferred.
    pub fn op(&mut self, device_id: Uuid, op_id: Uuid, doc: Value) {
        self.ops.push((device_id, op_id, doc));
    }

    pub fn sale(&mut self, sale: SaleRow) {
        self.sales.push(sale);
    }

    pub fn stock_move(&mut self, m: StockMove) {
        self.moves.push(m);
    }

    /// Writes everything gathered (a no-op when nothing is), as `user` of `shop` from
    /// `device`, and empties the buffer: one statement, then one that turns the audit
    /// trigger back on. Sales are inserted once (`on conflict do nothing`; the lines only with
    /// their sale); a move of a product the REST tables do not hold is skipped, as its
    /// ledger row would have nothing to refer to.
    pub async fn flush(
        &mut self,
        conn: &mut PgConnection,
        shop: Uuid,
        user: Uuid,
        device: Uuid,
    ) -> Result<(), sqlx::Error> {
        if self.is_empty() {
            return Ok(());
        }
        let ops = std::mem::take(&mut self.ops);
        let sales = std::mem::take(&mut self.sales);
        let moves = std::mem::take(&mut self.moves);
        let was: Option<String> = write(conn, shop, user, device, &ops, &sales, &moves).await?;
        if was.as_deref() != Some("off") {
            sqlx::query("select set_config('app.audit', $1, true)")
                .bind(was.unwrap_or_default())
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }
}

/// The statement. Its parts, in order:
/// - `was`, `off`: the audit trigger's setting, then the trigger off (its row events fire
///   when the statement ends, after this).
/// - `sold`, `lined`: the sales and their lines.
/// - `heal`, `moved`, `steps`, `entered`: each product's row set to the merged level after
///   its last move (one row update, not one per move); a `counted` ledger row first where
///   the row did not stand at the merged level before its first move; a ledger row per move.
/// - `audited`: the `op` entries, and, unless the audit was off already, an entry per row
///   written, with the op that wrote it.
///
/// Answers the trigger's setting before it (to put back).
async fn write(
    conn: &mut PgConnection,
    shop: Uuid,
    user: Uuid,
    device: Uuid,
    ops: &[(Uuid, Uuid, Value)],
    sales: &[SaleRow],
    moves: &[StockMove],
) -> Result<Option<String>, sqlx::Error> {
    let op_devices: Vec<Uuid> = ops.iter().map(|o| o.0).collect();
    let op_ids: Vec<Uuid> = ops.iter().map(|o| o.1).collect();
    let op_docs: Vec<&Value> = ops.iter().map(|o| &o.2).collect();

    let col = |f: fn(&SaleRow) -> i64| sales.iter().map(f).collect::<Vec<i64>>();
    let sale_ops: Vec<Uuid> = sales.iter().map(|s| s.op_id).collect();
    let sale_ids: Vec<Uuid> = sales.iter().map(|s| s.id).collect();
    let sale_events: Vec<Option<Uuid>> = sales.iter().map(|s| s.event_id).collect();
    let discount_types: Vec<&str> = sales.iter().map(|s| s.discount_type).collect();
    let payments: Vec<&str> = sales.iter().map(|s| s.payment_method.as_str()).collect();
    let rates: Vec<i32> = sales.iter().map(|s| s.tax_rate_bp).collect();
    let inclusive: Vec<bool> = sales.iter().map(|s| s.prices_include_tax).collect();
    let taken: Vec<OffsetDateTime> = sales.iter().map(|s| s.taken_at).collect();
    let sale_devices: Vec<Uuid> = sales.iter().map(|s| s.device_id).collect();
    let voided: Vec<bool> = sales.iter().map(|s| s.voided).collect();
    let (mut line_sales, mut line_nos, mut line_products, mut line_qty, mut line_prices) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for s in sales {
        for (no, (product, quantity, price)) in s.lines.iter().enumerate() {
            line_sales.push(s.id);
            line_nos.push(i32::try_from(no).unwrap_or(i32::MAX));
            line_products.push(*product);
            line_qty.push(*quantity);
            line_prices.push(*price);
        }
    }

    // A product's first move in the batch may first need a `counted` row that brings the
    // row to the merged level (see `heal` below); its id comes before the move's.
    let heal_ids: Vec<Uuid> = moves.iter().map(|_| Uuid::now_v7()).collect();
    let move_ids: Vec<Uuid> = moves.iter().map(|_| Uuid::now_v7()).collect();
    let levels_before: Vec<i64> = moves.iter().map(|m| m.level_before).collect();
    let move_ops: Vec<Uuid> = moves.iter().map(|m| m.op_id).collect();
    let products: Vec<Uuid> = moves.iter().map(|m| m.product_id).collect();
    let quantities: Vec<i64> = moves.iter().map(|m| m.quantity).collect();
    let reasons: Vec<&str> = moves.iter().map(|m| m.reason.as_str()).collect();
    let jobs: Vec<Option<Uuid>> = moves.iter().map(|m| m.job_id).collect();
    let move_sales: Vec<Option<Uuid>> = moves.iter().map(|m| m.sale_id).collect();
    let move_events: Vec<Option<Uuid>> = moves.iter().map(|m| m.event_id).collect();

    sqlx::query_scalar(
        r#"with was as materialized (
               select current_setting('app.audit', true) as v,
                      app_setting_uuid('app.session_id') as session_id
           ),
           off as materialized (select set_config('app.audit', 'off', true) as v from was),
           o as (
               select * from unnest($4::uuid[], $5::uuid[], $6::jsonb[])
                   with ordinality as o(device_id, op_id, doc, ord)
           ),
           s as (
               select * from unnest($7::uuid[], $8::uuid[], $9::uuid[], $10::text[],
                                    $11::int8[], $12::int8[], $13::int8[], $14::int8[],
                                    $15::int8[], $16::text[], $17::int4[], $18::bool[],
                                    $19::timestamptz[], $20::uuid[], $21::bool[])
                   with ordinality as s(op_id, id, event_id, discount_type, discount_value,
                                        subtotal, discount, total, tax, payment_method,
                                        tax_rate_bp, prices_include_tax, taken_at, device_id,
                                        voided, ord)
           ),
           sold as (
               insert into sale (id, shop_id, event_id, discount_type, discount_value,
                                 subtotal, discount, total, tax, payment_method, tax_rate_bp,
                                 prices_include_tax, taken_at, taken_by, device_id, voided)
               select s.id, $1, s.event_id, s.discount_type, s.discount_value, s.subtotal,
                      s.discount, s.total, s.tax, s.payment_method, s.tax_rate_bp,
                      s.prices_include_tax, s.taken_at, $2, s.device_id, s.voided
               from s order by s.ord
               on conflict (id) do nothing
               returning *
           ),
           lined as (
               insert into sale_line (shop_id, sale_id, line_no, product_id, quantity,
                                      unit_price)
               select $1, l.sale_id, l.line_no, l.product_id, l.quantity, l.unit_price
               from unnest($22::uuid[], $23::int4[], $24::uuid[], $25::int4[], $26::int8[])
                    with ordinality as l(sale_id, line_no, product_id, quantity, unit_price, ord)
               join sold on sold.id = l.sale_id
               order by l.ord
               returning *
           ),
           m as (
               select * from unnest($27::uuid[], $28::uuid[], $29::uuid[], $30::int8[],
                                    $31::text[], $32::uuid[], $33::uuid[], $34::uuid[],
                                    $35::int8[], $36::uuid[])
                   with ordinality as m(id, op_id, product_id, quantity, reason, job_id,
                                        sale_id, event_id, level_before, heal_id, ord)
           ),
           -- Each product's row as it stands, its first and its last move.
           current as (
               select p.id, p.on_hand from product p
               where p.id in (select product_id from m)
           ),
           firsts as (
               select distinct on (product_id) * from m order by product_id, ord
           ),
           lasts as (
               select distinct on (product_id) product_id, level_before + quantity as level
               from m order by product_id, ord desc
           ),
           -- The row should stand at the merged level before the first move. Where it does
           -- not (an earlier op's projection failed), a `counted` row of the difference
           -- comes first, so that the ledger still adds up to the level.
           heal as (
               select f.heal_id as id, f.op_id, f.product_id, f.level_before - c.on_hand as quantity,
                      c.on_hand as before, f.ord
               from firsts f join current c on c.id = f.product_id
               where f.level_before <> c.on_hand
           ),
           moved as (
               update product p set on_hand = l.level, updated_at = now()
               from lasts l where p.id = l.product_id
               returning p.id
           ),
           steps as (
               select m.* from m join moved on moved.id = m.product_id
           ),
           entered as (
               insert into stock_entry (id, shop_id, product_id, quantity, reason, job_id,
                                        sale_id, event_id, user_id)
               select h.id, $1, h.product_id, h.quantity, 'counted', null, null, null, $2
               from heal h
               union all
               select s.id, $1, s.product_id, s.quantity, s.reason,
                      (select id from print_job where id = s.job_id),
                      -- A sale inserted by this statement is not in its snapshot.
                      coalesce(sold.id, (select id from sale where id = s.sale_id)),
                      (select id from market_event where id = s.event_id),
                      $2
               from steps s left join sold on sold.id = s.sale_id
               returning *
           ),
           -- The ledger rows as written, by id: the audit looks each one up by its move.
           -- (A join of the two on id was planned as a nested loop, the planner knowing
           -- nothing of how many rows the arrays hold: quadratic in the batch's moves, a
           -- third of a 500-op push's time.)
           entered_rows as (
               select jsonb_object_agg(e.id::text, to_jsonb(e) - 'updated_at') as by_id
               from entered e
           ),
           logged as (
               select 0 as part, o.ord, 0 as k, o.device_id, o.op_id, 'sync_op' as entity,
                      o.op_id as id, 'op' as action, null::jsonb as before, o.doc as after
               from o
               union all
               select 1, s.ord, 0, $3, s.op_id, 'sale', sold.id, 'insert', null,
                      to_jsonb(sold) - 'updated_at'
               from sold join s on s.id = sold.id
               union all
               select 1, s.ord, 1 + lined.line_no, $3, s.op_id, 'sale_line', lined.sale_id,
                      'insert', null, to_jsonb(lined) - 'updated_at'
               from lined join s on s.id = lined.sale_id
               union all
               select 2, h.ord, 0, $3, h.op_id, 'product', h.product_id, 'update',
                      jsonb_build_object('on_hand', h.before),
                      jsonb_build_object('on_hand', h.before + h.quantity)
               from heal h
               union all
               select 2, h.ord, 1, $3, h.op_id, 'stock_entry', h.id, 'insert', null,
                      e.by_id -> h.id::text
               from heal h, entered_rows e where e.by_id ? h.id::text
               union all
               select 2, s.ord, 2, $3, s.op_id, 'product', s.product_id, 'update',
                      jsonb_build_object('on_hand', s.level_before),
                      jsonb_build_object('on_hand', s.level_before + s.quantity)
               from steps s where s.quantity <> 0
               union all
               select 2, s.ord, 3, $3, s.op_id, 'stock_entry', s.id, 'insert', null,
                      e.by_id -> s.id::text
               from steps s, entered_rows e where e.by_id ? s.id::text
           ),
           audited as (
               insert into audit_log (shop_id, user_id, device_id, session_id, op_id, entity,
                                      entity_id, action, before, after)
               select $1, $2, r.device_id, was.session_id, r.op_id, r.entity, r.id, r.action,
                      r.before, r.after
               from logged r, was
               where r.part = 0 or was.v is distinct from 'off'
               order by r.part, r.ord, r.k
           )
           select (select v from was) from off"#,
    )
    .bind(shop)
    .bind(user)
    .bind(device)
    .bind(&op_devices)
    .bind(&op_ids)
    .bind(&op_docs)
    .bind(&sale_ops)
    .bind(&sale_ids)
    .bind(&sale_events)
    .bind(&discount_types)
    .bind(col(|s| s.discount_value))
    .bind(col(|s| s.subtotal))
    .bind(col(|s| s.discount))
    .bind(col(|s| s.total))
    .bind(col(|s| s.tax))
    .bind(&payments)
    .bind(&rates)
    .bind(&inclusive)
    .bind(&taken)
    .bind(&sale_devices)
    .bind(&voided)
    .bind(&line_sales)
    .bind(&line_nos)
    .bind(&line_products)
    .bind(&line_qty)
    .bind(&line_prices)
    .bind(&move_ids)
    .bind(&move_ops)
    .bind(&products)
    .bind(&quantities)
    .bind(&reasons)
    .bind(&jobs)
    .bind(&move_sales)
    .bind(&move_events)
    .bind(&levels_before)
    .bind(&heal_ids)
    .fetch_one(&mut *conn)
    .await
}

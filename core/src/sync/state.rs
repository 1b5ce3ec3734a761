//! The merged state and the merge rules: [`apply`] one op, [`fold`] many.
//!
//! The server applies pushed ops to the state it loads for them; the browser replays its
//! pending ops on top of the last pulled state with the same functions, so the number a
//! phone shows is the number the server will compute.
//!
//! **Order independence.** The state after applying a set of ops (each `op_id` once) is the
//! same in any delivery order and with any duplicates: duplicates are dropped by `op_id`,
//! and every cell is a function of the set of ops merged into it (see [`super::cells`]).
//! The per-op answer ([`Applied`] or [`Rejection`]) is what the state said when the op
//! arrived; for the few rules that look at other ops (an edit of a deleted row, a job step)
//! a later-arriving but earlier-stamped op can change whether it counts, and the state
//! follows the rule, not the first answer.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::cells::{
    Delta, EntityCell, EntryKey, JobCell, JobStep, LevelCell, Lifecycle, Lww, SaleCell, SaleFact,
    Stamp, VoidFact,
};
use super::op::{EntityKind, Op, OpBody, SpoolGrams};
use super::outcome::{Applied, LevelChange, RejectCode, Rejection};
use crate::domain::market_event::PlanLine;
use crate::domain::print_job::JobStatus;
use crate::domain::product::{StockLevel, StockReason};
use crate::domain::sale::NewSale;
use crate::domain::spool::{UsageReason, weigh};
use crate::domain::{Centigrams, DeviceId, MarketEventId, PrintJobId, ProductId, SaleId, SpoolId};

/// The merged state of a shop (or of the part of it a device or a push needs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Every `op_id` merged (applied or rejected).
    pub seen: BTreeSet<Uuid>,
    /// Descriptive rows by kind and id.
    pub entities: BTreeMap<EntityKind, BTreeMap<Uuid, EntityCell>>,
    /// Stock of each product.
    pub stock: BTreeMap<ProductId, LevelCell<StockReason>>,
    /// Grams on each spool (centigrams).
    pub spools: BTreeMap<SpoolId, LevelCell<UsageReason>>,
    /// Sales.
    pub sales: BTreeMap<SaleId, SaleCell>,
    /// Print job steps.
    pub jobs: BTreeMap<PrintJobId, JobCell>,
    /// Stock plans: target units per product per event.
    pub plans: BTreeMap<MarketEventId, BTreeMap<ProductId, Lww<u32>>>,
}

/// A row as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityView {
    /// Kind.
    pub kind: EntityKind,
    /// Id.
    pub id: Uuid,
    /// Deleted (a tombstone: the fields are kept for an undelete).
    pub deleted: bool,
    /// Current field values.
    pub fields: Map<String, Value>,
}

/// Grams on a spool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpoolLevel {
    /// Left (never below 0).
    pub left_cg: Centigrams,
    /// Uses beyond 0 since the last weighing (non-zero: weigh the spool).
    pub overshoot_cg: Centigrams,
}

/// A sale as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleView {
    /// What was recorded.
    pub sale: NewSale,
    /// Device.
    pub device_id: DeviceId,
    /// Voided, with why.
    pub void_reason: Option<String>,
}

/// Applies the ops in the given order and returns the state.
/// Equal, for any order and any duplication of the same set of ops.
pub fn fold<'a>(ops: impl IntoIterator<Item = &'a Op>) -> State {
    let mut state = State::default();
    for op in ops {
        // The answers are for the pusher; the fold keeps only the state.
        let _answer = apply(&mut state, op);
    }
    state
}

/// Merges one op into the state.
///
/// Permissions are not checked here (the state does not know who pushed): the server calls
/// [`super::authorize`] first. An op whose `op_id` was merged before is `Duplicate`.
pub fn apply(state: &mut State, op: &Op) -> Result<Applied, Rejection> {
    if !state.seen.insert(op.op_id) {
        return Ok(Applied::duplicate());
    }
    op.validate()?;
    let mut out = Applied::new();
    let result = merge(state, op, &mut out);
    // Cells left empty (a removed effect, an entry made only to be read) are dropped, so
    // that equal sets of ops give equal states, not just equal levels.
    for r in &out.touched {
        state.prune(*r);
    }
    result.map(|()| out)
}

fn merge(state: &mut State, op: &Op, out: &mut Applied) -> Result<(), Rejection> {
    let stamp = Stamp {
        hlc: op.hlc,
        op_id: op.op_id,
    };
    let out = &mut *out;
    match &op.body {
        OpBody::StockAdjust(b) => {
            let before = state.on_hand(b.product_id);
            let live = state.stock.entry(b.product_id).or_default().add(
                EntryKey { stamp, index: 0 },
                Delta {
                    amount: b.delta,
                    reason: b.reason,
                },
            );
            if !live {
                out.notes.push("a stock count made after this change already includes it; the level did not change".into());
            }
            state.note_stock(out, b.product_id, before);
        }
        OpBody::StockCount(b) => {
            let before = state.on_hand(b.product_id);
            if !state
                .stock
                .entry(b.product_id)
                .or_default()
                .set_count(stamp, b.counted)
            {
                out.notes
                    .push("a later stock count exists; this count does not set the level".into());
            }
            state.note_stock(out, b.product_id, before);
        }
        OpBody::SpoolUse(b) => {
            let before = state.spool_level(b.spool_id);
            let live = state.spools.entry(b.spool_id).or_default().add(
                EntryKey { stamp, index: 0 },
                Delta {
                    amount: -b.used_cg.0,
                    reason: b.reason,
                },
            );
            if !live {
                out.notes.push(
                    "a weighing made after this use already includes it; grams left did not change"
                        .into(),
                );
            }
            state.note_spool(out, b.spool_id, before);
        }
        OpBody::SpoolWeigh(b) => {
            let before = state.spool_level(b.spool_id);
            let w = weigh(b.gross_cg, b.empty_spool_cg);
            if !state
                .spools
                .entry(b.spool_id)
                .or_default()
                .set_count(stamp, w.left_cg.0)
            {
                out.notes
                    .push("a later weighing exists; this one does not set grams left".into());
            }
            if w.below_empty_cg.0 > 0 {
                out.notes.push(format!(
                    "the scale showed {} less than the empty-spool weight; recorded as empty, check the empty-spool weight",
                    w.below_empty_cg
                ));
            }
            state.note_spool(out, b.spool_id, before);
        }
        OpBody::SaleRecord(sale) => state.record_sale(out, stamp, op.device_id, sale)?,
        OpBody::SaleVoid(b) => {
            out.touch(EntityKind::Sale, b.sale_id.0);
            let cell = state.sales.entry(b.sale_id).or_default();
            let first_void = cell.void.is_none();
            if first_void || cell.void.as_ref().is_some_and(|v| stamp < v.stamp) {
                cell.void = Some(VoidFact {
                    stamp,
                    reason: b.reason.clone(),
                });
            } else {
                out.notes.push("the sale was already voided".into());
            }
            if first_void {
                match cell.record.clone() {
                    Some(fact) => state.remove_sale_effects(out, &fact),
                    None => out.notes.push(
                        "the sale has not arrived here yet; it will count as voided when it does"
                            .into(),
                    ),
                }
            }
        }
        OpBody::EntitySet(b) => {
            out.touch(b.entity, b.id);
            let cell = state
                .entities
                .entry(b.entity)
                .or_default()
                .entry(b.id)
                .or_default();
            for (k, v) in &b.fields {
                cell.write(stamp, k, v.clone());
            }
            if cell.is_deleted() || cell.deleted_before(&stamp) {
                return Err(Rejection::new(
                    RejectCode::Deleted,
                    format!(
                        "this {} was deleted on another device; undelete it to edit it",
                        b.entity.label()
                    ),
                ));
            }
        }
        OpBody::EntityDelete(t) | OpBody::EntityUndelete(t) => {
            let to = if matches!(op.body, OpBody::EntityDelete(_)) {
                Lifecycle::Deleted
            } else {
                Lifecycle::Undeleted
            };
            out.touch(t.entity, t.id);
            let cell = state
                .entities
                .entry(t.entity)
                .or_default()
                .entry(t.id)
                .or_default();
            let was_deleted = cell.is_deleted();
            cell.lifecycle.insert(stamp, to);
            if cell.is_deleted() == was_deleted {
                out.notes.push(match (to, was_deleted) {
                    (Lifecycle::Deleted, true) => "it was already deleted".into(),
                    (Lifecycle::Undeleted, false) => "it was not deleted".into(),
                    _ => "a later delete or undelete decides whether it is deleted".into(),
                });
            }
        }
        OpBody::JobTransition(b) => {
            state.job_step(out, stamp, b.job_id, JobStep::Transition { to: b.to })?;
        }
        OpBody::JobFinish(b) => state.job_step(out, stamp, b.job_id, JobStep::Finish(b.clone()))?,
        OpBody::JobFail(b) => state.job_step(out, stamp, b.job_id, JobStep::Fail(b.clone()))?,
        OpBody::EventPlan(p) => {
            out.touch(EntityKind::MarketEvent, p.event_id.0);
            let mut slot = state
                .plans
                .get(&p.event_id)
                .and_then(|m| m.get(&p.product_id))
                .copied();
            if Lww::merge(&mut slot, stamp, p.target) {
                if let Some(reg) = slot {
                    state
                        .plans
                        .entry(p.event_id)
                        .or_default()
                        .insert(p.product_id, reg);
                }
            } else {
                out.notes
                    .push("a later change of this plan line exists; it stays".into());
            }
        }
    }
    Ok(())
}

impl State {
    /// A state with nothing merged.
    pub fn new() -> Self {
        Self::default()
    }

    /// Units of a product on hand (may be negative).
    pub fn on_hand(&self, product: ProductId) -> i64 {
        self.stock.get(&product).map_or(0, |c| c.sum(0))
    }

    /// On hand with the negative and low flags (the threshold comes from the product's fields).
    pub fn stock_level(&self, product: ProductId) -> StockLevel {
        let threshold = self
            .entity_cell(EntityKind::Product, product.0)
            .and_then(|c| c.value("low_stock_threshold"))
            .and_then(Value::as_u64)
            .and_then(|t| u32::try_from(t).ok());
        StockLevel::new(self.on_hand(product), threshold)
    }

    /// Grams left on a spool: the latest weighing, or the spool's `initial_net_cg`, minus
    /// the uses after it in merge order, clamped at 0.
    pub fn spool_level(&self, spool: SpoolId) -> SpoolLevel {
        let base = self
            .entity_cell(EntityKind::Spool, spool.0)
            .and_then(|c| c.value("initial_net_cg"))
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let (left, over) = self
            .spools
            .get(&spool)
            .map_or((base.max(0), 0), |c| c.clamped(base));
        SpoolLevel {
            left_cg: Centigrams(left),
            overshoot_cg: Centigrams(over),
        }
    }

    /// A row's cell.
    pub fn entity_cell(&self, kind: EntityKind, id: Uuid) -> Option<&EntityCell> {
        self.entities.get(&kind).and_then(|m| m.get(&id))
    }

    /// A row as the UI shows it (`None` when nothing is known of it).
    pub fn entity(&self, kind: EntityKind, id: Uuid) -> Option<EntityView> {
        self.entity_cell(kind, id).map(|c| EntityView {
            kind,
            id,
            deleted: c.is_deleted(),
            fields: c.values(),
        })
    }

    /// A print job's status (`queued` when no step is known).
    pub fn job_status(&self, job: PrintJobId) -> JobStatus {
        self.jobs
            .get(&job)
            .map_or(JobStatus::Queued, |j| j.replay().status)
    }

    /// A sale, once recorded.
    pub fn sale(&self, sale: SaleId) -> Option<SaleView> {
        let cell = self.sales.get(&sale)?;
        let rec = cell.record.as_ref()?;
        Some(SaleView {
            sale: rec.sale.clone(),
            device_id: rec.device_id,
            void_reason: cell.void.as_ref().map(|v| v.reason.clone()),
        })
    }

    /// An event's stock plan (lines with a target above 0), by product id.
    pub fn plan(&self, event: MarketEventId) -> Vec<PlanLine> {
        self.plans.get(&event).map_or_else(Vec::new, |m| {
            m.iter()
                .filter(|(_, r)| r.value > 0)
                .map(|(p, r)| PlanLine {
                    product_id: *p,
                    target: r.value,
                })
                .collect()
        })
    }

    fn prune(&mut self, r: super::outcome::EntityRef) {
        match r.kind {
            EntityKind::Product => {
                let p = ProductId(r.id);
                if self
                    .stock
                    .get(&p)
                    .is_some_and(|c| c.count.is_none() && c.deltas.is_empty())
                {
                    self.stock.remove(&p);
                }
            }
            EntityKind::Spool => {
                let sp = SpoolId(r.id);
                if self
                    .spools
                    .get(&sp)
                    .is_some_and(|c| c.count.is_none() && c.deltas.is_empty())
                {
                    self.spools.remove(&sp);
                }
            }
            EntityKind::Sale => {
                let id = SaleId(r.id);
                if self
                    .sales
                    .get(&id)
                    .is_some_and(|c| c.record.is_none() && c.void.is_none())
                {
                    self.sales.remove(&id);
                }
            }
            EntityKind::PrintJob => {
                let id = PrintJobId(r.id);
                if self.jobs.get(&id).is_some_and(|c| c.steps.is_empty()) {
                    self.jobs.remove(&id);
                }
            }
            EntityKind::MarketEvent => {
                let id = MarketEventId(r.id);
                if self.plans.get(&id).is_some_and(BTreeMap::is_empty) {
                    self.plans.remove(&id);
                }
            }
            _ => {}
        }
        if let Some(m) = self.entities.get_mut(&r.kind) {
            if m.get(&r.id)
                .is_some_and(|c| c.fields.is_empty() && c.lifecycle.is_empty())
            {
                m.remove(&r.id);
            }
            if m.is_empty() {
                self.entities.remove(&r.kind);
            }
        }
    }

    fn note_stock(&self, out: &mut Applied, product: ProductId, before: i64) {
        let after = self.on_hand(product);
        out.touch(EntityKind::Product, product.0);
        out.levels.push(LevelChange {
            entity: super::outcome::EntityRef {
                kind: EntityKind::Product,
                id: product.0,
            },
            before,
            after,
        });
        if after < 0 && after != before {
            out.notes.push(format!(
                "stock is now {after}: more was sold than recorded; count it when you can"
            ));
        }
    }

    fn note_spool(&self, out: &mut Applied, spool: SpoolId, before: SpoolLevel) {
        let after = self.spool_level(spool);
        out.touch(EntityKind::Spool, spool.0);
        out.levels.push(LevelChange {
            entity: super::outcome::EntityRef {
                kind: EntityKind::Spool,
                id: spool.0,
            },
            before: before.left_cg.0,
            after: after.left_cg.0,
        });
        if after.overshoot_cg > before.overshoot_cg {
            out.notes.push(format!(
                "the spool had less filament than recorded: {} more was used than was left; it now shows 0 g, weigh it",
                Centigrams(after.overshoot_cg.0 - before.overshoot_cg.0)
            ));
        }
    }

    fn record_sale(
        &mut self,
        out: &mut Applied,
        stamp: Stamp,
        device_id: DeviceId,
        sale: &NewSale,
    ) -> Result<(), Rejection> {
        out.touch(EntityKind::Sale, sale.sale_id.0);
        let cell = self.sales.entry(sale.sale_id).or_default();
        let old = cell.record.clone();
        if let Some(cur) = &old {
            if cur.sale == sale.clone() && cur.device_id == device_id {
                // The same sale sent again under a new op id: one sale, counted once.
                if cur.stamp < stamp {
                    out.notes.push("this sale was already recorded".into());
                    return Ok(());
                }
            } else if cur.stamp < stamp {
                return Err(Rejection::new(
                    RejectCode::Conflict,
                    "another sale with this id and different contents was recorded first; record it again as a new sale",
                ));
            }
        }
        // This op is the earliest record of the sale: it replaces a later one.
        let fact = SaleFact {
            stamp,
            device_id,
            sale: sale.clone(),
        };
        cell.record = Some(fact.clone());
        let voided = cell.void.is_some();
        if let Some(old) = old {
            self.remove_sale_effects(out, &old);
        }
        if voided {
            out.notes.push(
                "this sale was already voided on another device; stock is not changed".into(),
            );
        } else {
            for (i, line) in sale.lines.iter().enumerate() {
                let before = self.on_hand(line.product_id);
                let key = EntryKey {
                    stamp,
                    index: u32::try_from(i).unwrap_or(u32::MAX),
                };
                let delta = Delta {
                    amount: -i64::from(line.quantity),
                    reason: StockReason::Sold,
                };
                if !self
                    .stock
                    .entry(line.product_id)
                    .or_default()
                    .add(key, delta)
                {
                    out.notes
                        .push("a stock count made after this sale already includes it".into());
                }
                self.note_stock(out, line.product_id, before);
            }
        }
        Ok(())
    }

    fn remove_sale_effects(&mut self, out: &mut Applied, fact: &SaleFact) {
        let products: BTreeSet<ProductId> = fact.sale.lines.iter().map(|l| l.product_id).collect();
        for p in products {
            let before = self.on_hand(p);
            if let Some(c) = self.stock.get_mut(&p) {
                c.remove_op(fact.stamp.op_id);
            }
            self.note_stock(out, p, before);
        }
    }

    fn job_step(
        &mut self,
        out: &mut Applied,
        stamp: Stamp,
        job: PrintJobId,
        step: JobStep,
    ) -> Result<(), Rejection> {
        out.touch(EntityKind::PrintJob, job.0);
        let cell = self.jobs.entry(job).or_default();
        let before = cell.replay();
        cell.steps.insert(stamp, step);
        let after = cell.replay();
        let refused = after.refused.get(&stamp).cloned();
        if before.terminal != after.terminal {
            let old = before
                .terminal
                .and_then(|s| cell.steps.get(&s).cloned().map(|st| (s, st)));
            let new = after
                .terminal
                .and_then(|s| cell.steps.get(&s).cloned().map(|st| (s, st)));
            if let Some((s, st)) = old {
                self.job_effects(out, s, &st, false);
            }
            if let Some((s, st)) = new {
                self.job_effects(out, s, &st, true);
            }
        }
        match refused {
            Some(message) => Err(Rejection::new(RejectCode::InvalidTransition, message)),
            None => Ok(()),
        }
    }

    /// Adds (or removes) the stock and filament effects of a finish or fail step.
    fn job_effects(&mut self, out: &mut Applied, stamp: Stamp, step: &JobStep, add: bool) {
        let (produced, spools, reason): (&[super::op::Produced], &[SpoolGrams], UsageReason) =
            match step {
                JobStep::Finish(f) => (&f.produced, &f.spools, UsageReason::Print),
                JobStep::Fail(f) => (&[], &f.spools, UsageReason::FailedPrint),
                JobStep::Transition { .. } => return,
            };
        for (i, p) in produced.iter().enumerate() {
            let before = self.on_hand(p.product_id);
            let cell = self.stock.entry(p.product_id).or_default();
            if add {
                let key = EntryKey {
                    stamp,
                    index: u32::try_from(i).unwrap_or(u32::MAX),
                };
                cell.add(
                    key,
                    Delta {
                        amount: i64::from(p.quantity),
                        reason: StockReason::Produced,
                    },
                );
            } else {
                cell.remove_op(stamp.op_id);
            }
            self.note_stock(out, p.product_id, before);
        }
        // Lines a printer already reported are the job's record only: the printer's own
        // `spool.use.v1` took those grams, so they are not taken twice.
        for (i, s) in spools.iter().enumerate().filter(|(_, s)| !s.reported) {
            let before = self.spool_level(s.spool_id);
            let cell = self.spools.entry(s.spool_id).or_default();
            if add {
                let key = EntryKey {
                    stamp,
                    index: u32::try_from(i).unwrap_or(u32::MAX),
                };
                cell.add(
                    key,
                    Delta {
                        amount: -s.used_cg.0,
                        reason,
                    },
                );
            } else {
                cell.remove_op(stamp.op_id);
            }
            self.note_spool(out, s.spool_id, before);
        }
    }
}

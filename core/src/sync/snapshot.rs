//! The state cut into cells, one per row ([`EntityRef`]): what the server stores per row,
//! what a pull sends, and what a device puts back together into a [`State`].
//!
//! A [`CellDoc`] holds every merge structure that belongs to one row: a product's
//! descriptive fields and its stock level, a spool's fields and its grams, a sale's record
//! and void, a job's fields and steps, an event's fields and stock plan. The server loads
//! only the cells an op needs ([`cells_needed`]), applies the op with [`super::apply`], and
//! writes back the cells it changed; a device loads every pulled cell. Both run the same
//! rules on the same structures.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::cells::{EntityCell, JobCell, JobStep, LevelCell, Lww, SaleCell};
use super::op::{EntityKind, Op, OpBody};
use super::outcome::EntityRef;
use super::state::State;
use crate::domain::product::StockReason;
use crate::domain::spool::UsageReason;
use crate::domain::{MarketEventId, PrintJobId, ProductId, SaleId, SpoolId};

/// Every merge structure of one row. Absent parts are left out of the JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellDoc {
    /// Descriptive fields and the delete/undelete log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<EntityCell>,
    /// A product's stock level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stock: Option<LevelCell<StockReason>>,
    /// A spool's grams.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spool: Option<LevelCell<UsageReason>>,
    /// A sale's record and void.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sale: Option<SaleCell>,
    /// A print job's steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<JobCell>,
    /// A market event's stock plan, by product.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_pairs")]
    pub plan: Option<BTreeMap<ProductId, Lww<u32>>>,
}

mod opt_pairs {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<K: Serialize, V: Serialize, S: Serializer>(
        m: &Option<BTreeMap<K, V>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match m {
            Some(m) => s.collect_seq(m.iter()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, K, V, D>(d: D) -> Result<Option<BTreeMap<K, V>>, D::Error>
    where
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        let v: Option<Vec<(K, V)>> = Option::deserialize(d)?;
        Ok(v.map(|v| v.into_iter().collect()))
    }
}

impl CellDoc {
    /// Nothing merged into this row.
    pub fn is_empty(&self) -> bool {
        self == &CellDoc::default()
    }
}

impl State {
    /// The cell of one row (`None` when nothing is known of it).
    pub fn cell(&self, r: EntityRef) -> Option<CellDoc> {
        let doc = CellDoc {
            entity: self.entity_cell(r.kind, r.id).cloned(),
            stock: (r.kind == EntityKind::Product)
                .then(|| self.stock.get(&ProductId(r.id)).cloned())
                .flatten(),
            spool: (r.kind == EntityKind::Spool)
                .then(|| self.spools.get(&SpoolId(r.id)).cloned())
                .flatten(),
            sale: (r.kind == EntityKind::Sale)
                .then(|| self.sales.get(&SaleId(r.id)).cloned())
                .flatten(),
            job: (r.kind == EntityKind::PrintJob)
                .then(|| self.jobs.get(&PrintJobId(r.id)).cloned())
                .flatten(),
            plan: (r.kind == EntityKind::MarketEvent)
                .then(|| self.plans.get(&MarketEventId(r.id)).cloned())
                .flatten(),
        };
        (!doc.is_empty()).then_some(doc)
    }

    /// Puts one row's cell into the state, replacing what the state held for that row.
    pub fn put_cell(&mut self, r: EntityRef, doc: CellDoc) {
        let CellDoc {
            entity,
            stock,
            spool,
            sale,
            job,
            plan,
        } = doc;
        match entity {
            Some(e) => {
                self.entities.entry(r.kind).or_default().insert(r.id, e);
            }
            None => {
                if let Some(m) = self.entities.get_mut(&r.kind) {
                    m.remove(&r.id);
                    if m.is_empty() {
                        self.entities.remove(&r.kind);
                    }
                }
            }
        }
        fn put<K: Ord, V>(m: &mut BTreeMap<K, V>, k: K, v: Option<V>) {
            match v {
                Some(v) => {
                    m.insert(k, v);
                }
                None => {
                    m.remove(&k);
                }
            }
        }
        match r.kind {
            EntityKind::Product => put(&mut self.stock, ProductId(r.id), stock),
            EntityKind::Spool => put(&mut self.spools, SpoolId(r.id), spool),
            EntityKind::Sale => put(&mut self.sales, SaleId(r.id), sale),
            EntityKind::PrintJob => put(&mut self.jobs, PrintJobId(r.id), job),
            EntityKind::MarketEvent => put(&mut self.plans, MarketEventId(r.id), plan),
            _ => {}
        }
    }

    /// Every row the state knows something of.
    pub fn rows(&self) -> BTreeSet<EntityRef> {
        let mut out = BTreeSet::new();
        for (kind, m) in &self.entities {
            for id in m.keys() {
                out.insert(EntityRef {
                    kind: *kind,
                    id: *id,
                });
            }
        }
        let mut add = |kind: EntityKind, id: uuid::Uuid| {
            out.insert(EntityRef { kind, id });
        };
        self.stock
            .keys()
            .for_each(|k| add(EntityKind::Product, k.0));
        self.spools.keys().for_each(|k| add(EntityKind::Spool, k.0));
        self.sales.keys().for_each(|k| add(EntityKind::Sale, k.0));
        self.jobs
            .keys()
            .for_each(|k| add(EntityKind::PrintJob, k.0));
        self.plans
            .keys()
            .for_each(|k| add(EntityKind::MarketEvent, k.0));
        out
    }
}

/// The rows [`super::apply`] may read or change for `op`, given the rows already in `state`.
///
/// Some rows are known only from others (a void undoes the stock of the products in the
/// recorded sale; a job step may undo the effects of an earlier finish): load the rows
/// returned, then call again until no new row comes back.
pub fn cells_needed(op: &Op, state: &State) -> BTreeSet<EntityRef> {
    let mut out = BTreeSet::new();
    let mut add = |kind: EntityKind, id: uuid::Uuid| {
        out.insert(EntityRef { kind, id });
    };
    let job_rows =
        |job: PrintJobId, extra: Option<&JobStep>, add: &mut dyn FnMut(EntityKind, uuid::Uuid)| {
            add(EntityKind::PrintJob, job.0);
            let steps = state.jobs.get(&job).map(|c| c.steps.values());
            for step in steps.into_iter().flatten().chain(extra) {
                step_rows(step, add);
            }
        };
    match &op.body {
        OpBody::StockAdjust(b) => add(EntityKind::Product, b.product_id.0),
        OpBody::StockCount(b) => add(EntityKind::Product, b.product_id.0),
        OpBody::SpoolUse(b) => add(EntityKind::Spool, b.spool_id.0),
        OpBody::SpoolWeigh(b) => add(EntityKind::Spool, b.spool_id.0),
        OpBody::SaleRecord(s) => {
            add(EntityKind::Sale, s.sale_id.0);
            for l in &s.lines {
                add(EntityKind::Product, l.product_id.0);
            }
            // A record that replaces an earlier-arrived record undoes that one's lines.
            if let Some(rec) = state.sales.get(&s.sale_id).and_then(|c| c.record.as_ref()) {
                for l in &rec.sale.lines {
                    add(EntityKind::Product, l.product_id.0);
                }
            }
        }
        OpBody::SaleVoid(v) => {
            add(EntityKind::Sale, v.sale_id.0);
            if let Some(rec) = state.sales.get(&v.sale_id).and_then(|c| c.record.as_ref()) {
                for l in &rec.sale.lines {
                    add(EntityKind::Product, l.product_id.0);
                }
            }
        }
        OpBody::EntitySet(b) => add(b.entity, b.id),
        OpBody::EntityDelete(t) | OpBody::EntityUndelete(t) => add(t.entity, t.id),
        OpBody::JobTransition(b) => job_rows(b.job_id, None, &mut add),
        OpBody::JobFinish(b) => {
            job_rows(b.job_id, Some(&JobStep::Finish(b.clone())), &mut add);
        }
        OpBody::JobFail(b) => job_rows(b.job_id, Some(&JobStep::Fail(b.clone())), &mut add),
        OpBody::EventPlan(p) => add(EntityKind::MarketEvent, p.event_id.0),
    }
    out
}

fn step_rows(step: &JobStep, add: &mut dyn FnMut(EntityKind, uuid::Uuid)) {
    match step {
        JobStep::Finish(f) => {
            for p in &f.produced {
                add(EntityKind::Product, p.product_id.0);
            }
            for s in &f.spools {
                add(EntityKind::Spool, s.spool_id.0);
            }
        }
        JobStep::Fail(f) => {
            for s in &f.spools {
                add(EntityKind::Spool, s.spool_id.0);
            }
        }
        JobStep::Transition { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::sync::{Hlc, apply};
    use serde_json::json;
    use uuid::Uuid;

    fn op(n: u128, body: serde_json::Value) -> Op {
        let dev = Uuid::from_u128(7);
        crate::sync::decode_op(&json!({
            "op_id": Uuid::from_u128(1000 + n),
            "device_id": dev,
            "client_seq": n,
            "hlc": Hlc { wall_ms: 1_000 + n as u64, counter: 0, device_id: crate::domain::DeviceId(dev) },
            "body": body,
        }))
        .unwrap()
    }

    /// Applying ops to a state rebuilt only from the cells `cells_needed` names gives the
    /// same cells as applying them to the whole state; and cells survive JSON.
    #[test]
    fn partial_state_gives_the_same_cells() {
        let p = Uuid::from_u128(1);
        let s = Uuid::from_u128(2);
        let sale = Uuid::from_u128(3);
        let ev = Uuid::from_u128(4);
        let ops = vec![
            op(
                1,
                json!({"kind": "entity.set.v1", "entity": "product", "id": p, "fields": {"name": "Rex", "low_stock_threshold": 2}}),
            ),
            op(
                2,
                json!({"kind": "stock.count.v1", "product_id": p, "counted": 10}),
            ),
            op(
                3,
                json!({"kind": "sale.record.v1", "sale_id": sale, "lines": [{"product_id": p, "quantity": 3, "unit_price": 1500}], "payment_method": "cash", "tax_rate_bp": 1900, "prices_include_tax": true, "taken_at": "2026-05-01T10:00:00Z"}),
            ),
            op(
                4,
                json!({"kind": "sale.void.v1", "sale_id": sale, "reason": "wrong item"}),
            ),
            op(
                5,
                json!({"kind": "spool.use.v1", "spool_id": s, "used_cg": 500, "reason": "test"}),
            ),
            op(
                6,
                json!({"kind": "event.plan.v1", "event_id": ev, "product_id": p, "target": 4}),
            ),
            op(
                7,
                json!({"kind": "stock.adjust.v1", "product_id": p, "delta": -1, "reason": "damaged"}),
            ),
        ];
        let mut whole = State::new();
        let mut stored: BTreeMap<EntityRef, serde_json::Value> = BTreeMap::new();
        for o in &ops {
            let _ = apply(&mut whole, o);
            let mut part = State::new();
            loop {
                let need = cells_needed(o, &part);
                let missing: Vec<_> = need
                    .into_iter()
                    .filter(|r| part.cell(*r).is_none() && stored.contains_key(r))
                    .collect();
                if missing.is_empty() {
                    break;
                }
                for r in missing {
                    part.put_cell(r, serde_json::from_value(stored[&r].clone()).unwrap());
                }
            }
            let answer = apply(&mut part, o).unwrap();
            for r in answer.touched {
                assert!(cells_needed(o, &part).contains(&r), "{r:?} not named");
                match part.cell(r) {
                    Some(c) => stored.insert(r, serde_json::to_value(c).unwrap()),
                    None => stored.remove(&r),
                };
            }
        }
        assert_eq!(whole.on_hand(ProductId(p)), 9);
        let mut rebuilt = State::new();
        for (r, c) in &stored {
            rebuilt.put_cell(*r, serde_json::from_value(c.clone()).unwrap());
        }
        rebuilt.seen = whole.seen.clone();
        assert_eq!(rebuilt, whole);
        assert_eq!(whole.rows(), stored.keys().copied().collect());
    }
}

//! The merge cells the state is made of. Each is a pure, order-independent structure: its
//! content is a function of the set of ops merged into it, never of their arrival order.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::hlc::Hlc;
use super::op::{JobFail, JobFinish, SpoolGrams};
use crate::domain::DeviceId;
use crate::domain::print_job::JobStatus;
use crate::domain::sale::NewSale;

/// Maps with non-string keys as JSON arrays of `[key, value]` pairs.
pub(crate) mod pairs {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<K: Serialize, V: Serialize, S: Serializer>(
        m: &BTreeMap<K, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(m.iter())
    }

    pub fn deserialize<'de, K, V, D>(d: D) -> Result<BTreeMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        let v: Vec<(K, V)> = Vec::deserialize(d)?;
        Ok(v.into_iter().collect())
    }
}

/// The position of an op in the merge order: its clock stamp, ties broken by `op_id`
/// (two ops share a stamp only when a server clamped far-future stamps onto one value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Stamp {
    /// The op's clock stamp.
    pub hlc: Hlc,
    /// The op's id.
    pub op_id: Uuid,
}

/// One ledger entry's key: the op's stamp and the entry's index within the op (a sale with
/// two lines of the same product makes two entries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EntryKey {
    /// The op.
    pub stamp: Stamp,
    /// Index within the op.
    pub index: u32,
}

/// A count (stock-take, weighing): the level at a point of the merge order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    /// When.
    pub stamp: Stamp,
    /// The level counted (units, or centigrams left).
    pub value: i64,
}

/// A change of level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delta<R> {
    /// Units or centigrams added (negative: removed).
    pub amount: i64,
    /// Why.
    pub reason: R,
}

/// A level made of counts and deltas (Square's inventory model):
/// **level = the latest count (by stamp) + every delta stamped after it.**
///
/// Only the latest count is kept, and only deltas after it: a delta stamped before the
/// latest count is already contained in what was counted, so it can never matter again
/// (counts only ever get later). A delta that arrives late but is stamped after the count
/// is added on top; a count that arrives late but is stamped before the latest count is
/// ignored. Both follow from the set of ops alone, so the level does not depend on the
/// order of delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound(serialize = "R: Serialize", deserialize = "R: Deserialize<'de>"))]
pub struct LevelCell<R> {
    /// The latest count.
    pub count: Option<Count>,
    /// Deltas stamped after the latest count.
    #[serde(with = "pairs")]
    pub deltas: BTreeMap<EntryKey, Delta<R>>,
}

impl<R> Default for LevelCell<R> {
    fn default() -> Self {
        LevelCell {
            count: None,
            deltas: BTreeMap::new(),
        }
    }
}

impl<R: Copy> LevelCell<R> {
    fn covered_by_count(&self, stamp: &Stamp) -> bool {
        self.count.as_ref().is_some_and(|c| *stamp <= c.stamp)
    }

    /// Adds a delta; `false` when a later count already contains it (no effect).
    pub fn add(&mut self, key: EntryKey, delta: Delta<R>) -> bool {
        if self.covered_by_count(&key.stamp) {
            return false;
        }
        self.deltas.insert(key, delta);
        true
    }

    /// Removes every delta of one op (a voided sale, a job whose finish lost).
    pub fn remove_op(&mut self, op_id: Uuid) {
        self.deltas.retain(|k, _| k.stamp.op_id != op_id);
    }

    /// Merges a count; `false` when a later count exists (no effect).
    pub fn set_count(&mut self, stamp: Stamp, value: i64) -> bool {
        if self.covered_by_count(&stamp) {
            return false;
        }
        self.count = Some(Count { stamp, value });
        self.deltas.retain(|k, _| k.stamp > stamp);
        true
    }

    /// The level without a floor: the count (or `base` when never counted) plus the deltas.
    pub fn sum(&self, base: i64) -> i64 {
        let start = self.count.map_or(base, |c| c.value);
        self.deltas
            .values()
            .fold(start, |acc, d| acc.saturating_add(d.amount))
    }

    /// The level with a floor at 0, applying the deltas in merge order; returns
    /// `(level, overshoot)` where overshoot is what was asked beyond 0.
    pub fn clamped(&self, base: i64) -> (i64, i64) {
        let mut level = self.count.map_or(base, |c| c.value).max(0);
        let mut overshoot = 0i64;
        for d in self.deltas.values() {
            level = level.saturating_add(d.amount);
            if level < 0 {
                overshoot = overshoot.saturating_sub(level);
                level = 0;
            }
        }
        (level, overshoot)
    }
}

/// Deleted or not, as set by a lifecycle op.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    /// `entity.delete.v1`
    Deleted,
    /// `entity.undelete.v1`
    Undeleted,
}

/// The writes to one field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldLog {
    /// Every write, by stamp.
    #[serde(with = "pairs")]
    pub writes: BTreeMap<Stamp, Value>,
}

/// A row's descriptive fields and its lifecycle.
///
/// - Each field is last-writer-wins by stamp.
/// - Deleted or not is last-writer-wins between delete and undelete ops.
/// - A delete wins over edits: a write stamped while the row was deleted (the last
///   lifecycle op before it is a delete) never counts, even after an undelete; it is
///   answered as rejected. Writes stamped before a delete are hidden while the row is
///   deleted and come back with an undelete.
///
/// All writes are kept (not only the winner per field): a lifecycle op arriving late can
/// change which writes count, and the result must not depend on arrival order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityCell {
    /// Writes per field name.
    pub fields: BTreeMap<String, FieldLog>,
    /// Delete and undelete ops, by stamp.
    #[serde(with = "pairs")]
    pub lifecycle: BTreeMap<Stamp, Lifecycle>,
}

impl EntityCell {
    /// Whether the row was deleted just before `stamp`.
    pub fn deleted_before(&self, stamp: &Stamp) -> bool {
        self.lifecycle
            .range(..*stamp)
            .next_back()
            .is_some_and(|(_, l)| *l == Lifecycle::Deleted)
    }

    /// Whether the row is deleted now.
    pub fn is_deleted(&self) -> bool {
        self.lifecycle.values().next_back() == Some(&Lifecycle::Deleted)
    }

    /// Records a write.
    pub fn write(&mut self, stamp: Stamp, field: &str, value: Value) {
        self.fields
            .entry(field.to_owned())
            .or_default()
            .writes
            .insert(stamp, value);
    }

    /// The current value of a field: the latest write that was not made on a deleted row.
    /// `None` when never set (or only cleared by `null`: then `Some(Value::Null)`).
    pub fn value(&self, field: &str) -> Option<&Value> {
        let log = self.fields.get(field)?;
        log.writes
            .iter()
            .rev()
            .find(|(s, _)| !self.deleted_before(s))
            .map(|(_, v)| v)
    }

    /// Every field with a value.
    pub fn values(&self) -> serde_json::Map<String, Value> {
        self.fields
            .keys()
            .filter_map(|k| self.value(k).map(|v| (k.clone(), v.clone())))
            .collect()
    }
}

/// A recorded sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleFact {
    /// The op that recorded it.
    pub stamp: Stamp,
    /// Device.
    pub device_id: DeviceId,
    /// What was recorded.
    pub sale: NewSale,
}

/// A void of a sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoidFact {
    /// The op that voided it.
    pub stamp: Stamp,
    /// Why.
    pub reason: String,
}

/// A sale and its void, each the earliest op (by stamp) for that sale id. A void may
/// arrive before the sale it voids (another device's push got there first).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleCell {
    /// The sale.
    pub record: Option<SaleFact>,
    /// Its void.
    pub void: Option<VoidFact>,
}

/// One step of a print job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum JobStep {
    /// Start, pause, resume, cancel.
    Transition {
        /// Target status.
        to: JobStatus,
    },
    /// Finished.
    Finish(JobFinish),
    /// Failed.
    Fail(JobFail),
}

impl JobStep {
    /// The status this step moves to.
    pub fn target(&self) -> JobStatus {
        match self {
            JobStep::Transition { to } => *to,
            JobStep::Finish(_) => JobStatus::Done,
            JobStep::Fail(_) => JobStatus::Failed,
        }
    }
}

/// A print job's steps. The status is the replay of all steps in merge order from
/// `queued`, skipping steps the status machine does not allow at their place; the first
/// final step that takes effect (done, failed or cancelled) ends the job, and only a
/// finish or fail that takes effect moves stock and filament.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobCell {
    /// Steps by stamp.
    #[serde(with = "pairs")]
    pub steps: BTreeMap<Stamp, JobStep>,
}

/// The replay of a job's steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobReplay {
    /// Status after all steps.
    pub status: JobStatus,
    /// The final step that took effect.
    pub terminal: Option<Stamp>,
    /// Steps skipped, with why.
    pub refused: BTreeMap<Stamp, String>,
}

impl JobCell {
    /// Replays the steps.
    pub fn replay(&self) -> JobReplay {
        let mut status = JobStatus::Queued;
        let mut terminal = None;
        let mut refused = BTreeMap::new();
        for (stamp, step) in &self.steps {
            match status.transition(step.target()) {
                Ok(s) => {
                    status = s;
                    if s.is_final() {
                        terminal = Some(*stamp);
                    }
                }
                Err(e) => {
                    refused.insert(*stamp, e.message);
                }
            }
        }
        JobReplay {
            status,
            terminal,
            refused,
        }
    }

    /// The lines of the step that ended the job which record what its printer reported
    /// (taken off the spool by the printer's own ops, not by this step).
    pub fn reported_lines(&self) -> Vec<SpoolGrams> {
        let terminal = self.replay().terminal;
        let spools = match terminal.and_then(|s| self.steps.get(&s)) {
            Some(JobStep::Finish(f)) => &f.spools,
            Some(JobStep::Fail(f)) => &f.spools,
            _ => return Vec::new(),
        };
        spools.iter().filter(|s| s.reported).copied().collect()
    }
}

/// A last-writer-wins register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lww<T> {
    /// The winning write.
    pub stamp: Stamp,
    /// Its value.
    pub value: T,
}

impl<T> Lww<T> {
    /// Merges a write into an optional register; `true` if it became the value.
    pub fn merge(slot: &mut Option<Lww<T>>, stamp: Stamp, value: T) -> bool {
        match slot {
            Some(cur) if cur.stamp >= stamp => false,
            _ => {
                *slot = Some(Lww { stamp, value });
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn st(wall: u64) -> Stamp {
        Stamp {
            hlc: Hlc {
                wall_ms: wall,
                counter: 0,
                device_id: DeviceId(Uuid::from_u128(1)),
            },
            op_id: Uuid::from_u128(u128::from(wall)),
        }
    }

    fn key(wall: u64) -> EntryKey {
        EntryKey {
            stamp: st(wall),
            index: 0,
        }
    }

    #[test]
    fn count_then_later_delta() {
        let mut c: LevelCell<()> = LevelCell::default();
        c.add(
            key(1),
            Delta {
                amount: 10,
                reason: (),
            },
        );
        c.add(
            key(3),
            Delta {
                amount: -2,
                reason: (),
            },
        );
        assert!(c.set_count(st(2), 7));
        assert_eq!(c.sum(0), 5, "7 counted at t2, then −2 at t3");
        assert!(
            !c.add(
                key(1),
                Delta {
                    amount: 100,
                    reason: ()
                }
            ),
            "before the count: contained in it"
        );
        assert!(!c.set_count(st(1), 50), "an earlier count does not win");
        assert_eq!(c.sum(0), 5);
        assert_eq!(c.deltas.len(), 1);
    }

    #[test]
    fn clamped_records_overshoot_in_order() {
        let mut c: LevelCell<()> = LevelCell::default();
        c.add(
            key(1),
            Delta {
                amount: -300,
                reason: (),
            },
        );
        c.add(
            key(2),
            Delta {
                amount: 50,
                reason: (),
            },
        );
        assert_eq!(c.clamped(200), (50, 100));
    }

    #[test]
    fn delete_wins_and_undelete_restores_earlier_writes() {
        let mut e = EntityCell::default();
        e.write(st(1), "name", Value::from("a"));
        e.lifecycle.insert(st(2), Lifecycle::Deleted);
        e.write(st(3), "name", Value::from("made while deleted"));
        assert!(e.is_deleted());
        e.lifecycle.insert(st(4), Lifecycle::Undeleted);
        assert_eq!(e.value("name"), Some(&Value::from("a")));
        e.write(st(5), "name", Value::from("b"));
        assert_eq!(e.value("name"), Some(&Value::from("b")));
    }

    #[test]
    fn job_replay_first_final_step_wins() {
        let mut j = JobCell::default();
        j.steps.insert(
            st(1),
            JobStep::Transition {
                to: JobStatus::Printing,
            },
        );
        j.steps.insert(
            st(3),
            JobStep::Transition {
                to: JobStatus::Cancelled,
            },
        );
        j.steps.insert(
            st(2),
            JobStep::Transition {
                to: JobStatus::Paused,
            },
        );
        let r = j.replay();
        assert_eq!(r.status, JobStatus::Cancelled);
        assert_eq!(r.terminal, Some(st(3)));
        j.steps.insert(
            st(4),
            JobStep::Transition {
                to: JobStatus::Printing,
            },
        );
        let r = j.replay();
        assert_eq!(r.status, JobStatus::Cancelled);
        assert!(r.refused.contains_key(&st(4)));
    }

    #[test]
    fn cells_round_trip_through_json() {
        let mut c: LevelCell<crate::domain::product::StockReason> = LevelCell::default();
        c.add(
            key(1),
            Delta {
                amount: 3,
                reason: crate::domain::product::StockReason::Produced,
            },
        );
        let j = serde_json::to_string(&c).unwrap();
        assert_eq!(
            serde_json::from_str::<LevelCell<crate::domain::product::StockReason>>(&j).unwrap(),
            c
        );
    }
}

//! Filament use as ledger entries, read from the local state for core's weekly figures
//! ([`printstall_core::domain::usage`]): each spool's uses since its last weighing, and the
//! grams every finished or failed job took (kept with the job, so a later weighing of the
//! spool does not lose them). An op that is both is counted once.

use std::collections::{BTreeMap, BTreeSet};

use printstall_core::domain::usage::UseEntry;
use printstall_core::domain::{Centigrams, FilamentId, SpoolId};
use printstall_core::sync::State;
use printstall_core::sync::cells::JobStep;
use printstall_core::sync::op::EntityKind;
use serde_json::Value;
use uuid::Uuid;

/// Every spool's filament, archived spools included (their uses are history too).
fn spool_filaments(state: &State) -> BTreeMap<SpoolId, FilamentId> {
    state
        .entities
        .get(&EntityKind::Spool)
        .into_iter()
        .flatten()
        .filter_map(|(id, c)| {
            let f = c
                .value("filament_id")
                .and_then(Value::as_str)
                .and_then(|s| Uuid::parse_str(s).ok())?;
            Some((SpoolId(*id), FilamentId(f)))
        })
        .collect()
}

/// The filament used, as entries (grams taken off; negative: given back).
pub fn filament_use_entries(state: &State) -> Vec<UseEntry> {
    let filament_of = spool_filaments(state);
    let mut seen: BTreeSet<(Uuid, SpoolId)> = BTreeSet::new();
    let mut out = Vec::new();
    for (spool, cell) in &state.spools {
        let Some(&filament_id) = filament_of.get(spool) else {
            continue;
        };
        for (k, d) in &cell.deltas {
            seen.insert((k.stamp.op_id, *spool));
            out.push(UseEntry {
                at_ms: k.stamp.hlc.wall_ms,
                filament_id,
                used: Centigrams(-d.amount),
            });
        }
    }
    for cell in state.jobs.values() {
        let Some(stamp) = cell.replay().terminal else {
            continue;
        };
        let spools = match cell.steps.get(&stamp) {
            Some(JobStep::Finish(f)) => &f.spools,
            Some(JobStep::Fail(f)) => &f.spools,
            _ => continue,
        };
        for s in spools {
            if seen.contains(&(stamp.op_id, s.spool_id)) {
                continue;
            }
            if let Some(&filament_id) = filament_of.get(&s.spool_id) {
                out.push(UseEntry {
                    at_ms: stamp.hlc.wall_ms,
                    filament_id,
                    used: s.used_cg,
                });
            }
        }
    }
    out
}

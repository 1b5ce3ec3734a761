//! Planning: what the queue needs and whether the shop can make it before a market.
//!
//! Pure functions over plain rows (the app builds them from its local state, the server can
//! build them from its tables):
//! - the print hours queued ([`queue_load`]) and the filament the queue needs against the
//!   filament on hand, per material and colour, with the shortfall ([`coverage`]);
//! - filament on hand per material and colour with a low flag ([`filament_stock`]);
//! - an event's stock gap turned into print jobs ([`gap_jobs`]), the hours they need against
//!   the printer time left before the event ([`time_left_s`]), and how ready it is;
//! - targets suggested from the last similar events' sales ([`suggest_targets`]);
//! - the packing list ([`packing_list`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Date, UtcOffset};

use super::filament::Material;
use super::market_event::shortfall;
use super::print_job::JobStatus;
use super::variant::FilamentNeed;
use super::{Centigrams, FilamentId, MarketEventId, PrintJobId, ProductId, VariantId};

/// Below this much filament of one material and colour (all its spools together) it is
/// flagged as low: 250 g, about one large print.
pub const LOW_FILAMENT: Centigrams = Centigrams(25_000);

/// How many past events a suggestion looks at.
pub const SUGGEST_FROM_EVENTS: usize = 3;

/// Things every stall needs besides the stock (shown under the packing list).
pub const STALL_CHECKLIST: &[&str] = &[
    "Float: coins and small notes",
    "Card reader, charged",
    "Phone power bank",
    "Table, cloth and display stands",
    "Price tags and labels",
    "Bags and wrapping",
];

/// The short name of a material (`PLA`).
pub fn material_label(m: Material) -> &'static str {
    match m {
        Material::Pla => "PLA",
        Material::Petg => "PETG",
        Material::Abs => "ABS",
        Material::Asa => "ASA",
        Material::Tpu => "TPU",
        Material::Pa => "PA",
        Material::Pc => "PC",
        Material::Other => "Other",
    }
}

/// A print job as planning sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobLoad {
    /// The job.
    pub job_id: PrintJobId,
    /// Status.
    pub status: JobStatus,
    /// Units.
    pub units: u32,
    /// Plates.
    pub plates: u32,
    /// The variant's print time of one plate (unknown without a sliced file).
    pub plate_time_s: Option<u32>,
    /// The variant's grams per unit per filament.
    pub needs: Vec<FilamentNeed>,
}

impl JobLoad {
    /// Still to print: queued, printing or paused.
    pub fn is_open(&self) -> bool {
        !self.status.is_final()
    }

    /// Printer time of the whole job.
    pub fn seconds(&self) -> u64 {
        u64::from(self.plate_time_s.unwrap_or(0)) * u64::from(self.plates.max(1))
    }
}

/// The open part of the queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueLoad {
    /// Open jobs.
    pub jobs: usize,
    /// Their printer time.
    pub seconds: u64,
    /// Open jobs without a known print time (not in `seconds`).
    pub untimed: usize,
}

/// Printer time of the open jobs.
pub fn queue_load(jobs: &[JobLoad]) -> QueueLoad {
    jobs.iter()
        .filter(|j| j.is_open())
        .fold(QueueLoad::default(), |mut acc, j| {
            acc.jobs += 1;
            acc.seconds += j.seconds();
            if j.plate_time_s.is_none() {
                acc.untimed += 1;
            }
            acc
        })
}

/// Filament the open jobs need, per filament.
pub fn open_needs(jobs: &[JobLoad]) -> Vec<(FilamentId, Centigrams)> {
    let mut out: BTreeMap<FilamentId, i64> = BTreeMap::new();
    for j in jobs.iter().filter(|j| j.is_open()) {
        for n in &j.needs {
            let e = out.entry(n.filament_id).or_default();
            *e = e.saturating_add(n.per_unit_cg.0.saturating_mul(i64::from(j.units)));
        }
    }
    out.into_iter().map(|(f, g)| (f, Centigrams(g))).collect()
}

/// `1 h 05 min` style text of seconds.
pub fn hours_text(seconds: u64) -> String {
    let minutes = seconds.div_ceil(60);
    format!("{} h {:02} min", minutes / 60, minutes % 60)
}

/// A filament kind as planning sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilamentInfo {
    /// Id.
    pub id: FilamentId,
    /// Material.
    pub material: Material,
    /// Colour name.
    pub colour_name: String,
    /// Colour `#rrggbb`.
    pub hex: String,
}

/// Grams left on one spool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpoolStock {
    /// Its filament.
    pub filament_id: FilamentId,
    /// Grams left.
    pub left: Centigrams,
}

/// Filament of one material and colour: what the queue needs and what is on hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColourLine {
    /// Material.
    pub material: Material,
    /// Colour name, as the first filament of the group spells it.
    pub colour_name: String,
    /// Colour `#rrggbb`.
    pub hex: String,
    /// Needed by the open jobs.
    pub needed: Centigrams,
    /// On the spools.
    pub on_hand: Centigrams,
    /// Spools with filament left.
    pub spools: usize,
    /// Needed beyond what is on hand.
    pub shortfall: Centigrams,
    /// On hand is below [`LOW_FILAMENT`].
    pub low: bool,
}

fn group_key(f: &FilamentInfo) -> (&'static str, String) {
    (
        material_label(f.material),
        f.colour_name.trim().to_lowercase(),
    )
}

type Groups = BTreeMap<(&'static str, String), ColourLine>;

fn line_of<'a>(groups: &'a mut Groups, f: &FilamentInfo) -> &'a mut ColourLine {
    groups.entry(group_key(f)).or_insert_with(|| ColourLine {
        material: f.material,
        colour_name: f.colour_name.trim().to_owned(),
        hex: f.hex.clone(),
        needed: Centigrams::ZERO,
        on_hand: Centigrams::ZERO,
        spools: 0,
        shortfall: Centigrams::ZERO,
        low: false,
    })
}

fn by_colour(
    needs: &[(FilamentId, Centigrams)],
    filaments: &[FilamentInfo],
    spools: &[SpoolStock],
) -> Vec<ColourLine> {
    let mut groups = Groups::new();
    let info: BTreeMap<FilamentId, &FilamentInfo> = filaments.iter().map(|f| (f.id, f)).collect();
    for f in filaments {
        line_of(&mut groups, f);
    }
    for s in spools {
        if let Some(f) = info.get(&s.filament_id) {
            let l = line_of(&mut groups, f);
            l.on_hand = Centigrams(l.on_hand.0.saturating_add(s.left.0.max(0)));
            if s.left.0 > 0 {
                l.spools += 1;
            }
        }
    }
    for (id, g) in needs {
        let f = info.get(id).map_or_else(
            || FilamentInfo {
                id: *id,
                material: Material::Other,
                colour_name: "Unknown filament".into(),
                hex: "#888888".into(),
            },
            |f| (*f).clone(),
        );
        let l = line_of(&mut groups, &f);
        l.needed = Centigrams(l.needed.0.saturating_add(g.0));
    }
    groups
        .into_values()
        .map(|mut l| {
            l.shortfall = Centigrams((l.needed.0 - l.on_hand.0).max(0));
            l.low = l.on_hand < LOW_FILAMENT;
            l
        })
        .collect()
}

/// Whether the filament on hand covers `needs`, per material and colour: only the groups
/// something is needed of, the ones short first.
pub fn coverage(
    needs: &[(FilamentId, Centigrams)],
    filaments: &[FilamentInfo],
    spools: &[SpoolStock],
) -> Vec<ColourLine> {
    let mut out: Vec<ColourLine> = by_colour(needs, filaments, spools)
        .into_iter()
        .filter(|l| l.needed.0 > 0)
        .collect();
    out.sort_by_key(|l| std::cmp::Reverse(l.shortfall));
    out
}

/// Filament on hand per material and colour (every filament kind known), the low ones first.
pub fn filament_stock(filaments: &[FilamentInfo], spools: &[SpoolStock]) -> Vec<ColourLine> {
    let mut out = by_colour(&[], filaments, spools);
    out.sort_by_key(|l| !l.low);
    out
}

/// One product of an event's stock plan, with what planning needs to know of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanNeed {
    /// The product.
    pub product_id: ProductId,
    /// Units to bring.
    pub target: u32,
    /// Units on hand.
    pub on_hand: i64,
    /// Units already in open print jobs for it.
    pub in_queue: u32,
    /// The variant it is printed from, and how many fit on a plate.
    pub variant: Option<(VariantId, u32)>,
}

/// A print job to make for a plan's gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobProposal {
    /// The product it makes.
    pub product_id: ProductId,
    /// Its variant.
    pub variant_id: VariantId,
    /// Units: the gap, rounded up to full plates (a full plate takes no longer).
    pub units: u32,
    /// Plates.
    pub plates: u32,
}

/// The gap between target and stock (less what is already queued), as print jobs; and the
/// products with a gap that have no variant to print (bought in: order them).
pub fn gap_jobs(lines: &[PlanNeed]) -> (Vec<JobProposal>, Vec<(ProductId, u32)>) {
    let mut jobs = Vec::new();
    let mut unprintable = Vec::new();
    for l in lines {
        let missing = shortfall(l.target, l.on_hand).saturating_sub(l.in_queue);
        if missing == 0 {
            continue;
        }
        match l.variant {
            Some((variant_id, per_plate)) => {
                let per_plate = per_plate.max(1);
                let plates = missing.div_ceil(per_plate);
                jobs.push(JobProposal {
                    product_id: l.product_id,
                    variant_id,
                    units: plates.saturating_mul(per_plate),
                    plates,
                });
            }
            None => unprintable.push((l.product_id, missing)),
        }
    }
    (jobs, unprintable)
}

/// How much of a plan is on hand: units on hand counted up to each target, and the sum
/// of the targets.
pub fn readiness(lines: &[PlanNeed]) -> (u32, u32) {
    lines.iter().fold((0u32, 0u32), |(have, want), l| {
        let covered = l.target - shortfall(l.target, l.on_hand);
        (have.saturating_add(covered), want.saturating_add(l.target))
    })
}

/// Printer seconds left before an event opens: from `now_unix_s` to the start of its first
/// day (at the given offset from UTC), times the printers (at least one). 0 once it began.
pub fn time_left_s(now_unix_s: i64, starts_on: Date, utc_offset_s: i32, printers: u32) -> u64 {
    let offset = UtcOffset::from_whole_seconds(utc_offset_s).unwrap_or(UtcOffset::UTC);
    let opens = starts_on.midnight().assume_offset(offset).unix_timestamp();
    let left = u64::try_from(opens.saturating_sub(now_unix_s)).unwrap_or(0);
    left.saturating_mul(u64::from(printers.max(1)))
}

/// An earlier event and what sold there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastEvent {
    /// The event.
    pub event_id: MarketEventId,
    /// Its first day.
    pub starts_on: Date,
    /// Its theme tags.
    pub tags: Vec<String>,
    /// Units sold per product.
    pub sold: Vec<(ProductId, u32)>,
}

/// Targets suggested for an event with `tags` starting on `starts_on`: from the last
/// [`SUGGEST_FROM_EVENTS`] earlier events that share a theme tag with it (or the last
/// earlier events of any theme when none does), the average units sold per product plus
/// a fifth, rounded up. Also answers which events it used.
pub fn suggest_targets(
    tags: &[String],
    starts_on: Date,
    past: &[PastEvent],
) -> (Vec<(ProductId, u32)>, Vec<MarketEventId>) {
    let norm = |t: &String| t.trim().to_lowercase();
    let ours: Vec<String> = tags.iter().map(norm).collect();
    let mut earlier: Vec<&PastEvent> = past.iter().filter(|e| e.starts_on < starts_on).collect();
    earlier.sort_by_key(|e| std::cmp::Reverse(e.starts_on));
    let similar: Vec<&PastEvent> = earlier
        .iter()
        .copied()
        .filter(|e| e.tags.iter().any(|t| ours.contains(&norm(t))))
        .collect();
    let chosen: Vec<&PastEvent> = if similar.is_empty() { earlier } else { similar }
        .into_iter()
        .take(SUGGEST_FROM_EVENTS)
        .collect();
    let n = chosen.len() as u64;
    let mut sums: BTreeMap<ProductId, u64> = BTreeMap::new();
    for e in &chosen {
        for (p, q) in &e.sold {
            *sums.entry(*p).or_default() += u64::from(*q);
        }
    }
    let out = sums
        .into_iter()
        .filter(|(_, s)| *s > 0)
        .map(|(p, s)| {
            let t = (s * 12).div_ceil(n.max(1) * 10);
            (p, u32::try_from(t).unwrap_or(u32::MAX))
        })
        .collect();
    (out, chosen.iter().map(|e| e.event_id).collect())
}

/// One line of the packing list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackLine {
    /// The product.
    pub product_id: ProductId,
    /// Units planned.
    pub target: u32,
    /// Units to pack: the target, or what is on hand when that is less.
    pub pack: u32,
    /// Units planned but not on hand.
    pub short: u32,
}

/// What to pack for a plan `(product, target, on hand)`.
pub fn packing_list(plan: &[(ProductId, u32, i64)]) -> Vec<PackLine> {
    plan.iter()
        .filter(|(_, t, _)| *t > 0)
        .map(|&(product_id, target, on_hand)| {
            let short = shortfall(target, on_hand);
            PackLine {
                product_id,
                target,
                pack: target - short,
                short,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use time::macros::date;
    use uuid::Uuid;

    fn fid(n: u128) -> FilamentId {
        FilamentId(Uuid::from_u128(n))
    }
    fn pid(n: u128) -> ProductId {
        ProductId(Uuid::from_u128(n))
    }
    fn need(f: u128, g: i64) -> FilamentNeed {
        FilamentNeed {
            filament_id: fid(f),
            per_unit_cg: Centigrams::from_grams(g),
        }
    }
    fn job(
        status: JobStatus,
        units: u32,
        plates: u32,
        t: Option<u32>,
        needs: Vec<FilamentNeed>,
    ) -> JobLoad {
        JobLoad {
            job_id: PrintJobId(Uuid::from_u128(u128::from(units))),
            status,
            units,
            plates,
            plate_time_s: t,
            needs,
        }
    }
    fn fil(n: u128, m: Material, name: &str) -> FilamentInfo {
        FilamentInfo {
            id: fid(n),
            material: m,
            colour_name: name.into(),
            hex: "#ff0000".into(),
        }
    }

    #[test]
    fn queue_hours_and_needs_count_open_jobs_only() {
        let jobs = vec![
            job(JobStatus::Queued, 4, 2, Some(3600), vec![need(1, 10)]),
            job(
                JobStatus::Printing,
                1,
                1,
                Some(1800),
                vec![need(1, 10), need(2, 5)],
            ),
            job(JobStatus::Paused, 3, 1, None, vec![need(2, 1)]),
            job(JobStatus::Done, 9, 9, Some(3600), vec![need(1, 100)]),
        ];
        let load = queue_load(&jobs);
        assert_eq!(load.jobs, 3);
        assert_eq!(load.seconds, 2 * 3600 + 1800);
        assert_eq!(load.untimed, 1);
        assert_eq!(hours_text(load.seconds), "2 h 30 min");
        assert_eq!(hours_text(61), "0 h 02 min");
        assert_eq!(
            open_needs(&jobs),
            vec![
                (fid(1), Centigrams::from_grams(50)),
                (fid(2), Centigrams::from_grams(8))
            ]
        );
    }

    #[test]
    fn coverage_groups_by_material_and_colour_with_shortfall() {
        // Two red PLA filaments (brands differ) count together; PETG red is its own group.
        let filaments = vec![
            fil(1, Material::Pla, "Red"),
            fil(2, Material::Pla, " red"),
            fil(3, Material::Petg, "Red"),
        ];
        let spools = vec![
            SpoolStock {
                filament_id: fid(1),
                left: Centigrams::from_grams(300),
            },
            SpoolStock {
                filament_id: fid(2),
                left: Centigrams::from_grams(100),
            },
            SpoolStock {
                filament_id: fid(3),
                left: Centigrams::from_grams(50),
            },
        ];
        let needs = vec![
            (fid(1), Centigrams::from_grams(350)),
            (fid(3), Centigrams::from_grams(80)),
        ];
        let c = coverage(&needs, &filaments, &spools);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].material, Material::Petg);
        assert_eq!(c[0].shortfall, Centigrams::from_grams(30));
        assert_eq!(c[1].material, Material::Pla);
        assert_eq!(c[1].on_hand, Centigrams::from_grams(400));
        assert_eq!(c[1].spools, 2);
        assert_eq!(c[1].shortfall, Centigrams::ZERO);
        // An unknown filament is shown, not dropped.
        let c = coverage(&[(fid(9), Centigrams(100))], &filaments, &spools);
        assert_eq!(c[0].colour_name, "Unknown filament");
        assert_eq!(c[0].shortfall, Centigrams(100));

        let stock = filament_stock(&filaments, &spools);
        assert_eq!(stock.len(), 2);
        assert!(stock[0].low, "PETG red has 50 g");
        assert!(!stock[1].low);
    }

    #[test]
    fn gap_becomes_jobs_in_full_plates() {
        let v = VariantId(Uuid::from_u128(50));
        let lines = vec![
            PlanNeed {
                product_id: pid(1),
                target: 10,
                on_hand: 3,
                in_queue: 2,
                variant: Some((v, 2)),
            },
            PlanNeed {
                product_id: pid(2),
                target: 4,
                on_hand: 5,
                in_queue: 0,
                variant: Some((v, 1)),
            },
            PlanNeed {
                product_id: pid(3),
                target: 6,
                on_hand: -2,
                in_queue: 0,
                variant: None,
            },
            PlanNeed {
                product_id: pid(4),
                target: 2,
                on_hand: 0,
                in_queue: 0,
                variant: Some((v, 0)),
            },
        ];
        let (jobs, unprintable) = gap_jobs(&lines);
        assert_eq!(
            jobs,
            vec![
                JobProposal {
                    product_id: pid(1),
                    variant_id: v,
                    units: 6,
                    plates: 3
                },
                JobProposal {
                    product_id: pid(4),
                    variant_id: v,
                    units: 2,
                    plates: 2
                },
            ]
        );
        assert_eq!(unprintable, vec![(pid(3), 6)]);
        assert_eq!(readiness(&lines), (3 + 4, 22));
    }

    #[test]
    fn time_left_counts_printers_until_opening() {
        // 2026-12-05 00:00 at UTC+1 is 2026-12-04 23:00 UTC.
        let start = date!(2026 - 12 - 05);
        let opens = start.midnight().assume_utc().unix_timestamp() - 3600;
        assert_eq!(time_left_s(opens - 7200, start, 3600, 2), 4 * 3600);
        assert_eq!(time_left_s(opens - 10, start, 3600, 0), 10);
        assert_eq!(time_left_s(opens + 10, start, 3600, 2), 0);
    }

    #[test]
    fn suggestions_come_from_similar_recent_events() {
        let ev = |n: u128, d: Date, tags: &[&str], sold: Vec<(ProductId, u32)>| PastEvent {
            event_id: MarketEventId(Uuid::from_u128(n)),
            starts_on: d,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            sold,
        };
        let past = vec![
            ev(
                1,
                date!(2025 - 12 - 01),
                &["Christmas"],
                vec![(pid(1), 10), (pid(2), 1)],
            ),
            ev(2, date!(2026 - 06 - 01), &["summer"], vec![(pid(1), 50)]),
            ev(
                3,
                date!(2025 - 12 - 08),
                &["christmas", "kids"],
                vec![(pid(1), 20)],
            ),
            ev(4, date!(2027 - 01 - 01), &["christmas"], vec![(pid(1), 99)]),
        ];
        let (s, used) = suggest_targets(&["christmas".into()], date!(2026 - 12 - 01), &past);
        // (10 + 20) / 2 = 15, plus a fifth: 18; (1) / 2 * 1.2 = 0.6, rounded up: 1.
        assert_eq!(s, vec![(pid(1), 18), (pid(2), 1)]);
        assert_eq!(
            used,
            vec![
                MarketEventId(Uuid::from_u128(3)),
                MarketEventId(Uuid::from_u128(1))
            ]
        );
        // No similar event: the latest earlier ones.
        let (s, _) = suggest_targets(&["halloween".into()], date!(2026 - 12 - 01), &past);
        assert_eq!(s[0], (pid(1), 32)); // (10 + 50 + 20) / 3 * 1.2 = 32
        let (s, used) = suggest_targets(&[], date!(2020 - 01 - 01), &past);
        assert!(s.is_empty() && used.is_empty());
    }

    #[test]
    fn packing_takes_what_is_there() {
        let p = packing_list(&[
            (pid(1), 10, 4),
            (pid(2), 3, 8),
            (pid(3), 0, 5),
            (pid(4), 2, -1),
        ]);
        assert_eq!(
            p,
            vec![
                PackLine {
                    product_id: pid(1),
                    target: 10,
                    pack: 4,
                    short: 6
                },
                PackLine {
                    product_id: pid(2),
                    target: 3,
                    pack: 3,
                    short: 0
                },
                PackLine {
                    product_id: pid(4),
                    target: 2,
                    pack: 0,
                    short: 2
                },
            ]
        );
    }
}

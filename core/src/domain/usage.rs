//! Filament use over time: grams used per week, per material and colour (the groups the
//! Filament screen warns about), from the spools' ledger entries.
//!
//! A pure function over plain rows: the app builds the entries from its local state (each
//! spool's uses, and the spools a finished or failed job took grams from), the server could
//! build them from its ledger table. Weeks start on Monday in the shop's local time.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime, UtcOffset};

use super::filament::Material;
use super::planning::{FilamentInfo, material_label};
use super::{Centigrams, FilamentId};

/// One entry of a spool's ledger: grams taken off (negative: given back, a correction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UseEntry {
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// The spool's filament.
    pub filament_id: FilamentId,
    /// Grams used.
    pub used: Centigrams,
}

/// The grams of one material and colour, one figure per week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UseSeries {
    /// Material.
    pub material: Material,
    /// Colour name, as the first filament of the group spells it.
    pub colour_name: String,
    /// Colour `#rrggbb`.
    pub hex: String,
    /// Used per week, oldest first (never below 0: a week where more was given back than
    /// used shows 0).
    pub grams: Vec<Centigrams>,
    /// Over all the weeks.
    pub total: Centigrams,
}

impl UseSeries {
    /// `PLA Signal red`.
    pub fn label(&self) -> String {
        format!("{} {}", material_label(self.material), self.colour_name)
    }
}

/// Filament used per week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyUse {
    /// The Monday of each week, oldest first; the last is this week.
    pub weeks: Vec<Date>,
    /// One series per material and colour that was used in these weeks, the most used
    /// first.
    pub series: Vec<UseSeries>,
    /// All materials and colours together, per week.
    pub totals: Vec<Centigrams>,
}

/// The Monday of the week `day` is in.
pub fn week_start(day: Date) -> Date {
    day - Duration::days(i64::from(day.weekday().number_days_from_monday()))
}

/// The day an instant falls on at `utc_offset_s` from UTC.
pub fn local_date(at_ms: u64, utc_offset_s: i32) -> Option<Date> {
    let offset = UtcOffset::from_whole_seconds(utc_offset_s).unwrap_or(UtcOffset::UTC);
    let secs = i64::try_from(at_ms / 1000).ok()?;
    Some(
        OffsetDateTime::from_unix_timestamp(secs)
            .ok()?
            .to_offset(offset)
            .date(),
    )
}

/// Grams used per week over the `weeks` weeks up to and including the week of `today`,
/// per material and colour (filaments of one material whose colour names match, ignoring
/// case, are one group). Entries outside those weeks are left out; entries of a filament
/// not in `filaments` count as "Unknown filament".
pub fn weekly_filament_use(
    entries: &[UseEntry],
    filaments: &[FilamentInfo],
    today: Date,
    weeks: usize,
    utc_offset_s: i32,
) -> WeeklyUse {
    let last = week_start(today);
    let n = weeks.max(1);
    let first = last - Duration::weeks(i64::try_from(n - 1).unwrap_or(0));
    let week_list: Vec<Date> = (0..n)
        .map(|i| first + Duration::weeks(i64::try_from(i).unwrap_or(0)))
        .collect();
    let info: BTreeMap<FilamentId, &FilamentInfo> = filaments.iter().map(|f| (f.id, f)).collect();

    // Net centigrams per group per week (may dip below 0 before clamping).
    let mut groups: BTreeMap<(&'static str, String), (UseSeries, Vec<i64>)> = BTreeMap::new();
    for e in entries {
        let Some(day) = local_date(e.at_ms, utc_offset_s) else {
            continue;
        };
        let week = week_start(day);
        if week < first || week > last {
            continue;
        }
        let index = usize::try_from((week - first).whole_weeks()).unwrap_or(usize::MAX);
        if index >= n {
            continue;
        }
        let (material, colour_name, hex) = match info.get(&e.filament_id) {
            Some(f) => (f.material, f.colour_name.trim().to_owned(), f.hex.clone()),
            None => (
                Material::Other,
                "Unknown filament".to_owned(),
                "#888888".to_owned(),
            ),
        };
        let key = (material_label(material), colour_name.to_lowercase());
        let (_, net) = groups.entry(key).or_insert_with(|| {
            (
                UseSeries {
                    material,
                    colour_name,
                    hex,
                    grams: Vec::new(),
                    total: Centigrams::ZERO,
                },
                vec![0; n],
            )
        });
        if let Some(slot) = net.get_mut(index) {
            *slot = slot.saturating_add(e.used.0);
        }
    }

    let mut series: Vec<UseSeries> = groups
        .into_values()
        .map(|(mut s, net)| {
            s.grams = net.into_iter().map(|g| Centigrams(g.max(0))).collect();
            s.total = Centigrams(s.grams.iter().map(|g| g.0).sum());
            s
        })
        .filter(|s| s.total.0 > 0)
        .collect();
    series.sort_by(|a, b| {
        b.total
            .cmp(&a.total)
            .then_with(|| a.label().cmp(&b.label()))
    });
    let totals = (0..n)
        .map(|i| {
            Centigrams(
                series
                    .iter()
                    .filter_map(|s| s.grams.get(i))
                    .map(|g| g.0)
                    .sum(),
            )
        })
        .collect();
    WeeklyUse {
        weeks: week_list,
        series,
        totals,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use time::macros::date;
    use uuid::Uuid;

    use super::*;

    fn fil(n: u128, material: Material, colour: &str, hex: &str) -> FilamentInfo {
        FilamentInfo {
            id: FilamentId(Uuid::from_u128(n)),
            material,
            colour_name: colour.into(),
            hex: hex.into(),
        }
    }

    /// Noon UTC on a day.
    fn at(d: Date) -> u64 {
        let t = d.with_hms(12, 0, 0).unwrap().assume_utc();
        u64::try_from(t.unix_timestamp()).unwrap() * 1000
    }

    fn used(d: Date, f: u128, grams: i64) -> UseEntry {
        UseEntry {
            at_ms: at(d),
            filament_id: FilamentId(Uuid::from_u128(f)),
            used: Centigrams(grams * 100),
        }
    }

    #[test]
    fn weeks_start_on_monday() {
        assert_eq!(week_start(date!(2025 - 06 - 15)), date!(2025 - 06 - 09)); // a Sunday
        assert_eq!(week_start(date!(2025 - 06 - 09)), date!(2025 - 06 - 09)); // a Monday
        assert_eq!(week_start(date!(2025 - 01 - 01)), date!(2024 - 12 - 30));
    }

    #[test]
    fn grams_per_week_per_material_and_colour() {
        let filaments = [
            fil(1, Material::Pla, "Signal red", "#c0392b"),
            // Another brand of the same material and colour: one group.
            fil(2, Material::Pla, "signal red ", "#c0392c"),
            fil(3, Material::Petg, "Black", "#000000"),
        ];
        let today = date!(2025 - 06 - 18); // Wednesday of the week of 16 June
        let entries = [
            used(date!(2025 - 06 - 16), 1, 40),
            used(date!(2025 - 06 - 17), 2, 10),
            used(date!(2025 - 06 - 10), 1, 25),
            used(date!(2025 - 06 - 11), 3, 100),
            used(date!(2025 - 06 - 02), 3, 7),
            // Before the first week shown, and after today's week: left out.
            used(date!(2025 - 05 - 25), 1, 999),
            used(date!(2025 - 06 - 23), 1, 999),
            // An unknown filament.
            used(date!(2025 - 06 - 16), 9, 5),
        ];
        let w = weekly_filament_use(&entries, &filaments, today, 3, 0);
        assert_eq!(
            w.weeks,
            vec![
                date!(2025 - 06 - 02),
                date!(2025 - 06 - 09),
                date!(2025 - 06 - 16)
            ]
        );
        let by_label: Vec<(String, Vec<i64>, i64)> = w
            .series
            .iter()
            .map(|s| {
                (
                    s.label(),
                    s.grams.iter().map(|g| g.0 / 100).collect(),
                    s.total.0 / 100,
                )
            })
            .collect();
        assert_eq!(
            by_label,
            vec![
                ("PETG Black".to_string(), vec![7, 100, 0], 107),
                ("PLA Signal red".to_string(), vec![0, 25, 50], 75),
                ("Other Unknown filament".to_string(), vec![0, 0, 5], 5),
            ]
        );
        assert_eq!(
            w.series[1].hex, "#c0392b",
            "the first filament's colour names the group"
        );
        assert_eq!(
            w.totals.iter().map(|g| g.0 / 100).collect::<Vec<_>>(),
            vec![7, 125, 55]
        );
    }

    #[test]
    fn corrections_net_off_and_weeks_never_go_below_zero() {
        let filaments = [fil(1, Material::Pla, "White", "#ffffff")];
        let today = date!(2025 - 06 - 18);
        let entries = [
            used(date!(2025 - 06 - 16), 1, 30),
            used(date!(2025 - 06 - 17), 1, -10),
            used(date!(2025 - 06 - 10), 1, -20),
        ];
        let w = weekly_filament_use(&entries, &filaments, today, 2, 0);
        assert_eq!(w.series.len(), 1);
        assert_eq!(w.series[0].grams, vec![Centigrams(0), Centigrams(2000)]);
        assert_eq!(w.series[0].total, Centigrams(2000));
        // Nothing used at all: no series, the weeks are still there.
        let w = weekly_filament_use(&[], &filaments, today, 4, 0);
        assert!(w.series.is_empty());
        assert_eq!(w.weeks.len(), 4);
        assert_eq!(w.totals, vec![Centigrams::ZERO; 4]);
    }

    #[test]
    fn the_local_day_decides_the_week() {
        let filaments = [fil(1, Material::Pla, "White", "#ffffff")];
        // Sunday 15 June 23:30 UTC is Monday 16 June 01:30 at UTC+2.
        let t = date!(2025 - 06 - 15)
            .with_hms(23, 30, 0)
            .unwrap()
            .assume_utc();
        let e = UseEntry {
            at_ms: u64::try_from(t.unix_timestamp()).unwrap() * 1000,
            filament_id: FilamentId(Uuid::from_u128(1)),
            used: Centigrams(500),
        };
        let utc = weekly_filament_use(&[e], &filaments, date!(2025 - 06 - 18), 2, 0);
        assert_eq!(utc.series[0].grams, vec![Centigrams(500), Centigrams(0)]);
        let cest = weekly_filament_use(&[e], &filaments, date!(2025 - 06 - 18), 2, 7200);
        assert_eq!(cest.series[0].grams, vec![Centigrams(0), Centigrams(500)]);
    }
}

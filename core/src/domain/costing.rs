//! What a unit costs to make, and the margin at its price.
//!
//! - **Filament**: the sliced file's grams per unit of each filament times that filament's
//!   price per gram. The price per gram is the spools' (what was paid for them over their
//!   net weight, all spools of the filament with a price together) or, when no spool has a
//!   price, the filament's list price per spool over its net weight ([`FilamentRate`]).
//! - **Machine time** (optional): the shop's cost per printer hour times the print time of
//!   one unit (the file's time per plate over the parts on a plate).
//! - **Margin**: the price without the tax it contains (when prices include tax) minus
//!   the unit cost, also as basis points of that net price.
//!
//! Every amount is integer minor units; each sum is rounded once, half away from zero.

use serde::{Deserialize, Serialize};

use super::variant::FilamentNeed;
use super::{Centigrams, FilamentId};
use crate::money::{Minor, clamp_i128, div_round_half_away};

/// A price for a weight of filament: `price` buys `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilamentRate {
    /// Money.
    pub price: Minor,
    /// For this many centigrams (above 0).
    pub per: Centigrams,
}

impl FilamentRate {
    /// The rate of a spool or a filament's list price: `None` without a price or weight.
    pub fn new(price: Option<Minor>, per: Centigrams) -> Option<FilamentRate> {
        let price = price?;
        (per.0 > 0 && price.0 >= 0).then_some(FilamentRate { price, per })
    }

    /// The rate of a filament from the prices paid for its spools (`(price_paid,
    /// initial_net_cg)` each), or from its list price when no spool has one.
    pub fn for_filament(
        spools: &[(Option<Minor>, Centigrams)],
        list_price: Option<Minor>,
        net_weight: Centigrams,
    ) -> Option<FilamentRate> {
        let (mut price, mut per) = (0i128, 0i128);
        for (p, w) in spools {
            if let Some(p) = p
                && w.0 > 0
                && p.0 >= 0
            {
                price += i128::from(p.0);
                per += i128::from(w.0);
            }
        }
        if per > 0 {
            return Some(FilamentRate {
                price: Minor(clamp_i128(price)),
                per: Centigrams(clamp_i128(per)),
            });
        }
        FilamentRate::new(list_price, net_weight)
    }

    /// What `weight` of this filament costs, rounded half away from zero.
    pub fn cost_of(&self, weight: Centigrams) -> Minor {
        cost_of(*self, i128::from(weight.0), 1)
    }
}

fn cost_of(rate: FilamentRate, weight_cg: i128, divisor: i128) -> Minor {
    let n = weight_cg * i128::from(rate.price.0);
    Minor(clamp_i128(div_round_half_away(
        n,
        i128::from(rate.per.0) * divisor,
    )))
}

/// How one unit's cost is made up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitCost {
    /// Filament.
    pub filament: Minor,
    /// Printer time (0 without a machine rate or a print time).
    pub machine: Minor,
    /// Filament plus machine time.
    pub total: Minor,
    /// Grams of filament in one unit.
    pub grams: Centigrams,
    /// Filaments of the unit that have no price: the cost leaves them out.
    pub unpriced: Vec<FilamentId>,
}

impl UnitCost {
    /// Whether every filament had a price.
    pub fn complete(&self) -> bool {
        self.unpriced.is_empty()
    }
}

/// The cost of one unit of a variant.
///
/// `needs` are grams per unit per filament; `rate` gives a filament's price per weight;
/// `print_time_s` is the sliced file's time for one plate of `parts_per_plate` units;
/// `machine_per_hour` is the shop's cost of an hour of printer time.
pub fn unit_cost(
    needs: &[FilamentNeed],
    rate: impl Fn(FilamentId) -> Option<FilamentRate>,
    print_time_s: Option<u32>,
    parts_per_plate: u32,
    machine_per_hour: Option<Minor>,
) -> UnitCost {
    let mut filament = 0i64;
    let mut grams = 0i64;
    let mut unpriced = Vec::new();
    for n in needs {
        grams = grams.saturating_add(n.per_unit_cg.0);
        match rate(n.filament_id) {
            Some(r) => filament = filament.saturating_add(r.cost_of(n.per_unit_cg).0),
            None => unpriced.push(n.filament_id),
        }
    }
    let machine = match (print_time_s, machine_per_hour) {
        (Some(t), Some(per_hour)) => Minor(clamp_i128(div_round_half_away(
            i128::from(t) * i128::from(per_hour.0),
            3600 * i128::from(parts_per_plate.max(1)),
        ))),
        _ => Minor::ZERO,
    };
    UnitCost {
        filament: Minor(filament),
        machine,
        total: Minor(filament.saturating_add(machine.0)),
        grams: Centigrams(grams),
        unpriced,
    }
}

/// A price's margin over a cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Margin {
    /// The price without tax.
    pub net_price: Minor,
    /// Net price minus cost.
    pub profit: Minor,
    /// Profit as basis points of the net price (`None` at a price of 0).
    pub margin_bp: Option<i64>,
}

/// The margin of selling at `price` what costs `cost`, with the shop's tax settings.
pub fn margin(price: Minor, cost: Minor, tax_rate_bp: u32, prices_include_tax: bool) -> Margin {
    let net_price = net_of_tax(price, tax_rate_bp, prices_include_tax);
    let profit = Minor(net_price.0.saturating_sub(cost.0));
    let margin_bp = (net_price.0 != 0).then(|| {
        clamp_i128(div_round_half_away(
            i128::from(profit.0) * 10_000,
            i128::from(net_price.0),
        ))
    });
    Margin {
        net_price,
        profit,
        margin_bp,
    }
}

/// An amount without the tax it contains (prices including tax), or as it is.
pub fn net_of_tax(amount: Minor, tax_rate_bp: u32, prices_include_tax: bool) -> Minor {
    if !prices_include_tax || tax_rate_bp == 0 {
        return amount;
    }
    Minor(clamp_i128(div_round_half_away(
        i128::from(amount.0) * 10_000,
        10_000 + i128::from(tax_rate_bp),
    )))
}

/// `12.5 %` style text of basis points.
pub fn percent_text(bp: i64) -> String {
    let sign = if bp < 0 { "-" } else { "" };
    let a = bp.unsigned_abs();
    format!("{sign}{}.{} %", a / 100, (a % 100) / 10)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use uuid::Uuid;

    fn fid(n: u128) -> FilamentId {
        FilamentId(Uuid::from_u128(n))
    }

    #[test]
    fn rates_prefer_what_spools_cost() {
        // Two spools: 1 kg for 20.00 and 1 kg for 24.00: 22.00 per kg on average.
        let r = FilamentRate::for_filament(
            &[
                (Some(Minor(2000)), Centigrams::KG),
                (Some(Minor(2400)), Centigrams::KG),
                (None, Centigrams::KG),
            ],
            Some(Minor(9999)),
            Centigrams::KG,
        )
        .unwrap();
        assert_eq!(r.cost_of(Centigrams::KG), Minor(2200));
        assert_eq!(r.cost_of(Centigrams::from_grams(50)), Minor(110));
        // No priced spool: the list price.
        let r = FilamentRate::for_filament(
            &[(None, Centigrams::KG)],
            Some(Minor(2499)),
            Centigrams::KG,
        )
        .unwrap();
        assert_eq!(r.cost_of(Centigrams::from_grams(100)), Minor(250)); // 249.9 rounds up
        assert_eq!(FilamentRate::for_filament(&[], None, Centigrams::KG), None);
        assert_eq!(FilamentRate::new(Some(Minor(10)), Centigrams::ZERO), None);
    }

    #[test]
    fn unit_cost_adds_filaments_and_machine_time() {
        let needs = vec![
            FilamentNeed {
                filament_id: fid(1),
                per_unit_cg: Centigrams(4_250), // 42.5 g
            },
            FilamentNeed {
                filament_id: fid(2),
                per_unit_cg: Centigrams(500),
            },
        ];
        let rate = |f: FilamentId| {
            (f == fid(1)).then_some(FilamentRate {
                price: Minor(2000),
                per: Centigrams::KG,
            })
        };
        // 42.5 g at 20.00/kg = 0.85; 2 h per plate of 4 at 1.00/h = 0.50 per unit.
        let c = unit_cost(&needs, rate, Some(7200), 4, Some(Minor(100)));
        assert_eq!(c.filament, Minor(85));
        assert_eq!(c.machine, Minor(50));
        assert_eq!(c.total, Minor(135));
        assert_eq!(c.grams, Centigrams(4_750));
        assert_eq!(c.unpriced, vec![fid(2)]);
        assert!(!c.complete());
        let c = unit_cost(&needs[..1], rate, Some(7200), 4, None);
        assert_eq!((c.machine, c.total), (Minor::ZERO, Minor(85)));
        assert!(c.complete());
        // parts per plate 0 is read as 1, never a division by zero.
        let c = unit_cost(&[], rate, Some(3600), 0, Some(Minor(100)));
        assert_eq!(c.total, Minor(100));
    }

    #[test]
    fn margin_is_on_the_price_without_tax() {
        // 11.90 with 19 % included is 10.00 net; cost 4.00: 6.00 profit, 60 %.
        let m = margin(Minor(1190), Minor(400), 1900, true);
        assert_eq!(m.net_price, Minor(1000));
        assert_eq!(m.profit, Minor(600));
        assert_eq!(m.margin_bp, Some(6000));
        assert_eq!(percent_text(6000), "60.0 %");
        let m = margin(Minor(1000), Minor(1250), 1900, false);
        assert_eq!(m.profit, Minor(-250));
        assert_eq!(m.margin_bp, Some(-2500));
        assert_eq!(percent_text(-2500), "-25.0 %");
        assert_eq!(margin(Minor(0), Minor(5), 0, true).margin_bp, None);
    }
}

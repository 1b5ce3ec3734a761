//! The report of a market event: what sold, how it was paid, what it cost, what is left.
//!
//! - A sale belongs to an event when it was taken for it (by event id, whatever the day),
//!   or, taken for no event, on one of its days (in the shop's local time)
//!   ([`sale_in_event`]). Voided sales are left out by the caller. The till takes a sale
//!   for the event running that day unless the seller picks another or none
//!   ([`event_running_on`]).
//! - Units and revenue per product are the lines' quantities and `quantity × unit price`
//!   (before a sale-wide discount); the totals (gross, discount, tax, net) are the sales'
//!   own totals ([`super::sale::totals`]), so they match the till to the cent.
//! - Cost of goods: units sold times each product's unit cost (from the filament grams and
//!   spool prices, [`super::costing`]); products without a cost are counted in
//!   `uncosted_units` and left out of the sum.
//! - Margin: net revenue (without tax) minus cost of goods minus the booth fee.
//! - Left to bring home: per product, the units brought (the plan's target, or what was
//!   sold when the product was not planned) less the units sold, never below 0.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Date, UtcOffset};

use super::sale::{NewSale, PaymentMethod};
use super::{MarketEventId, ProductId};
use crate::money::Minor;

/// Whether `sale` counts for the event `event_id` running `starts_on..=ends_on`, with the
/// shop's local time at `utc_offset_s` from UTC.
pub fn sale_in_event(
    sale: &NewSale,
    event_id: MarketEventId,
    starts_on: Date,
    ends_on: Date,
    utc_offset_s: i32,
) -> bool {
    match sale.event_id {
        Some(e) => e == event_id,
        None => {
            let offset = UtcOffset::from_whole_seconds(utc_offset_s).unwrap_or(UtcOffset::UTC);
            let day = sale.taken_at.to_offset(offset).date();
            starts_on <= day && day <= ends_on
        }
    }
}

/// The event a sale taken on `day` is for by default: of the `events` (id, first day, last
/// day) running that day, the one that started last (a one-day market inside a longer fair
/// wins; on a tie, the later id); `None` when none runs.
pub fn event_running_on(
    events: impl IntoIterator<Item = (MarketEventId, Date, Date)>,
    day: Date,
) -> Option<MarketEventId> {
    events
        .into_iter()
        .filter(|(_, start, end)| *start <= day && day <= *end)
        .max_by_key(|(id, start, _)| (*start, *id))
        .map(|(id, _, _)| id)
}

/// One product's line of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportLine {
    /// The product.
    pub product_id: ProductId,
    /// Units sold.
    pub units: u32,
    /// `quantity × unit price`, before sale-wide discounts.
    pub revenue: Minor,
    /// Units × unit cost (`None` without a unit cost).
    pub cost: Option<Minor>,
    /// Units brought (the target, or the units sold when unplanned).
    pub brought: u32,
    /// Units left to bring home.
    pub left: u32,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventReport {
    /// Per product, best sellers (by revenue) first; planned products that did not sell too.
    pub lines: Vec<ReportLine>,
    /// Sales counted.
    pub sales: usize,
    /// Units sold.
    pub units: u32,
    /// What customers paid, per payment method (methods with sales only).
    pub payments: Vec<(PaymentMethod, Minor)>,
    /// What customers paid in all.
    pub gross: Minor,
    /// Discounts given.
    pub discount: Minor,
    /// Tax contained in (or added to) the sales.
    pub tax: Minor,
    /// Gross without tax.
    pub net: Minor,
    /// The booth fee.
    pub fee: Minor,
    /// Cost of the goods sold that have a unit cost.
    pub cost_of_goods: Minor,
    /// Units sold without a unit cost (not in `cost_of_goods`).
    pub uncosted_units: u32,
    /// Net minus cost of goods minus the fee.
    pub margin: Minor,
    /// Units to bring home, in all.
    pub left_units: u32,
}

/// The report of the event's (not voided) `sales`, its stock `plan` (target per product),
/// the products' unit costs and the booth fee.
pub fn event_report(
    sales: &[NewSale],
    plan: &[(ProductId, u32)],
    unit_cost: impl Fn(ProductId) -> Option<Minor>,
    fee: Option<Minor>,
) -> EventReport {
    let mut per: BTreeMap<ProductId, (u32, i64)> = BTreeMap::new();
    let mut payments: BTreeMap<PaymentMethod, i64> = BTreeMap::new();
    let (mut gross, mut discount, mut tax, mut net) = (0i64, 0i64, 0i64, 0i64);
    let mut counted = 0usize;
    for s in sales {
        let Ok(t) = s.totals() else { continue };
        counted += 1;
        gross = gross.saturating_add(t.total.0);
        discount = discount.saturating_add(t.discount.0);
        tax = tax.saturating_add(t.tax.0);
        net = net.saturating_add(t.net.0);
        let p = payments.entry(s.payment_method).or_default();
        *p = p.saturating_add(t.total.0);
        for l in &s.lines {
            let e = per.entry(l.product_id).or_default();
            e.0 = e.0.saturating_add(l.quantity);
            e.1 =
                e.1.saturating_add(l.unit_price.0.saturating_mul(i64::from(l.quantity)));
        }
    }
    for (p, _) in plan.iter().filter(|(_, t)| *t > 0) {
        per.entry(*p).or_default();
    }
    let targets: BTreeMap<ProductId, u32> = plan.iter().copied().collect();
    let mut cost_of_goods = 0i64;
    let mut uncosted_units = 0u32;
    let mut lines: Vec<ReportLine> = per
        .into_iter()
        .map(|(product_id, (units, revenue))| {
            let cost = unit_cost(product_id).map(|c| Minor(c.0.saturating_mul(i64::from(units))));
            match cost {
                Some(c) => cost_of_goods = cost_of_goods.saturating_add(c.0),
                None => uncosted_units = uncosted_units.saturating_add(units),
            }
            let brought = targets
                .get(&product_id)
                .copied()
                .filter(|t| *t > 0)
                .unwrap_or(units);
            ReportLine {
                product_id,
                units,
                revenue: Minor(revenue),
                cost,
                brought,
                left: brought.saturating_sub(units),
            }
        })
        .collect();
    lines.sort_by(|a, b| b.revenue.cmp(&a.revenue).then(b.units.cmp(&a.units)));
    let fee = fee.unwrap_or(Minor::ZERO);
    EventReport {
        sales: counted,
        units: lines.iter().fold(0u32, |a, l| a.saturating_add(l.units)),
        left_units: lines.iter().fold(0u32, |a, l| a.saturating_add(l.left)),
        lines,
        payments: payments.into_iter().map(|(m, a)| (m, Minor(a))).collect(),
        gross: Minor(gross),
        discount: Minor(discount),
        tax: Minor(tax),
        net: Minor(net),
        fee,
        cost_of_goods: Minor(cost_of_goods),
        uncosted_units,
        margin: Minor(net.saturating_sub(cost_of_goods).saturating_sub(fee.0)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::domain::SaleId;
    use crate::domain::sale::{Discount, SaleLine};
    use time::macros::{date, datetime};
    use uuid::Uuid;

    fn pid(n: u128) -> ProductId {
        ProductId(Uuid::from_u128(n))
    }

    fn sale(lines: &[(u128, u32, i64)], pay: PaymentMethod, discount: Discount) -> NewSale {
        NewSale {
            sale_id: SaleId(Uuid::nil()),
            event_id: None,
            lines: lines
                .iter()
                .map(|&(p, q, price)| SaleLine {
                    product_id: pid(p),
                    quantity: q,
                    unit_price: Minor(price),
                })
                .collect(),
            discount,
            payment_method: pay,
            tax_rate_bp: 1900,
            prices_include_tax: true,
            taken_at: datetime!(2026-12-05 10:00 UTC),
        }
    }

    #[test]
    fn report_adds_up() {
        let sales = vec![
            sale(
                &[(1, 3, 1190), (2, 1, 595)],
                PaymentMethod::Card,
                Discount::None,
            ),
            sale(&[(1, 1, 1190)], PaymentMethod::Cash, Discount::None),
            sale(
                &[(2, 2, 595)],
                PaymentMethod::Cash,
                Discount::Amount { amount: Minor(190) },
            ),
        ];
        let plan = vec![(pid(1), 6), (pid(2), 2), (pid(3), 4)];
        let cost = |p: ProductId| (p == pid(1)).then_some(Minor(300));
        let r = event_report(&sales, &plan, cost, Some(Minor(2500)));
        assert_eq!(r.sales, 3);
        assert_eq!(r.units, 7);
        // 4165 + 1190 + 1000 = 6355 paid.
        assert_eq!(r.gross, Minor(6355));
        assert_eq!(r.discount, Minor(190));
        assert_eq!(
            r.payments,
            vec![
                (PaymentMethod::Cash, Minor(2190)),
                (PaymentMethod::Card, Minor(4165))
            ]
        );
        assert_eq!(r.net.0 + r.tax.0, r.gross.0);
        assert_eq!(r.net, Minor(3500 + 1000 + 840));
        assert_eq!(r.cost_of_goods, Minor(1200));
        assert_eq!(r.uncosted_units, 3);
        assert_eq!(r.margin, Minor(5340 - 1200 - 2500));
        assert_eq!(r.lines[0].product_id, pid(1));
        assert_eq!((r.lines[0].units, r.lines[0].revenue), (4, Minor(4760)));
        assert_eq!((r.lines[0].brought, r.lines[0].left), (6, 2));
        // Product 2 sold 3 of a plan of 2: nothing left, never negative.
        assert_eq!(r.lines[1].left, 0);
        // Product 3 was planned and did not sell: all 4 come home.
        assert_eq!((r.lines[2].units, r.lines[2].left), (0, 4));
        assert_eq!(r.left_units, 6);
    }

    #[test]
    fn empty_report_is_zero() {
        let r = event_report(&[], &[], |_| None, None);
        assert_eq!(r.gross, Minor::ZERO);
        assert_eq!(r.margin, Minor::ZERO);
        assert!(r.lines.is_empty() && r.payments.is_empty());
    }

    #[test]
    fn the_event_running_today_is_the_default() {
        let fair = MarketEventId(Uuid::from_u128(1));
        let market = MarketEventId(Uuid::from_u128(2));
        let events = [
            (fair, date!(2026 - 12 - 01), date!(2026 - 12 - 24)),
            (market, date!(2026 - 12 - 05), date!(2026 - 12 - 06)),
        ];
        assert_eq!(
            event_running_on(events, date!(2026 - 12 - 05)),
            Some(market)
        );
        assert_eq!(
            event_running_on(events, date!(2026 - 12 - 06)),
            Some(market)
        );
        assert_eq!(event_running_on(events, date!(2026 - 12 - 07)), Some(fair));
        assert_eq!(event_running_on(events, date!(2026 - 11 - 30)), None);
        assert_eq!(event_running_on([], date!(2026 - 12 - 05)), None);
    }

    #[test]
    fn a_sale_for_another_event_is_not_counted_on_a_shared_day() {
        // Two events on the same day: a sale taken for one never counts for the other;
        // a sale taken for none counts for both (the old rule, for sales without an event).
        let (a, b) = (
            MarketEventId(Uuid::from_u128(7)),
            MarketEventId(Uuid::from_u128(8)),
        );
        let day = date!(2026 - 12 - 05);
        let mut s = sale(&[(1, 2, 500)], PaymentMethod::Card, Discount::None);
        s.event_id = Some(a);
        assert!(sale_in_event(&s, a, day, day, 0));
        assert!(!sale_in_event(&s, b, day, day, 0));
        // Taken for `a` on a day `a` does not run: still `a`'s (the seller chose it).
        s.taken_at = datetime!(2026-12-20 10:00 UTC);
        assert!(sale_in_event(&s, a, day, day, 0));
        s.event_id = None;
        assert!(!sale_in_event(&s, a, day, day, 0));
        s.taken_at = datetime!(2026-12-05 10:00 UTC);
        assert!(sale_in_event(&s, a, day, day, 0) && sale_in_event(&s, b, day, day, 0));
    }

    #[test]
    fn sales_belong_by_event_or_by_day() {
        let ev = MarketEventId(Uuid::from_u128(7));
        let other = MarketEventId(Uuid::from_u128(8));
        let mut s = sale(&[(1, 1, 100)], PaymentMethod::Cash, Discount::None);
        let (start, end) = (date!(2026 - 12 - 05), date!(2026 - 12 - 06));
        assert!(sale_in_event(&s, ev, start, end, 0));
        // 23:30 UTC on the 6th is the 7th at UTC+1.
        s.taken_at = datetime!(2026-12-06 23:30 UTC);
        assert!(sale_in_event(&s, ev, start, end, 0));
        assert!(!sale_in_event(&s, ev, start, end, 3600));
        s.event_id = Some(ev);
        assert!(sale_in_event(&s, ev, start, end, 3600));
        s.event_id = Some(other);
        assert!(!sale_in_event(&s, ev, start, end, 0));
    }
}

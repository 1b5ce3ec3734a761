//! A sale: what was sold, for how much, and how it was paid.
//!
//! ## Totals and rounding
//! All amounts are integer minor units of the shop's currency. The total is computed once
//! for the whole sale, never per line:
//! 1. `subtotal = Σ quantity × unit_price` (exact integers).
//! 2. `discount` = a fixed amount, or `subtotal × percent` **rounded half away from zero**
//!    to the minor unit. A discount cannot exceed the subtotal.
//! 3. `total = subtotal − discount` when prices include tax (the usual case at a stall:
//!    the price tag is what the customer pays), and the tax contained in it is
//!    `total − round(total × 10000 / (10000 + rate_bp))`.
//!    When prices exclude tax: `tax = round(after_discount × rate_bp / 10000)` and
//!    `total = after_discount + tax`.
//!
//! Every rounding is half away from zero ([`crate::money::div_round_half_away`]), done once.

use serde::{Deserialize, Serialize};

use super::shop::validate_tax_rate;
use super::validation::{self as v, Valid, ValidationError};
use super::{DeviceId, MarketEventId, ProductId, SaleId, UserId};
use crate::money::{Minor, clamp_i128, div_round_half_away};

/// Most lines on one sale.
pub const MAX_LINES: usize = 200;
/// Most units on one line.
pub const MAX_LINE_QUANTITY: u32 = 10_000;

/// How the customer paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    /// Cash.
    Cash,
    /// Card (terminal or phone).
    Card,
    /// Anything else (bank transfer, voucher, PayPal).
    Other,
}

/// A discount on the whole sale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Discount {
    /// No discount.
    #[default]
    None,
    /// A fixed amount off.
    Amount {
        /// Amount off, minor units.
        amount: Minor,
    },
    /// A percentage off, in basis points (1000 = 10 %).
    Percent {
        /// Basis points, 1 to 10000.
        bp: u32,
    },
}

/// One line of a sale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleLine {
    /// The product.
    pub product_id: ProductId,
    /// Units sold (at least 1).
    pub quantity: u32,
    /// Price of one unit as charged (may differ from the catalogue price).
    pub unit_price: Minor,
}

/// A sale as recorded on a device: the body of the `sale.record.v1` op.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSale {
    /// Id, made by the device.
    pub sale_id: SaleId,
    /// The market event it was taken at.
    #[serde(default)]
    pub event_id: Option<MarketEventId>,
    /// Lines.
    pub lines: Vec<SaleLine>,
    /// Discount on the whole sale.
    #[serde(default)]
    pub discount: Discount,
    /// Payment method.
    pub payment_method: PaymentMethod,
    /// The shop's tax rate when the sale was taken, so totals can be recomputed exactly.
    pub tax_rate_bp: u32,
    /// Whether prices included the tax.
    pub prices_include_tax: bool,
    /// When it was taken, by the device's clock.
    #[serde(with = "super::dates::instant")]
    pub taken_at: time::OffsetDateTime,
}

/// A recorded sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sale {
    /// What the device recorded.
    pub sale: NewSale,
    /// Who took it.
    pub taken_by: Option<UserId>,
    /// On which device.
    pub device_id: DeviceId,
    /// Whether it was voided afterwards (its stock effect is undone).
    #[serde(default)]
    pub voided: bool,
}

/// The amounts of a sale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleTotals {
    /// Σ quantity × unit price.
    pub subtotal: Minor,
    /// Discount taken off.
    pub discount: Minor,
    /// What the customer pays.
    pub total: Minor,
    /// Tax contained in (or added to) the total.
    pub tax: Minor,
    /// Total without tax.
    pub net: Minor,
}

impl NewSale {
    /// Checks every field and that the totals can be computed.
    pub fn validate(&self) -> Valid {
        if self.lines.is_empty() {
            return Err(ValidationError::new(
                "lines",
                "is empty; add at least one product",
            ));
        }
        if self.lines.len() > MAX_LINES {
            return Err(ValidationError::new(
                "lines",
                format!(
                    "has {} lines; split it into sales of at most {MAX_LINES} lines",
                    self.lines.len()
                ),
            ));
        }
        for (i, l) in self.lines.iter().enumerate() {
            let p = format!("lines[{i}]");
            v::in_range(
                "quantity",
                i64::from(l.quantity),
                1,
                i64::from(MAX_LINE_QUANTITY),
                "",
            )
            .map_err(|e| e.within(&p))?;
            super::product::validate_price("unit_price", l.unit_price).map_err(|e| e.within(&p))?;
        }
        validate_tax_rate("tax_rate_bp", self.tax_rate_bp)?;
        self.totals().map(|_| ())
    }

    /// The totals by the rule in the module documentation.
    pub fn totals(&self) -> Result<SaleTotals, ValidationError> {
        totals(
            &self.lines,
            self.discount,
            self.tax_rate_bp,
            self.prices_include_tax,
        )
    }
}

/// The totals of `lines` by the rule in the module documentation.
pub fn totals(
    lines: &[SaleLine],
    discount: Discount,
    tax_rate_bp: u32,
    prices_include_tax: bool,
) -> Result<SaleTotals, ValidationError> {
    let subtotal: i128 = lines
        .iter()
        .map(|l| i128::from(l.quantity) * i128::from(l.unit_price.0))
        .sum();
    let discount_amount: i128 = match discount {
        Discount::None => 0,
        Discount::Amount { amount } => {
            if amount.0 < 0 {
                return Err(ValidationError::new(
                    "discount.amount",
                    "is negative; enter the amount to take off",
                ));
            }
            i128::from(amount.0)
        }
        Discount::Percent { bp } => {
            if bp == 0 || bp > 10_000 {
                return Err(ValidationError::new(
                    "discount.bp",
                    "must be between 1 and 10000 basis points (10 % is 1000)",
                ));
            }
            div_round_half_away(subtotal * i128::from(bp), 10_000)
        }
    };
    if discount_amount > subtotal {
        return Err(ValidationError::new(
            "discount",
            "is larger than the sale; lower the discount",
        ));
    }
    let after = subtotal - discount_amount;
    let rate = i128::from(tax_rate_bp);
    let (total, tax) = if prices_include_tax {
        let net = div_round_half_away(after * 10_000, 10_000 + rate);
        (after, after - net)
    } else {
        let tax = div_round_half_away(after * rate, 10_000);
        (after + tax, tax)
    };
    if total > i128::from(i64::MAX / 2) {
        return Err(ValidationError::new(
            "lines",
            "add up to an impossible amount; check the quantities",
        ));
    }
    Ok(SaleTotals {
        subtotal: Minor(clamp_i128(subtotal)),
        discount: Minor(clamp_i128(discount_amount)),
        total: Minor(clamp_i128(total)),
        tax: Minor(clamp_i128(tax)),
        net: Minor(clamp_i128(total - tax)),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use uuid::Uuid;

    fn line(q: u32, p: i64) -> SaleLine {
        SaleLine {
            product_id: ProductId(Uuid::nil()),
            quantity: q,
            unit_price: Minor(p),
        }
    }

    #[test]
    fn tax_included() {
        // 3 × 4.99 = 14.97 incl. 19 %: net = 14.97 / 1.19 = 12.5798… → 12.58, tax 2.39
        let t = totals(&[line(3, 499)], Discount::None, 1900, true).unwrap();
        assert_eq!(
            t,
            SaleTotals {
                subtotal: Minor(1497),
                discount: Minor(0),
                total: Minor(1497),
                tax: Minor(239),
                net: Minor(1258)
            }
        );
    }

    #[test]
    fn tax_added_and_percent_discount() {
        // 2 × 10.00 − 15 % = 17.00; + 8.25 % tax = 1.4025 → 1.40
        let t = totals(&[line(2, 1000)], Discount::Percent { bp: 1500 }, 825, false).unwrap();
        assert_eq!(t.discount, Minor(300));
        assert_eq!(t.tax, Minor(140));
        assert_eq!(t.total, Minor(1840));
        assert_eq!(t.net, Minor(1700));
        // half rounds away from zero: 0.05 × 50 % = 0.025 → 0.03
        let t = totals(&[line(1, 5)], Discount::Percent { bp: 5000 }, 0, true).unwrap();
        assert_eq!(t.discount, Minor(3));
    }

    #[test]
    fn bad_discounts() {
        assert!(
            totals(
                &[line(1, 100)],
                Discount::Amount { amount: Minor(101) },
                0,
                true
            )
            .is_err()
        );
        assert!(totals(&[line(1, 100)], Discount::Percent { bp: 0 }, 0, true).is_err());
        assert!(
            totals(
                &[line(1, 100)],
                Discount::Amount { amount: Minor(-1) },
                0,
                true
            )
            .is_err()
        );
    }

    #[test]
    fn sale_checks_and_json() {
        let json = r#"{"sale_id":"0190f5d2-0000-7000-8000-000000000001","lines":[{"product_id":"0190f5d2-0000-7000-8000-000000000002","quantity":2,"unit_price":1200}],
            "discount":{"type":"amount","amount":200},"payment_method":"cash","tax_rate_bp":1900,"prices_include_tax":true,"taken_at":"2025-12-06T14:03:00Z"}"#;
        let s: NewSale = serde_json::from_str(json).unwrap();
        s.validate().unwrap();
        assert_eq!(s.totals().unwrap().total, Minor(2200));
        let mut bad = s.clone();
        bad.lines[0].quantity = 0;
        assert_eq!(bad.validate().unwrap_err().field, "lines[0].quantity");
        let mut bad = s;
        bad.lines.clear();
        assert_eq!(bad.validate().unwrap_err().field, "lines");
    }
}

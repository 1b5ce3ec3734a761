//! A product: finished goods or an accessory for sale, and its stock ledger.
//!
//! Quantity on hand comes from an append-only ledger. It may go below zero: a sale that
//! happened at the stall is recorded even when the ledger says 0 (the count was wrong, or
//! production was not entered yet). A negative level is flagged for a recount, never refused.

use serde::{Deserialize, Serialize};

use super::validation::{self as v, Valid, ValidationError, max_len};
use super::{MarketEventId, PrintJobId, ProductId, SaleId, UserId, VariantId};
use crate::money::Minor;

/// Highest price or cost accepted for one unit, in minor units (1,000,000.00).
pub const MAX_UNIT_PRICE: Minor = Minor(100_000_000);
/// Largest quantity of one ledger entry or count.
pub const MAX_QUANTITY: i64 = 1_000_000;

/// A product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// Id.
    pub id: ProductId,
    /// Stock-keeping unit, unique per shop.
    pub sku: String,
    /// Name.
    pub name: String,
    /// The variant it is printed from (none for bought-in accessories).
    pub variant_id: Option<VariantId>,
    /// Selling price of one unit.
    pub price: Minor,
    /// Cost of one unit (filament, electricity, parts).
    pub unit_cost: Option<Minor>,
    /// Barcode or QR payload.
    pub barcode: Option<String>,
    /// Location or bin.
    pub location: Option<String>,
    /// Flag the product when on hand falls to this or below.
    pub low_stock_threshold: Option<u32>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// On sale.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

impl Product {
    /// Checks every field.
    pub fn validate(&self) -> Valid {
        validate_sku(&self.sku)?;
        v::required_text("name", &self.name, max_len::NAME)?;
        validate_price("price", self.price)?;
        if let Some(c) = self.unit_cost {
            validate_price("unit_cost", c)?;
        }
        v::optional_text("barcode", self.barcode.as_deref(), max_len::BARCODE)?;
        v::optional_text("location", self.location.as_deref(), max_len::CODE)?;
        validate_threshold(self.low_stock_threshold)?;
        v::tags("tags", &self.tags)
    }

    /// The stock flags of `on_hand` for this product.
    pub fn level(&self, on_hand: i64) -> StockLevel {
        StockLevel::new(on_hand, self.low_stock_threshold)
    }
}

/// A change to (or the creation of) a product. Quantity is not a field: adjust or count stock.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductPatch {
    /// SKU.
    pub sku: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Variant.
    pub variant_id: Option<VariantId>,
    /// Price.
    pub price: Option<Minor>,
    /// Unit cost.
    pub unit_cost: Option<Minor>,
    /// Barcode.
    pub barcode: Option<String>,
    /// Location.
    pub location: Option<String>,
    /// Low-stock threshold.
    pub low_stock_threshold: Option<u32>,
    /// Tags.
    pub tags: Option<Vec<String>>,
    /// Active.
    pub active: Option<bool>,
}

impl ProductPatch {
    /// Fields that may be set to `null`.
    pub const NULLABLE: &'static [&'static str] = &[
        "variant_id",
        "unit_cost",
        "barcode",
        "location",
        "low_stock_threshold",
    ];
    /// Fields that are prices (changing them needs [`super::member::Action::EditPrices`]).
    pub const PRICE_FIELDS: &'static [&'static str] = &["price", "unit_cost"];

    /// Checks the fields present.
    pub fn validate(&self) -> Valid {
        if let Some(s) = &self.sku {
            validate_sku(s)?;
        }
        if let Some(n) = &self.name {
            v::required_text("name", n, max_len::NAME)?;
        }
        if let Some(p) = self.price {
            validate_price("price", p)?;
        }
        if let Some(c) = self.unit_cost {
            validate_price("unit_cost", c)?;
        }
        v::optional_text("barcode", self.barcode.as_deref(), max_len::BARCODE)?;
        v::optional_text("location", self.location.as_deref(), max_len::CODE)?;
        validate_threshold(self.low_stock_threshold)?;
        if let Some(t) = &self.tags {
            v::tags("tags", t)?;
        }
        Ok(())
    }
}

/// A SKU: 1 to 64 characters, no spaces.
pub fn validate_sku(sku: &str) -> Valid {
    v::required_text("sku", sku, max_len::CODE)?;
    if sku.chars().any(char::is_whitespace) {
        return Err(ValidationError::new(
            "sku",
            "contains a space; use dashes, like REX-L-RAINBOW",
        ));
    }
    Ok(())
}

/// A price or cost: 0 to [`MAX_UNIT_PRICE`].
pub fn validate_price(field: &str, p: Minor) -> Valid {
    v::in_range(field, p.0, 0, MAX_UNIT_PRICE.0, "").map_err(|e| {
        ValidationError::new(
            e.field,
            format!("{} (in minor units: cents, pence)", e.message),
        )
    })
}

fn validate_threshold(t: Option<u32>) -> Valid {
    match t {
        Some(t) => v::in_range("low_stock_threshold", i64::from(t), 0, MAX_QUANTITY, ""),
        None => Ok(()),
    }
}

/// Why stock changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StockReason {
    /// Printed (a finished job) or made.
    Produced,
    /// Sold (from a sale).
    Sold,
    /// A manual adjustment.
    Adjusted,
    /// A customer brought it back.
    Returned,
    /// Broken or lost.
    Damaged,
    /// A stock-take: the level was set to what was counted.
    Counted,
}

impl StockReason {
    /// Checks the sign of a manual change with this reason: `produced` and `returned` add,
    /// `damaged` removes, `adjusted` may do either. `sold` and `counted` come only from a
    /// sale or a count.
    pub fn validate_delta(self, field: &str, delta: i64) -> Valid {
        if delta == 0 {
            return Err(ValidationError::new(
                field,
                "is 0; enter how many units changed",
            ));
        }
        if delta.abs() > MAX_QUANTITY {
            return Err(ValidationError::new(
                field,
                format!("is {delta}, which is not plausible; enter at most {MAX_QUANTITY} units"),
            ));
        }
        match self {
            StockReason::Produced | StockReason::Returned if delta < 0 => {
                Err(ValidationError::new(
                    field,
                    "is negative for a reason that adds stock; use `damaged` or `adjusted` to remove units",
                ))
            }
            StockReason::Damaged if delta > 0 => Err(ValidationError::new(
                field,
                "is positive for `damaged`; damaged units are removed, enter a negative number",
            )),
            StockReason::Sold => Err(ValidationError::new(
                "reason",
                "`sold` is recorded by a sale; record the sale instead",
            )),
            StockReason::Counted => Err(ValidationError::new(
                "reason",
                "`counted` is recorded by a stock count; count the stock instead",
            )),
            _ => Ok(()),
        }
    }
}

/// Checks a counted quantity: 0 to [`MAX_QUANTITY`].
pub fn validate_count(field: &str, counted: i64) -> Valid {
    v::in_range(field, counted, 0, MAX_QUANTITY, "")
}

/// One entry of a product's stock ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockEntry {
    /// The product.
    pub product_id: ProductId,
    /// Change in units (for `counted`: the difference the count made).
    pub quantity: i64,
    /// Why.
    pub reason: StockReason,
    /// The print job it came from.
    pub job_id: Option<PrintJobId>,
    /// The sale it belongs to.
    pub sale_id: Option<SaleId>,
    /// The market event it belongs to.
    pub event_id: Option<MarketEventId>,
    /// Who.
    pub user_id: Option<UserId>,
    /// When.
    #[serde(with = "super::dates::instant")]
    pub at: time::OffsetDateTime,
}

/// Quantity on hand with the flags the UI shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    /// Units on hand (may be negative).
    pub on_hand: i64,
    /// Below zero: more was sold than the ledger knew of; recount.
    pub negative: bool,
    /// At or below the low-stock threshold: print more.
    pub low: bool,
}

impl StockLevel {
    /// Flags for `on_hand` against an optional threshold.
    pub fn new(on_hand: i64, low_stock_threshold: Option<u32>) -> Self {
        StockLevel {
            on_hand,
            negative: on_hand < 0,
            low: low_stock_threshold.is_some_and(|t| on_hand <= i64::from(t)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use uuid::Uuid;

    #[test]
    fn product_checks() {
        let p = Product {
            id: ProductId(Uuid::nil()),
            sku: "REX-L".into(),
            name: "Flexi Rex, large".into(),
            variant_id: None,
            price: Minor(1200),
            unit_cost: Some(Minor(180)),
            barcode: None,
            location: Some("Box 3".into()),
            low_stock_threshold: Some(2),
            tags: vec![],
            active: true,
        };
        p.validate().unwrap();
        assert_eq!(
            p.level(-1),
            StockLevel {
                on_hand: -1,
                negative: true,
                low: true
            }
        );
        assert_eq!(
            p.level(5),
            StockLevel {
                on_hand: 5,
                negative: false,
                low: false
            }
        );
        let mut bad = p.clone();
        bad.sku = "REX L".into();
        assert_eq!(bad.validate().unwrap_err().field, "sku");
        let mut bad = p;
        bad.price = Minor(-1);
        assert_eq!(bad.validate().unwrap_err().field, "price");
    }

    #[test]
    fn delta_signs() {
        assert!(StockReason::Produced.validate_delta("delta", 3).is_ok());
        assert!(StockReason::Produced.validate_delta("delta", -3).is_err());
        assert!(StockReason::Damaged.validate_delta("delta", 1).is_err());
        assert!(StockReason::Adjusted.validate_delta("delta", -1).is_ok());
        assert!(StockReason::Adjusted.validate_delta("delta", 0).is_err());
        assert!(StockReason::Sold.validate_delta("delta", -1).is_err());
        assert!(
            StockReason::Adjusted
                .validate_delta("delta", 10_000_000)
                .is_err()
        );
        assert!(validate_count("counted", -1).is_err());
    }
}

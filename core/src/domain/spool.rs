//! A spool: one physical roll of filament, and its usage ledger.
//!
//! Grams left come from an append-only ledger of uses. A use never takes a spool below
//! 0 g: the level clamps at 0 and the part that did not fit is kept as `overshoot`
//! (it means the spool's starting weight or an earlier entry was wrong; weigh the spool).
//! A weighing (gross weight on a scale) sets the level to gross minus the empty-spool
//! weight; the ledger records the difference as a `correction`.

use serde::{Deserialize, Serialize};
use time::Date;

use super::validation::{self as v, Valid, ValidationError, max_len};
use super::{Centigrams, FilamentId, PrintJobId, SpoolId, UserId};
use crate::money::Minor;

/// Heaviest gross weight a scale reading may show: 25 kg.
pub const MAX_GROSS_CG: Centigrams = Centigrams(25 * 100_000);
/// Largest single use: 20 kg.
pub const MAX_USE_CG: Centigrams = Centigrams(20 * 100_000);

/// A physical roll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spool {
    /// Id.
    pub id: SpoolId,
    /// Its filament kind.
    pub filament_id: FilamentId,
    /// Net filament weight when new (or when first entered).
    pub initial_net_cg: Centigrams,
    /// Empty-spool weight of this roll, when it differs from the filament's.
    pub empty_spool_cg: Option<Centigrams>,
    /// Price paid.
    pub price_paid: Option<Minor>,
    /// Purchase date.
    #[serde(default, with = "super::dates::date::option")]
    pub purchase_date: Option<Date>,
    /// Where it is kept.
    pub location: Option<String>,
    /// Lot / batch number.
    pub lot_number: Option<String>,
    /// Barcode or QR payload stuck on it.
    pub barcode: Option<String>,
    /// NFC tag id.
    pub nfc_tag_id: Option<String>,
    /// Used up or put away.
    #[serde(default)]
    pub archived: bool,
}

impl Spool {
    /// Checks every field.
    pub fn validate(&self) -> Valid {
        v::in_range(
            "initial_net_cg",
            self.initial_net_cg.0,
            0,
            super::filament::MAX_SPOOL_CG.0,
            " cg",
        )?;
        validate_optional(
            self.empty_spool_cg,
            self.price_paid,
            &self.location,
            &self.lot_number,
            &self.barcode,
            &self.nfc_tag_id,
        )
    }
}

/// A change to (or the creation of) a spool. Grams left are not a field: record a use or
/// a weighing.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpoolPatch {
    /// Filament kind.
    pub filament_id: Option<FilamentId>,
    /// Net weight when new.
    pub initial_net_cg: Option<Centigrams>,
    /// Empty-spool weight of this roll.
    pub empty_spool_cg: Option<Centigrams>,
    /// Price paid.
    pub price_paid: Option<Minor>,
    /// Purchase date.
    #[serde(default, with = "super::dates::date::option")]
    pub purchase_date: Option<Date>,
    /// Location.
    pub location: Option<String>,
    /// Lot number.
    pub lot_number: Option<String>,
    /// Barcode.
    pub barcode: Option<String>,
    /// NFC tag id.
    pub nfc_tag_id: Option<String>,
    /// Archived.
    pub archived: Option<bool>,
}

impl SpoolPatch {
    /// Fields that may be set to `null`.
    pub const NULLABLE: &'static [&'static str] = &[
        "empty_spool_cg",
        "price_paid",
        "purchase_date",
        "location",
        "lot_number",
        "barcode",
        "nfc_tag_id",
    ];

    /// Checks the fields present.
    pub fn validate(&self) -> Valid {
        if let Some(w) = self.initial_net_cg {
            v::in_range(
                "initial_net_cg",
                w.0,
                0,
                super::filament::MAX_SPOOL_CG.0,
                " cg",
            )?;
        }
        validate_optional(
            self.empty_spool_cg,
            self.price_paid,
            &self.location,
            &self.lot_number,
            &self.barcode,
            &self.nfc_tag_id,
        )
    }
}

fn validate_optional(
    empty: Option<Centigrams>,
    price: Option<Minor>,
    location: &Option<String>,
    lot: &Option<String>,
    barcode: &Option<String>,
    nfc: &Option<String>,
) -> Valid {
    if let Some(e) = empty {
        v::in_range("empty_spool_cg", e.0, 0, 5 * 100_000, " cg")?;
    }
    if let Some(p) = price {
        v::in_range("price_paid", p.0, 0, 100_000_000, "")?;
    }
    v::optional_text("location", location.as_deref(), max_len::CODE)?;
    v::optional_text("lot_number", lot.as_deref(), max_len::CODE)?;
    v::optional_text("barcode", barcode.as_deref(), max_len::BARCODE)?;
    v::optional_text("nfc_tag_id", nfc.as_deref(), max_len::CODE)
}

/// Why filament left a spool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UsageReason {
    /// A print job that finished.
    Print,
    /// A test print or calibration.
    Test,
    /// A print that failed (wasted filament).
    FailedPrint,
    /// The difference found by a weighing.
    Measurement,
    /// A manual correction (may be negative: grams given back).
    Correction,
}

/// One entry of a spool's usage ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageEntry {
    /// The spool.
    pub spool_id: SpoolId,
    /// Grams used (negative only for a correction that gives grams back).
    pub used_cg: Centigrams,
    /// Why.
    pub reason: UsageReason,
    /// The job it was for.
    pub job_id: Option<PrintJobId>,
    /// Who.
    pub user_id: Option<UserId>,
    /// When.
    #[serde(with = "super::dates::instant")]
    pub at: time::OffsetDateTime,
}

/// Checks a use: more than 0 g (a correction may be negative, not 0) and at most [`MAX_USE_CG`].
pub fn validate_use(field: &str, used: Centigrams, reason: UsageReason) -> Valid {
    if used.0 == 0 {
        return Err(ValidationError::new(field, "is 0 g; enter the grams used"));
    }
    if used.0 < 0 && reason != UsageReason::Correction {
        return Err(ValidationError::new(
            field,
            "is negative; grams can only be given back with the reason `correction`, or weigh the spool",
        ));
    }
    if used.0.abs() > MAX_USE_CG.0 {
        return Err(ValidationError::new(
            field,
            format!("is {used}, more than any spool holds; enter grams (not centigrams or metres)"),
        ));
    }
    Ok(())
}

/// The result of taking grams off a spool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UseOutcome {
    /// Grams left after the use (never below 0).
    pub left_cg: Centigrams,
    /// Grams the use asked for beyond what was left (0 when it fitted).
    pub overshoot_cg: Centigrams,
}

/// Takes `used` grams off `left`, clamping at 0 and recording the overshoot.
pub fn apply_use(left: Centigrams, used: Centigrams) -> UseOutcome {
    let after = left.0.saturating_sub(used.0);
    if after < 0 {
        UseOutcome {
            left_cg: Centigrams::ZERO,
            overshoot_cg: Centigrams(-after),
        }
    } else {
        UseOutcome {
            left_cg: Centigrams(after),
            overshoot_cg: Centigrams::ZERO,
        }
    }
}

/// A scale reading turned into grams left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weighing {
    /// Grams left: gross minus empty spool, at least 0.
    pub left_cg: Centigrams,
    /// How far the gross weight was below the empty-spool weight (0 normally). Non-zero
    /// means the empty-spool weight is wrong for this spool.
    pub below_empty_cg: Centigrams,
}

/// Grams left from a gross weight and the empty-spool weight.
pub fn weigh(gross: Centigrams, empty_spool: Centigrams) -> Weighing {
    let net = gross.0.saturating_sub(empty_spool.0);
    if net < 0 {
        Weighing {
            left_cg: Centigrams::ZERO,
            below_empty_cg: Centigrams(-net),
        }
    } else {
        Weighing {
            left_cg: Centigrams(net),
            below_empty_cg: Centigrams::ZERO,
        }
    }
}

/// Checks a scale reading and an empty-spool weight.
pub fn validate_weighing(gross: Centigrams, empty_spool: Centigrams) -> Valid {
    v::in_range("gross_cg", gross.0, 0, MAX_GROSS_CG.0, " cg")?;
    v::in_range("empty_spool_cg", empty_spool.0, 0, 5 * 100_000, " cg")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn use_clamps_at_zero() {
        let o = apply_use(Centigrams(1000), Centigrams(1500));
        assert_eq!(
            o,
            UseOutcome {
                left_cg: Centigrams(0),
                overshoot_cg: Centigrams(500)
            }
        );
        let o = apply_use(Centigrams(1000), Centigrams(-200));
        assert_eq!(o.left_cg, Centigrams(1200));
    }

    #[test]
    fn weighing() {
        let w = weigh(Centigrams::from_grams(450), Centigrams::from_grams(200));
        assert_eq!(w.left_cg, Centigrams::from_grams(250));
        let w = weigh(Centigrams::from_grams(150), Centigrams::from_grams(200));
        assert_eq!(
            w,
            Weighing {
                left_cg: Centigrams(0),
                below_empty_cg: Centigrams::from_grams(50)
            }
        );
        assert!(validate_weighing(Centigrams(-1), Centigrams(0)).is_err());
    }

    #[test]
    fn use_checks() {
        assert!(validate_use("used_cg", Centigrams(0), UsageReason::Print).is_err());
        assert!(validate_use("used_cg", Centigrams(-5), UsageReason::Print).is_err());
        assert!(validate_use("used_cg", Centigrams(-5), UsageReason::Correction).is_ok());
        assert!(validate_use("used_cg", Centigrams(i64::MAX), UsageReason::Print).is_err());
    }

    #[test]
    fn spool_json_dates() {
        let json = r#"{"id":"0190f5d2-0000-7000-8000-000000000001","filament_id":"0190f5d2-0000-7000-8000-000000000002",
            "initial_net_cg":100000,"empty_spool_cg":null,"price_paid":2199,"purchase_date":"2025-03-01",
            "location":"Shelf B","lot_number":null,"barcode":null,"nfc_tag_id":null}"#;
        let s: Spool = serde_json::from_str(json).unwrap();
        assert_eq!(
            s.purchase_date.map(|d| d.to_string()),
            Some("2025-03-01".into())
        );
        s.validate().unwrap();
        let back = serde_json::to_value(&s).unwrap();
        assert_eq!(back["purchase_date"], "2025-03-01");
    }
}

//! A market event (craft market, fair) and the stock planned for it.

use serde::{Deserialize, Serialize};
use time::Date;

use super::validation::{self as v, Valid, ValidationError, max_len};
use super::{MarketEventId, ProductId};
use crate::money::Minor;

/// Longest event: 31 days.
pub const MAX_EVENT_DAYS: i64 = 31;

/// A market event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketEvent {
    /// Id.
    pub id: MarketEventId,
    /// Name ("Christmas market, old town").
    pub name: String,
    /// First day (local date in the shop's time zone).
    #[serde(with = "super::dates::date")]
    pub starts_on: Date,
    /// Last day.
    #[serde(with = "super::dates::date")]
    pub ends_on: Date,
    /// Where.
    pub location: Option<String>,
    /// Booth / pitch fee.
    pub booth_fee: Option<Minor>,
    /// Theme tags ("christmas", "kids").
    #[serde(default)]
    pub theme_tags: Vec<String>,
    /// Notes.
    pub notes: Option<String>,
}

impl MarketEvent {
    /// Checks every field.
    pub fn validate(&self) -> Valid {
        v::required_text("name", &self.name, max_len::NAME)?;
        validate_dates(self.starts_on, self.ends_on)?;
        v::optional_text("location", self.location.as_deref(), max_len::NAME)?;
        if let Some(f) = self.booth_fee {
            v::in_range("booth_fee", f.0, 0, 100_000_000, "")?;
        }
        v::tags("theme_tags", &self.theme_tags)?;
        v::notes("notes", self.notes.as_deref(), max_len::NOTES)
    }
}

/// Checks that the event ends on or after its start and lasts at most [`MAX_EVENT_DAYS`].
pub fn validate_dates(starts_on: Date, ends_on: Date) -> Valid {
    let days = (ends_on - starts_on).whole_days();
    if days < 0 {
        return Err(ValidationError::new(
            "ends_on",
            "is before the first day; check the dates",
        ));
    }
    if days >= MAX_EVENT_DAYS {
        return Err(ValidationError::new(
            "ends_on",
            format!(
                "makes the event {} days long; enter events of at most {MAX_EVENT_DAYS} days",
                days + 1
            ),
        ));
    }
    Ok(())
}

/// A change to (or the creation of) an event.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketEventPatch {
    /// Name.
    pub name: Option<String>,
    /// First day.
    #[serde(default, with = "super::dates::date::option")]
    pub starts_on: Option<Date>,
    /// Last day.
    #[serde(default, with = "super::dates::date::option")]
    pub ends_on: Option<Date>,
    /// Location.
    pub location: Option<String>,
    /// Booth fee.
    pub booth_fee: Option<Minor>,
    /// Theme tags.
    pub theme_tags: Option<Vec<String>>,
    /// Notes.
    pub notes: Option<String>,
}

impl MarketEventPatch {
    /// Fields that may be set to `null`.
    pub const NULLABLE: &'static [&'static str] = &["location", "booth_fee", "notes"];

    /// Checks the fields present.
    pub fn validate(&self) -> Valid {
        if let Some(n) = &self.name {
            v::required_text("name", n, max_len::NAME)?;
        }
        if let (Some(s), Some(e)) = (self.starts_on, self.ends_on) {
            validate_dates(s, e)?;
        }
        v::optional_text("location", self.location.as_deref(), max_len::NAME)?;
        if let Some(f) = self.booth_fee {
            v::in_range("booth_fee", f.0, 0, 100_000_000, "")?;
        }
        if let Some(t) = &self.theme_tags {
            v::tags("theme_tags", t)?;
        }
        v::notes("notes", self.notes.as_deref(), max_len::NOTES)
    }
}

/// One line of an event's stock plan: how many of a product to bring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanLine {
    /// The product.
    pub product_id: ProductId,
    /// Units to bring (0 removes the line).
    pub target: u32,
}

impl PlanLine {
    /// Target within 0 to 100,000.
    pub fn validate(&self) -> Valid {
        v::in_range("target", i64::from(self.target), 0, 100_000, "")
    }
}

/// What is still to be printed for a plan line given what is on hand (never negative).
pub fn shortfall(target: u32, on_hand: i64) -> u32 {
    let missing = i64::from(target) - on_hand.max(0);
    u32::try_from(missing.max(0)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use time::macros::date;

    #[test]
    fn event_dates() {
        assert!(validate_dates(date!(2025 - 12 - 01), date!(2025 - 12 - 03)).is_ok());
        assert!(validate_dates(date!(2025 - 12 - 03), date!(2025 - 12 - 01)).is_err());
        assert!(validate_dates(date!(2025 - 01 - 01), date!(2025 - 12 - 01)).is_err());
        let json = r#"{"id":"0190f5d2-0000-7000-8000-000000000001","name":"Advent market","starts_on":"2025-12-01",
            "ends_on":"2025-12-24","location":null,"booth_fee":4500,"notes":null}"#;
        let e: MarketEvent = serde_json::from_str(json).unwrap();
        e.validate().unwrap();
        assert_eq!(shortfall(10, 4), 6);
        assert_eq!(shortfall(10, -3), 10);
        assert_eq!(shortfall(2, 5), 0);
    }
}

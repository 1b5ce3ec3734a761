//! The shop: the business that owns all other data.

use serde::{Deserialize, Serialize};

use super::ShopId;
use super::validation::{self as v, Valid, ValidationError, max_len};
use crate::money::{Currency, Minor};

/// Highest tax rate accepted: 50 % (no sales tax or VAT is higher).
pub const MAX_TAX_RATE_BP: u32 = 5_000;

/// A shop's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shop {
    /// Id.
    pub id: ShopId,
    /// Trading name.
    pub name: String,
    /// Currency of every amount of this shop.
    pub currency: Currency,
    /// IANA time zone name (`Europe/Berlin`), used to show local times and dates of events.
    pub time_zone: String,
    /// Sales tax / VAT rate in basis points (1900 = 19 %).
    pub tax_rate_bp: u32,
    /// Whether prices already include the tax (usual at a market stall in the EU).
    pub prices_include_tax: bool,
    /// Optional business details for receipts and exports.
    #[serde(default)]
    pub business: Option<BusinessDetails>,
}

/// Legal details shown on receipts and exports.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BusinessDetails {
    /// Registered legal name.
    pub legal_name: Option<String>,
    /// VAT / tax number.
    pub tax_id: Option<String>,
    /// Postal address (may span lines).
    pub address: Option<String>,
}

/// Input to create a shop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewShop {
    /// Trading name.
    pub name: String,
    /// Currency.
    pub currency: Currency,
    /// IANA time zone.
    pub time_zone: String,
    /// Tax rate in basis points.
    #[serde(default)]
    pub tax_rate_bp: u32,
    /// Whether prices include the tax.
    #[serde(default = "yes")]
    pub prices_include_tax: bool,
}

fn yes() -> bool {
    true
}

/// A change to a shop's settings; absent fields stay as they are.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopPatch {
    /// Trading name.
    pub name: Option<String>,
    /// Currency.
    pub currency: Option<Currency>,
    /// IANA time zone.
    pub time_zone: Option<String>,
    /// Tax rate in basis points.
    pub tax_rate_bp: Option<u32>,
    /// Whether prices include the tax.
    pub prices_include_tax: Option<bool>,
    /// Business details.
    pub business: Option<BusinessDetails>,
    /// What an hour of printer time costs (power, wear), in minor units, added to a
    /// variant's unit cost by its print time. Kept in the synced settings only.
    pub machine_cost_per_hour: Option<Minor>,
}

/// Highest machine cost per hour accepted (1,000.00).
pub const MAX_MACHINE_COST_PER_HOUR: Minor = Minor(100_000);

impl ShopPatch {
    /// Fields that may be set to `null`.
    pub const NULLABLE: &'static [&'static str] = &["business", "machine_cost_per_hour"];

    /// Checks the fields present.
    pub fn validate(&self) -> Valid {
        if let Some(n) = &self.name {
            v::required_text("name", n, max_len::NAME)?;
        }
        if let Some(tz) = &self.time_zone {
            validate_time_zone("time_zone", tz)?;
        }
        if let Some(r) = self.tax_rate_bp {
            validate_tax_rate("tax_rate_bp", r)?;
        }
        if let Some(b) = &self.business {
            b.validate()?;
        }
        if let Some(c) = self.machine_cost_per_hour {
            v::in_range(
                "machine_cost_per_hour",
                c.0,
                0,
                MAX_MACHINE_COST_PER_HOUR.0,
                "",
            )?;
        }
        Ok(())
    }
}

impl BusinessDetails {
    /// Checks lengths.
    pub fn validate(&self) -> Valid {
        v::optional_text(
            "business.legal_name",
            self.legal_name.as_deref(),
            max_len::NAME,
        )?;
        v::optional_text("business.tax_id", self.tax_id.as_deref(), max_len::CODE)?;
        v::notes(
            "business.address",
            self.address.as_deref(),
            max_len::ADDRESS,
        )
    }
}

impl NewShop {
    /// Checks every field.
    pub fn validate(&self) -> Valid {
        v::required_text("name", &self.name, max_len::NAME)?;
        validate_time_zone("time_zone", &self.time_zone)?;
        validate_tax_rate("tax_rate_bp", self.tax_rate_bp)
    }
}

impl Shop {
    /// Checks every field.
    pub fn validate(&self) -> Valid {
        v::required_text("name", &self.name, max_len::NAME)?;
        validate_time_zone("time_zone", &self.time_zone)?;
        validate_tax_rate("tax_rate_bp", self.tax_rate_bp)?;
        if let Some(b) = &self.business {
            b.validate()?;
        }
        Ok(())
    }
}

/// A tax rate between 0 and [`MAX_TAX_RATE_BP`].
pub fn validate_tax_rate(field: &str, bp: u32) -> Valid {
    if bp > MAX_TAX_RATE_BP {
        return Err(ValidationError::new(
            field,
            format!(
                "is {bp} basis points ({}.{:02} %), which is not a real tax rate; enter it in basis points, e.g. 1900 for 19 %",
                bp / 100,
                bp % 100
            ),
        ));
    }
    Ok(())
}

/// The shape of an IANA time zone name (`UTC`, `Europe/Berlin`, `America/Argentina/Salta`,
/// `Etc/GMT+1`). The zone database is not in core (it would weigh on the browser bundle),
/// so the server checks existence; this catches typos like offsets or abbreviations.
pub fn validate_time_zone(field: &str, tz: &str) -> Valid {
    let err = || {
        ValidationError::new(
            field,
            format!(
                "`{tz}` is not a time zone name; pick one like Europe/Berlin or America/New_York"
            ),
        )
    };
    if tz == "UTC" {
        return Ok(());
    }
    if tz.is_empty()
        || tz.len() > 64
        || tz.starts_with('/')
        || tz.ends_with('/')
        || !tz.contains('/')
    {
        return Err(err());
    }
    let parts_ok = tz.split('/').all(|p| {
        p.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
    });
    if parts_ok { Ok(()) } else { Err(err()) }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn shop() -> NewShop {
        NewShop {
            name: "Layer Lane".into(),
            currency: Currency::EUR,
            time_zone: "Europe/Berlin".into(),
            tax_rate_bp: 1900,
            prices_include_tax: true,
        }
    }

    #[test]
    fn valid_shop_passes() {
        shop().validate().unwrap();
        let json = r#"{"name":"x","currency":"USD","time_zone":"America/New_York"}"#;
        let s: NewShop = serde_json::from_str(json).unwrap();
        assert!(s.prices_include_tax);
        s.validate().unwrap();
    }

    #[test]
    fn rejects_bad_settings() {
        let mut s = shop();
        s.time_zone = "CET+1".into();
        assert_eq!(s.validate().unwrap_err().field, "time_zone");
        let mut s = shop();
        s.tax_rate_bp = 19_000;
        assert_eq!(s.validate().unwrap_err().field, "tax_rate_bp");
        assert!(
            serde_json::from_str::<NewShop>(r#"{"name":"x","currency":"EURO","time_zone":"UTC"}"#)
                .is_err()
        );
        assert!(validate_time_zone("tz", "America/Argentina/Salta").is_ok());
        assert!(validate_time_zone("tz", "Etc/GMT+1").is_ok());
        assert!(validate_time_zone("tz", "europe/berlin").is_err());
    }

    #[test]
    fn patch_rejects_unknown_fields() {
        assert!(serde_json::from_str::<ShopPatch>(r#"{"nmae":"x"}"#).is_err());
        let p: ShopPatch = serde_json::from_str(r#"{"tax_rate_bp":700}"#).unwrap();
        p.validate().unwrap();
    }

    #[test]
    fn machine_cost_per_hour() {
        let p: ShopPatch = serde_json::from_str(r#"{"machine_cost_per_hour":45}"#).unwrap();
        assert_eq!(p.machine_cost_per_hour, Some(Minor(45)));
        p.validate().unwrap();
        let p: ShopPatch = serde_json::from_str(r#"{"machine_cost_per_hour":-1}"#).unwrap();
        assert_eq!(p.validate().unwrap_err().field, "machine_cost_per_hour");
        let p: ShopPatch = serde_json::from_str(r#"{"machine_cost_per_hour":100001}"#).unwrap();
        assert!(p.validate().is_err());
    }
}

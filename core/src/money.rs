//! Money as integer minor units of a shop's currency.
//!
//! Amounts never pass through floating point. A shop has one currency
//! ([`Currency`], an ISO 4217 code); every amount of that shop is a [`Minor`]
//! in that currency's minor unit (cents for EUR/USD, yen for JPY, fils for KWD).
//!
//! Rounding rule used everywhere a fraction of a minor unit appears
//! (percentage discounts, tax): **round half away from zero**, once, on the
//! whole amount (never per line). See [`div_round_half_away`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An amount in the minor unit of the shop's currency (cents for EUR/USD).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Minor(pub i64);

impl Minor {
    /// Zero.
    pub const ZERO: Minor = Minor(0);

    /// Formats with two decimals, e.g. `Minor(1250)` as `12.50`.
    pub fn to_decimal_string(self) -> String {
        self.format_with_exponent(2)
    }

    /// Formats with the currency's number of decimals, e.g. `Minor(1250)` in JPY as `1250`,
    /// in KWD as `1.250`.
    pub fn format_in(self, currency: Currency) -> String {
        self.format_with_exponent(currency.exponent())
    }

    fn format_with_exponent(self, exponent: u8) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        if exponent == 0 {
            return format!("{sign}{abs}");
        }
        let scale = 10u64.pow(u32::from(exponent));
        let width = usize::from(exponent);
        format!("{sign}{}.{:0width$}", abs / scale, abs % scale)
    }

    /// `self + other`, or `None` on overflow.
    pub fn checked_add(self, other: Minor) -> Option<Minor> {
        self.0.checked_add(other.0).map(Minor)
    }

    /// `self - other`, or `None` on overflow.
    pub fn checked_sub(self, other: Minor) -> Option<Minor> {
        self.0.checked_sub(other.0).map(Minor)
    }

    /// `self * quantity`, or `None` on overflow.
    pub fn checked_mul(self, quantity: i64) -> Option<Minor> {
        self.0.checked_mul(quantity).map(Minor)
    }

    /// The part `basis_points / 10_000` of this amount, rounded half away from zero.
    pub fn percent_bp(self, basis_points: u32) -> Minor {
        let n = i128::from(self.0) * i128::from(basis_points);
        Minor(clamp_i128(div_round_half_away(n, 10_000)))
    }
}

impl fmt::Display for Minor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal_string())
    }
}

/// `n / d` rounded half away from zero (2.5 → 3, -2.5 → -3, 2.4 → 2). `d` must be positive;
/// a zero `d` gives 0.
pub fn div_round_half_away(n: i128, d: i128) -> i128 {
    if d <= 0 {
        return 0;
    }
    let q = n / d;
    let r = n % d;
    if r.abs() * 2 >= d {
        if n < 0 { q - 1 } else { q + 1 }
    } else {
        q
    }
}

pub(crate) fn clamp_i128(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// An ISO 4217 currency code a shop can trade in (funds, metals and test codes excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency([u8; 3]);

/// Active ISO 4217 codes usable by a shop, with their number of minor-unit digits
/// where that is not 2.
const CURRENCIES: &str = "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB \
BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB \
EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY \
KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR \
MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF \
SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS \
UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG";
const ZERO_DECIMALS: &str = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF";
const THREE_DECIMALS: &str = "BHD IQD JOD KWD LYD OMR TND";

/// Why a currency code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not an ISO 4217 currency code a shop can use; use three capital letters such as EUR, USD or GBP"
)]
pub struct UnknownCurrency(pub String);

impl Currency {
    /// The euro.
    pub const EUR: Currency = Currency(*b"EUR");

    /// Parses an upper-case ISO 4217 code.
    pub fn parse(code: &str) -> Result<Currency, UnknownCurrency> {
        let bytes = code.as_bytes();
        let ok = bytes.len() == 3
            && bytes.iter().all(u8::is_ascii_uppercase)
            && CURRENCIES.split(' ').any(|c| c == code);
        match (ok, <[u8; 3]>::try_from(bytes)) {
            (true, Ok(arr)) => Ok(Currency(arr)),
            _ => Err(UnknownCurrency(code.to_owned())),
        }
    }

    /// The three-letter code.
    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Number of digits after the decimal point (2 for EUR, 0 for JPY, 3 for KWD).
    pub fn exponent(&self) -> u8 {
        let code = self.code();
        if ZERO_DECIMALS.split(' ').any(|c| c == code) {
            0
        } else if THREE_DECIMALS.split(' ').any(|c| c == code) {
            3
        } else {
            2
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = UnknownCurrency;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn formats_minor_units() {
        assert_eq!(Minor(1250).to_decimal_string(), "12.50");
        assert_eq!(Minor(-5).to_decimal_string(), "-0.05");
        assert_eq!(Minor(0).to_decimal_string(), "0.00");
    }

    #[test]
    fn formats_in_currency_exponent() {
        let jpy = Currency::parse("JPY").unwrap();
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(Minor(1250).format_in(jpy), "1250");
        assert_eq!(Minor(1250).format_in(kwd), "1.250");
        assert_eq!(Minor(1250).format_in(Currency::EUR), "12.50");
    }

    #[test]
    fn currency_codes_are_checked() {
        assert!(Currency::parse("EUR").is_ok());
        assert!(Currency::parse("eur").is_err());
        assert!(Currency::parse("EURO").is_err());
        assert!(Currency::parse("ABC").is_err());
        assert!(
            Currency::parse("XAU").is_err(),
            "gold is not a shop currency"
        );
        let c: Currency = serde_json::from_str("\"GBP\"").unwrap();
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"GBP\"");
        assert!(serde_json::from_str::<Currency>("\"ZZZ\"").is_err());
    }

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(div_round_half_away(25, 10), 3);
        assert_eq!(div_round_half_away(24, 10), 2);
        assert_eq!(div_round_half_away(-25, 10), -3);
        assert_eq!(div_round_half_away(-24, 10), -2);
        assert_eq!(Minor(999).percent_bp(1900), Minor(190)); // 189.81
        assert_eq!(Minor(50).percent_bp(1000), Minor(5));
        assert_eq!(Minor(5).percent_bp(5000), Minor(3)); // 2.5 → 3
    }
}

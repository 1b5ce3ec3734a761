//! Weights: integer centigrams (0.01 g), never floating point.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A weight in centigrams (hundredths of a gram). `Centigrams(123_456)` is 1234.56 g.
/// In JSON it is the plain integer; field names carry the unit (`net_weight_cg`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Centigrams(pub i64);

impl Centigrams {
    /// Zero grams.
    pub const ZERO: Centigrams = Centigrams(0);
    /// One kilogram.
    pub const KG: Centigrams = Centigrams(100_000);

    /// Whole grams.
    pub const fn from_grams(g: i64) -> Self {
        Centigrams(g * 100)
    }

    /// Parses a decimal number of grams with at most two decimals (`"12"`, `"12.5"`, `"-0.05"`).
    pub fn parse_grams(s: &str) -> Option<Centigrams> {
        let s = s.trim();
        let (neg, s) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if int.is_empty()
            || frac.len() > 2
            || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit())
        {
            return None;
        }
        let whole: i64 = int.parse().ok()?;
        let frac_cg: i64 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<2}").parse().ok()?
        };
        let v = whole.checked_mul(100)?.checked_add(frac_cg)?;
        Some(Centigrams(if neg { -v } else { v }))
    }

    /// `12.34 g` style text.
    pub fn to_grams_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        format!("{sign}{}.{:02} g", a / 100, a % 100)
    }
}

impl fmt::Display for Centigrams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_grams_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_grams() {
        assert_eq!(Centigrams::parse_grams("12.5"), Some(Centigrams(1250)));
        assert_eq!(Centigrams::parse_grams("12"), Some(Centigrams(1200)));
        assert_eq!(Centigrams::parse_grams("-0.05"), Some(Centigrams(-5)));
        assert_eq!(Centigrams::parse_grams("1.234"), None);
        assert_eq!(Centigrams::parse_grams("abc"), None);
        assert_eq!(Centigrams(123_456).to_grams_string(), "1234.56 g");
        assert_eq!(Centigrams(-5).to_string(), "-0.05 g");
    }
}

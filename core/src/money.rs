//! Money as integer minor units of a shop's currency.

use serde::{Deserialize, Serialize};

/// An amount in the minor unit of the shop's currency (cents for EUR/USD).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Minor(pub i64);

impl Minor {
    /// Formats with two decimals, e.g. `Minor(1250)` as `12.50`.
    pub fn to_decimal_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_minor_units() {
        assert_eq!(Minor(1250).to_decimal_string(), "12.50");
        assert_eq!(Minor(-5).to_decimal_string(), "-0.05");
        assert_eq!(Minor(0).to_decimal_string(), "0.00");
    }
}

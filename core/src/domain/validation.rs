//! The validation error and the small checks every entity shares.

use serde::{Deserialize, Serialize};

/// Maximum lengths, in characters.
pub mod max_len {
    /// Names of things (shop, model, product, printer, event, colour).
    pub const NAME: usize = 120;
    /// Short codes: SKU, lot number, article number, location/bin, NFC tag id.
    pub const CODE: usize = 64;
    /// A barcode or QR payload.
    pub const BARCODE: usize = 256;
    /// Free-text notes.
    pub const NOTES: usize = 4000;
    /// A URL.
    pub const URL: usize = 2048;
    /// One tag.
    pub const TAG: usize = 40;
    /// Number of tags on one thing.
    pub const TAGS: usize = 32;
    /// An email address.
    pub const EMAIL: usize = 254;
    /// A postal address.
    pub const ADDRESS: usize = 500;
}

/// A value that cannot be accepted, naming the field and saying what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    /// The field at fault, in the JSON spelling (`lines[2].quantity` for nested ones).
    pub field: String,
    /// What is wrong and how to fix it, fit to show a user.
    pub message: String,
}

impl ValidationError {
    /// A new error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same error for a field nested under `prefix` (`lines[2]` + `quantity`).
    pub fn within(self, prefix: &str) -> Self {
        Self {
            field: format!("{prefix}.{}", self.field),
            message: self.message,
        }
    }
}

/// Result of a validation.
pub type Valid = Result<(), ValidationError>;

/// A required one-line text: not blank, at most `max` characters, no control characters.
pub fn required_text(field: &str, value: &str, max: usize) -> Valid {
    if value.trim().is_empty() {
        return Err(ValidationError::new(field, "is empty; enter a value"));
    }
    optional_text(field, Some(value), max)
}

/// An optional one-line text: at most `max` characters, no control characters.
pub fn optional_text(field: &str, value: Option<&str>, max: usize) -> Valid {
    let Some(value) = value else { return Ok(()) };
    let n = value.chars().count();
    if n > max {
        return Err(ValidationError::new(
            field,
            format!("is {n} characters long; shorten it to at most {max}"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "contains a line break or control character; keep it on one line",
        ));
    }
    Ok(())
}

/// Multi-line free text (notes): at most `max` characters; line breaks and tabs allowed.
pub fn notes(field: &str, value: Option<&str>, max: usize) -> Valid {
    let Some(value) = value else { return Ok(()) };
    let n = value.chars().count();
    if n > max {
        return Err(ValidationError::new(
            field,
            format!("is {n} characters long; shorten it to at most {max}"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(ValidationError::new(
            field,
            "contains a control character; remove it",
        ));
    }
    Ok(())
}

/// Tags: at most [`max_len::TAGS`] tags, each non-blank, at most [`max_len::TAG`] characters.
pub fn tags(field: &str, tags: &[String]) -> Valid {
    if tags.len() > max_len::TAGS {
        return Err(ValidationError::new(
            field,
            format!("has {} tags; keep at most {}", tags.len(), max_len::TAGS),
        ));
    }
    for (i, t) in tags.iter().enumerate() {
        required_text(&format!("{field}[{i}]"), t, max_len::TAG)?;
    }
    Ok(())
}

/// An optional http(s) URL.
pub fn optional_url(field: &str, value: Option<&str>) -> Valid {
    let Some(v) = value else { return Ok(()) };
    optional_text(field, Some(v), max_len::URL)?;
    let lower = v.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(' ') => Ok(()),
        _ => Err(ValidationError::new(
            field,
            "is not a web address; paste a link starting with https://",
        )),
    }
}

/// An integer within `min..=max`, with a message naming the unit.
pub fn in_range(field: &str, value: i64, min: i64, max: i64, unit: &str) -> Valid {
    if value < min {
        if min == 0 {
            return Err(ValidationError::new(
                field,
                format!("is negative ({value}{unit}); enter 0 or more"),
            ));
        }
        return Err(ValidationError::new(
            field,
            format!("is {value}{unit}; enter at least {min}{unit}"),
        ));
    }
    if value > max {
        return Err(ValidationError::new(
            field,
            format!("is {value}{unit}, which is not plausible; enter at most {max}{unit}"),
        ));
    }
    Ok(())
}

/// A GTIN/EAN (8, 12, 13 or 14 digits) with a correct check digit.
pub fn gtin(field: &str, value: &str) -> Valid {
    let digits: Vec<u32> = value.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != value.len() || ![8, 12, 13, 14].contains(&digits.len()) {
        return Err(ValidationError::new(
            field,
            "is not an EAN/UPC; enter the 8, 12, 13 or 14 digits under the barcode",
        ));
    }
    let (body, check) = digits.split_at(digits.len() - 1);
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { d * 3 } else { *d })
        .sum();
    let expected = (10 - sum % 10) % 10;
    if check.first() != Some(&expected) {
        return Err(ValidationError::new(
            field,
            "has a wrong check digit; re-type it or scan the barcode again",
        ));
    }
    Ok(())
}

/// A `#rrggbb` colour.
pub fn hex_colour(field: &str, value: &str) -> Valid {
    let ok = value.len() == 7
        && value.starts_with('#')
        && value.chars().skip(1).all(|c| c.is_ascii_hexdigit());
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            format!("`{value}` is not a colour; use # and six hex digits, like #1a2b3c"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_checks() {
        assert!(required_text("name", "  ", 10).is_err());
        assert!(required_text("name", "ok", 10).is_ok());
        let e = required_text("name", &"x".repeat(11), 10).err();
        assert_eq!(
            e.map(|e| e.message),
            Some("is 11 characters long; shorten it to at most 10".into())
        );
        assert!(optional_text("sku", Some("a\nb"), 10).is_err());
        assert!(notes("notes", Some("a\nb"), 10).is_ok());
    }

    #[test]
    fn gtin_checksums() {
        assert!(gtin("ean", "4006381333931").is_ok());
        assert!(gtin("ean", "4006381333932").is_err());
        assert!(gtin("ean", "96385074").is_ok());
        assert!(gtin("ean", "036000291452").is_ok());
        assert!(gtin("ean", "12345").is_err());
        assert!(gtin("ean", "40063813339x1").is_err());
    }

    #[test]
    fn colours_and_urls() {
        assert!(hex_colour("hex", "#A1b2C3").is_ok());
        assert!(hex_colour("hex", "A1b2C3").is_err());
        assert!(hex_colour("hex", "#A1b2C").is_err());
        assert!(optional_url("url", Some("https://www.printables.com/model/1")).is_ok());
        assert!(optional_url("url", Some("ftp://x")).is_err());
        assert!(in_range("q", -1, 0, 10, " g").is_err());
        assert!(in_range("q", 11, 0, 10, " g").is_err());
    }
}

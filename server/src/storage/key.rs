//! Object keys: `/`-separated segments of safe characters, never `..`, never built from
//! user-supplied names without escaping them first.

use std::fmt;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "{0:?} is not a valid file key: use segments of letters, digits, '.', '_', '-' and '%' separated by '/'"
)]
pub struct KeyError(pub String);

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey(String);

const MAX_KEY_LEN: usize = 900;

impl ObjectKey {
    /// Checks a key that came from outside (a URL path, a stored row).
    pub fn parse(raw: &str) -> Result<Self, KeyError> {
        let valid = !raw.is_empty()
            && raw.len() <= MAX_KEY_LEN
            && raw.split('/').all(|segment| {
                !segment.is_empty()
                    && segment != "."
                    && segment != ".."
                    && segment.bytes().all(|b| {
                        b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'%')
                    })
            });
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(KeyError(raw.to_owned()))
        }
    }

    /// The folder that holds everything of one shop.
    pub fn shop_prefix(shop_id: uuid::Uuid) -> Self {
        Self(format!("shops/{shop_id}"))
    }

    /// Appends one segment, escaping anything outside the safe set (so a user's file name
    /// like `../../etc/passwd` becomes `..%2F..%2Fetc%2Fpasswd`, a plain name).
    pub fn join(&self, segment: &str) -> Self {
        Self(format!("{}/{}", self.0, escape_segment(segment)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn starts_with(&self, prefix: &ObjectKey) -> bool {
        self.0 == prefix.0 || self.0.starts_with(&format!("{}/", prefix.0))
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn escape_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-') || (b == b'.' && !out.is_empty()) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.is_empty() {
        out.push_str("%00");
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn refuses_traversal_and_odd_characters() {
        for bad in [
            "", "../x", "a//b", "a/../b", "a/b c", "/a", "a/", "a/./b", "ä",
        ] {
            assert!(ObjectKey::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(ObjectKey::parse("shops/1f/models/a.3mf").is_ok());
    }

    #[test]
    fn user_names_are_escaped_into_one_safe_segment() {
        let prefix = ObjectKey::parse("shops/abc").unwrap();
        let key = prefix.join("../../etc/passwd");
        assert_eq!(key.as_str(), "shops/abc/%2E.%2F..%2Fetc%2Fpasswd");
        assert!(ObjectKey::parse(key.as_str()).is_ok());
        assert!(key.starts_with(&prefix));
        assert_eq!(prefix.join("").as_str(), "shops/abc/%00");
        assert_eq!(
            prefix.join("Benchy 2.gcode").as_str(),
            "shops/abc/Benchy%202.gcode"
        );
    }

    #[test]
    fn prefix_match_is_by_whole_segments() {
        let a = ObjectKey::parse("shops/ab").unwrap();
        assert!(!ObjectKey::parse("shops/abc/x").unwrap().starts_with(&a));
        assert!(ObjectKey::parse("shops/ab/x").unwrap().starts_with(&a));
    }
}

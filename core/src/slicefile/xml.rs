//! Helpers over quick-xml events. Entities are never expanded beyond the five predefined ones
//! and numeric character references, so an entity bomb stays its own size.

use quick_xml::events::BytesStart;

/// Local name (no namespace prefix) of an element.
pub(crate) fn name(e: &BytesStart<'_>) -> Vec<u8> {
    e.local_name().as_ref().to_vec()
}

/// Value of the attribute whose local name is `key`, unescaped, lossy UTF-8.
pub(crate) fn attr(e: &BytesStart<'_>, key: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == key.as_bytes())
        .map(|a| unescape(&a.value))
}

/// Raw attribute value (numbers need no unescaping).
pub(crate) fn attr_f64(e: &BytesStart<'_>, key: &str) -> Option<f64> {
    let a = e
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == key.as_bytes())?;
    let s = std::str::from_utf8(&a.value).ok()?;
    super::text::parse_f64(s)
}

/// `&lt;` `&gt;` `&amp;` `&quot;` `&apos;` and `&#…;`; any other reference is kept as written.
pub(crate) fn unescape(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    if !s.contains('&') {
        return s.into_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest: &str = &s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|&e| e <= 12) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_only_predefined_entities() {
        assert_eq!(
            unescape(b"Brown &amp; White &#x41;&#66;"),
            "Brown & White AB"
        );
        assert_eq!(unescape(b"&lol9;&lol9;"), "&lol9;&lol9;");
        assert_eq!(unescape(b"a & b"), "a & b");
        assert_eq!(unescape(b"&#xFFFFFFFF;"), "&#xFFFFFFFF;");
    }
}

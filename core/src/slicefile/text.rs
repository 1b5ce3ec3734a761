//! Small text helpers: line splitting (LF, CRLF, lone CR), numbers, durations, lists,
//! colours and a lenient base64 decoder.

use std::borrow::Cow;

/// Splits on `\n`, `\r\n` and lone `\r`. The last line is returned even without a newline.
pub(crate) fn lines(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = buf;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            Some(i) => {
                let line = &rest[..i];
                let skip = if rest[i] == b'\r' && rest.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                rest = &rest[i + skip..];
                Some(line)
            }
            None => {
                let line = rest;
                rest = &[];
                Some(line)
            }
        }
    })
}

pub(crate) fn lossy(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

/// True when the bytes look like text (G-code): no NULs and few control characters.
pub(crate) fn looks_like_text(buf: &[u8]) -> bool {
    if buf.is_empty() {
        return false;
    }
    let bad = buf
        .iter()
        .filter(|&&b| b == 0 || (b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0c)))
        .count();
    !buf.contains(&0) && bad * 100 <= buf.len()
}

/// A finite `f64` from the whole (trimmed) string.
pub(crate) fn parse_f64(s: &str) -> Option<f64> {
    let v: f64 = s.trim().parse().ok()?;
    v.is_finite().then_some(v)
}

/// The number at the start of `s` (`"0.27387m"` → 0.27387, `"65.73, 0.00"` → 65.73).
pub(crate) fn leading_f64(s: &str) -> Option<f64> {
    let s = s.trim_start();
    let bytes = s.as_bytes();
    let mut end = 0;
    let mut seen_digit = false;
    let mut seen_dot = false;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'+' | b'-' if i == 0 => {}
            b'0'..=b'9' => seen_digit = true,
            b'.' if !seen_dot => seen_dot = true,
            _ => break,
        }
        end = i + 1;
    }
    if !seen_digit {
        return None;
    }
    parse_f64(s.get(..end)?)
}

/// All numbers in `s`, in order (`"76.501 123.499 94.994"`).
pub(crate) fn numbers(s: &str) -> Vec<f64> {
    s.split(|c: char| c.is_whitespace() || c == ',')
        .filter_map(parse_f64)
        .collect()
}

/// A non-negative whole count.
pub(crate) fn parse_count(s: &str) -> Option<u32> {
    let v = leading_f64(s)?;
    (v >= 0.0 && v <= f64::from(u32::MAX)).then(|| v.round() as u32)
}

/// Seconds as a `u64` (negative or absurd values give `None`).
pub(crate) fn seconds(v: f64) -> Option<u64> {
    // 100 years is more than any print.
    (v.is_finite() && (0.0..=3.2e9).contains(&v)).then(|| v.round() as u64)
}

/// A duration written with units: `1d 2h 3m 4s`, `57s`, `3m 41s`, `0 hours 31 minutes`,
/// `1 hour 2 min 3 sec`. Returns `None` when no number with a unit is found.
pub(crate) fn parse_duration(s: &str) -> Option<u64> {
    let mut total = 0.0_f64;
    let mut found = false;
    let mut rest = s.trim();
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            // Skip one character of noise (commas, words without numbers).
            let skip = rest.chars().next().map_or(1, char::len_utf8);
            rest = rest.get(skip..).unwrap_or("");
            continue;
        }
        let number = parse_f64(rest.get(..num_len)?)?;
        rest = rest.get(num_len..)?.trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = rest.get(..unit_len)?.to_ascii_lowercase();
        rest = rest.get(unit_len..)?;
        let factor = match unit.as_str() {
            "d" | "day" | "days" => 86_400.0,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3_600.0,
            "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
            "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
            _ => continue,
        };
        total += number * factor;
        found = true;
    }
    if found { seconds(total) } else { None }
}

/// Splits a slicer list value on `;` or `,` outside double quotes, trims each item and removes
/// the quotes: `"A; B";"C"` → [`A; B`, `C`], `65.73, 0.00` → [`65.73`, `0.00`].
pub(crate) fn split_list(value: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' if quoted => {
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            ';' | ',' if !quoted => items.push(std::mem::take(&mut current).trim().to_string()),
            _ => current.push(c),
        }
    }
    let last = current.trim().to_string();
    if !last.is_empty() || !items.is_empty() {
        items.push(last);
    }
    items
}

/// Removes one pair of surrounding double quotes.
pub(crate) fn unquote(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
}

/// `#rrggbb` or `#rrggbbaa` → `#RRGGBB`; anything else → `None`.
pub(crate) fn color_hex(s: &str) -> Option<String> {
    let hex = unquote(s).strip_prefix('#')?;
    if !(hex.len() == 6 || hex.len() == 8) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(format!("#{}", hex.get(..6)?.to_ascii_uppercase()))
}

/// Decodes base64, skipping anything outside the alphabet (spaces, `;`, line ends) and stopping
/// at `=`. Never fails: garbage gives short output that the image sniffing rejects.
pub(crate) fn base64_decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &c in input {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1d 2h 3m 4s"), Some(93_784));
        assert_eq!(parse_duration("57s"), Some(57));
        assert_eq!(parse_duration("3m 41s"), Some(221));
        assert_eq!(parse_duration("1h 5m 41s"), Some(3_941));
        assert_eq!(parse_duration("2h4m35s"), Some(7_475));
        assert_eq!(parse_duration("0 hours 31 minutes"), Some(1_860));
        assert_eq!(parse_duration("1 hour 2 min 3 sec"), Some(3_723));
        assert_eq!(parse_duration("1.62 minutes"), Some(97));
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration("99999999999999999999d"), None);
    }

    #[test]
    fn lists() {
        assert_eq!(split_list("65.73, 0.00, 0"), ["65.73", "0.00", "0"]);
        assert_eq!(split_list("PETG;PETG;PLA"), ["PETG", "PETG", "PLA"]);
        assert_eq!(split_list("230,230,240"), ["230", "230", "240"]);
        assert_eq!(
            split_list(r#""Generic PETG @XL";"Prusament PLA, Galaxy";"x \"y\"""#),
            ["Generic PETG @XL", "Prusament PLA, Galaxy", "x \"y\""]
        );
        assert_eq!(split_list(""), Vec::<String>::new());
        assert_eq!(split_list("\"\""), Vec::<String>::new());
    }

    #[test]
    fn numbers_and_colours() {
        assert_eq!(leading_f64("0.27387m"), Some(0.27387));
        assert_eq!(leading_f64(" 52.8894mm3"), Some(52.8894));
        assert_eq!(
            leading_f64("0.01; total filament used [g] = 0.59"),
            Some(0.01)
        );
        assert_eq!(leading_f64("-"), None);
        assert_eq!(leading_f64("NaN"), None);
        assert_eq!(parse_f64("inf"), None);
        assert_eq!(color_hex("#f2f2f2ff"), Some("#F2F2F2".into()));
        assert_eq!(color_hex("\"\""), None);
        assert_eq!(color_hex("#12"), None);
    }

    #[test]
    fn line_endings() {
        let all: Vec<&[u8]> = lines(b"a\nb\r\nc\rd").collect();
        assert_eq!(all, [&b"a"[..], b"b", b"c", b"d"]);
        let blank: Vec<&[u8]> = lines(b"\r\n\r\n").collect();
        assert_eq!(blank.len(), 2);
    }

    #[test]
    fn base64() {
        assert_eq!(base64_decode(b"aGVsbG8="), b"hello");
        assert_eq!(base64_decode(b"; aGVs\r\n; bG8="), b"hello");
        assert_eq!(base64_decode(b""), b"");
    }
}

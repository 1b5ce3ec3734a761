//! Embedded thumbnails: format sniffing and image-size reading (PNG, JPEG, QOI), and the
//! base64 `; thumbnail begin WxH N` … `; thumbnail end` blocks of ASCII G-code.

use super::{SliceInfo, Thumbnail, ThumbnailFormat, text};

/// Larger sides than this are not thumbnails (and would be costly to decode downstream).
pub(crate) const MAX_SIDE: u32 = 8192;
/// Thumbnails kept per file.
pub(crate) const MAX_COUNT: usize = 32;
/// Encoded bytes kept per thumbnail.
pub(crate) const MAX_BYTES: usize = 8 * 1024 * 1024;

/// Format from the magic bytes.
pub(crate) fn sniff(data: &[u8]) -> Option<ThumbnailFormat> {
    if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ThumbnailFormat::Png)
    } else if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ThumbnailFormat::Jpg)
    } else if data.starts_with(b"qoif") {
        Some(ThumbnailFormat::Qoi)
    } else {
        None
    }
}

fn be_u32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

fn be_u16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

/// Width and height from the image header.
pub(crate) fn dimensions(format: ThumbnailFormat, data: &[u8]) -> Option<(u32, u32)> {
    match format {
        ThumbnailFormat::Png => {
            (data.get(12..16)? == b"IHDR").then_some(())?;
            Some((be_u32(data, 16)?, be_u32(data, 20)?))
        }
        ThumbnailFormat::Qoi => Some((be_u32(data, 4)?, be_u32(data, 8)?)),
        ThumbnailFormat::Jpg => jpeg_dimensions(data),
    }
}

fn jpeg_dimensions(data: &[u8]) -> Option<(u32, u32)> {
    let mut i = 2;
    // Every step moves forward by at least 2 bytes, so this ends.
    while i + 4 <= data.len() {
        if data[i] != 0xFF {
            return None;
        }
        let marker = data[i + 1];
        if marker == 0xFF {
            i += 1;
            continue;
        }
        if matches!(marker, 0xD8 | 0x01 | 0xD0..=0xD7) {
            i += 2;
            continue;
        }
        let len = usize::from(be_u16(data, i + 2)?);
        let is_sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_sof {
            let h = be_u16(data, i + 5)?;
            let w = be_u16(data, i + 7)?;
            return Some((u32::from(w), u32::from(h)));
        }
        if len < 2 {
            return None;
        }
        i += 2 + len;
    }
    None
}

/// Checks an encoded image and adds it to `info`, or adds a warning saying why not.
/// `declared` is what the container says (tag size or bgcode block parameters).
pub(crate) fn add(info: &mut SliceInfo, data: Vec<u8>, declared: Option<(u32, u32)>, origin: &str) {
    if info.thumbnails.len() >= MAX_COUNT {
        info.warn(format!(
            "more than {MAX_COUNT} thumbnails; the rest are ignored"
        ));
        return;
    }
    if data.len() > MAX_BYTES {
        info.warn(format!(
            "thumbnail {origin} is larger than {MAX_BYTES} bytes; ignored"
        ));
        return;
    }
    let Some(format) = sniff(&data) else {
        info.warn(format!(
            "thumbnail {origin} is not a PNG, JPEG or QOI image; ignored"
        ));
        return;
    };
    let Some((width, height)) = dimensions(format, &data) else {
        info.warn(format!(
            "thumbnail {origin} has an unreadable image header; ignored"
        ));
        return;
    };
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        info.warn(format!(
            "thumbnail {origin} claims {width}x{height} pixels; ignored"
        ));
        return;
    }
    if let Some((w, h)) = declared.filter(|&d| d != (width, height)) {
        info.warn(format!(
            "thumbnail {origin} is declared {w}x{h} but the image is {width}x{height}"
        ));
    }
    let thumbnail = Thumbnail {
        width,
        height,
        format,
        bytes: data.len(),
    };
    info.push_thumbnail(thumbnail, data);
}

/// An open `; thumbnail… begin` block.
struct Open {
    declared: Option<(u32, u32)>,
    declared_len: Option<usize>,
    label: String,
    base64: Vec<u8>,
}

/// A decoded block: image bytes, declared size, label for messages.
type Decoded = (Vec<u8>, Option<(u32, u32)>, String);

/// Collects the base64 thumbnail blocks of ASCII G-code, one comment line at a time.
#[derive(Default)]
pub(crate) struct Collector {
    open: Option<Open>,
    done: Vec<Decoded>,
    warnings: Vec<String>,
}

fn is_tag(word: &str) -> bool {
    let w = word.to_ascii_lowercase();
    w == "thumbnail" || w.starts_with("thumbnail_") || w == "png" || w == "jpg"
}

/// `WxH`, `W*H`, or `W H` (old Cura script) followed by the base64 length.
fn parse_begin(args: &[&str]) -> (Option<(u32, u32)>, Option<usize>) {
    let dims = args.first().and_then(|d| {
        let (w, h) = d.split_once(['x', '*'])?;
        Some((w.parse().ok()?, h.parse().ok()?))
    });
    match dims {
        Some(d) => (Some(d), args.get(1).and_then(|n| n.parse().ok())),
        None => {
            let w = args.first().and_then(|s| s.parse().ok());
            let h = args.get(1).and_then(|s| s.parse().ok());
            let dims = w.zip(h);
            (dims, args.get(2).and_then(|n| n.parse().ok()))
        }
    }
}

impl Collector {
    /// Feeds one comment (without the leading `;`).
    pub(crate) fn line(&mut self, comment: &str) {
        let t = comment.trim_start_matches(';').trim();
        let words: Vec<&str> = t.split_whitespace().take(6).collect();
        let is_marker = words.len() >= 2 && is_tag(words[0]);
        if is_marker && words[1] == "begin" {
            if self.open.is_some() {
                self.warnings
                    .push("a thumbnail block is not closed before the next one".into());
            }
            let (declared, declared_len) = parse_begin(&words[2..]);
            self.open = Some(Open {
                declared,
                declared_len,
                label: words[2..].first().copied().unwrap_or("").to_string(),
                base64: Vec::new(),
            });
        } else if is_marker && words[1] == "end" {
            // The end tag may differ from the begin tag (Cura-DuetRRF: `thumbnail_QOI begin` …
            // `thumbnail end`).
            if let Some(open) = self.open.take() {
                self.finish(open);
            }
        } else if let Some(open) = self.open.as_mut() {
            if open.base64.len() + t.len() > MAX_BYTES * 4 / 3 + 4 {
                self.warnings
                    .push(format!("thumbnail {} is too large; ignored", open.label));
                self.open = None;
            } else {
                open.base64.extend_from_slice(t.as_bytes());
            }
        }
    }

    fn finish(&mut self, open: Open) {
        if let Some(n) = open.declared_len.filter(|&n| n != open.base64.len()) {
            self.warnings.push(format!(
                "thumbnail {} declares {n} base64 characters but has {}",
                open.label,
                open.base64.len()
            ));
        }
        let data = text::base64_decode(&open.base64);
        self.done.push((data, open.declared, open.label));
    }

    /// Adds the complete thumbnails to `info`; an unfinished block is dropped with a warning.
    pub(crate) fn into_info(mut self, info: &mut SliceInfo) {
        if let Some(open) = self.open.take() {
            self.warnings.push(format!(
                "thumbnail {} has no end line (file cut or window too small); ignored",
                open.label
            ));
        }
        for w in self.warnings {
            info.warn(w);
        }
        for (data, declared, label) in self.done {
            add(info, data, declared, &label);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sizes_from_headers() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&160u32.to_be_bytes());
        png.extend_from_slice(&120u32.to_be_bytes());
        assert_eq!(sniff(&png), Some(ThumbnailFormat::Png));
        assert_eq!(dimensions(ThumbnailFormat::Png, &png), Some((160, 120)));
        let qoi = [
            b"qoif".as_slice(),
            &16u32.to_be_bytes(),
            &8u32.to_be_bytes(),
            &[4, 0],
        ]
        .concat();
        assert_eq!(dimensions(ThumbnailFormat::Qoi, &qoi), Some((16, 8)));
        // SOI, APP0 (len 4), SOF0 with height 200, width 300.
        let jpg = [
            0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xC0, 0, 17, 8, 0, 200, 1, 44, 3,
        ];
        assert_eq!(dimensions(ThumbnailFormat::Jpg, &jpg), Some((300, 200)));
        assert_eq!(
            dimensions(ThumbnailFormat::Jpg, &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]),
            None
        );
    }

    #[test]
    fn begin_variants() {
        assert_eq!(
            parse_begin(&["160x120", "5616"]),
            (Some((160, 120)), Some(5616))
        );
        assert_eq!(
            parse_begin(&["300*300", "43108", "13"]),
            (Some((300, 300)), Some(43108))
        );
        assert_eq!(
            parse_begin(&["48", "48", "3584"]),
            (Some((48, 48)), Some(3584))
        );
        assert_eq!(parse_begin(&[]), (None, None));
    }
}

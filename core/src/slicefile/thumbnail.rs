//! Embedded thumbnails: format sniffing and image-size reading (PNG, JPEG, QOI), the
//! base64 `; thumbnail begin WxH N` … `; thumbnail end` blocks of ASCII G-code, and
//! [`web_sizes`]: the decoded picture as small PNGs for the web (128 and 512 px).

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

/// The longest side of each web size [`web_sizes`] makes.
pub const WEB_SIDES: [u32; 2] = [128, 512];
/// Pictures with a longer side than this are not decoded (a thumbnail is never that big).
pub const DECODE_MAX_SIDE: u32 = 4096;
/// Memory the decoder may allocate for one picture.
const DECODE_MAX_ALLOC: u64 = 96 * 1024 * 1024;

/// One web size of a thumbnail: a PNG whose longer side is at most `max_side`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebImage {
    pub max_side: u32,
    pub width: u32,
    pub height: u32,
    pub png: Vec<u8>,
}

/// Why a thumbnail could not be turned into web sizes.
#[derive(Debug, thiserror::Error)]
pub enum ThumbnailError {
    #[error("not a PNG, JPEG or QOI image")]
    UnknownFormat,
    #[error("the image header cannot be read")]
    BadHeader,
    #[error("the image claims {width}x{height} pixels (at most {DECODE_MAX_SIDE} per side)")]
    TooLarge { width: u32, height: u32 },
    #[error("the image cannot be decoded: {0}")]
    Decode(String),
    #[error("the PNG cannot be written: {0}")]
    Encode(String),
    #[error("no picture can be drawn from the model: {0}")]
    Render(#[from] super::raster::RenderError),
}

/// Decodes an embedded PNG, JPEG or QOI thumbnail and writes it as PNGs for the web: one per
/// [`WEB_SIDES`] entry, scaled down to fit (never up: a 300 px picture stays 300 px).
/// Absurd sizes are refused from the header before anything is decoded, and the decoder's
/// memory is capped.
pub fn web_sizes(data: &[u8]) -> Result<Vec<WebImage>, ThumbnailError> {
    let format = sniff(data).ok_or(ThumbnailError::UnknownFormat)?;
    let (width, height) = dimensions(format, data).ok_or(ThumbnailError::BadHeader)?;
    if width == 0 || height == 0 || width > DECODE_MAX_SIDE || height > DECODE_MAX_SIDE {
        return Err(ThumbnailError::TooLarge { width, height });
    }
    let image_format = match format {
        ThumbnailFormat::Png => image::ImageFormat::Png,
        ThumbnailFormat::Jpg => image::ImageFormat::Jpeg,
        ThumbnailFormat::Qoi => image::ImageFormat::Qoi,
    };
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(DECODE_MAX_SIDE);
    limits.max_image_height = Some(DECODE_MAX_SIDE);
    limits.max_alloc = Some(DECODE_MAX_ALLOC);
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(data), image_format);
    reader.limits(limits);
    let decoded = reader
        .decode()
        .map_err(|e| ThumbnailError::Decode(e.to_string()))?;
    // The header may lie about the size; the decoded picture is what counts.
    let (w, h) = (decoded.width(), decoded.height());
    if w == 0 || h == 0 || w > DECODE_MAX_SIDE || h > DECODE_MAX_SIDE {
        return Err(ThumbnailError::TooLarge {
            width: w,
            height: h,
        });
    }
    encode_web_sizes(&image::DynamicImage::ImageRgba8(decoded.into_rgba8()))
}

/// Draws the model of a file without a thumbnail (an STL, a plain 3MF) with the software
/// rasteriser and writes it as the same web-size PNGs as [`web_sizes`].
pub fn rendered_web_sizes(mesh: &super::Mesh) -> Result<Vec<WebImage>, ThumbnailError> {
    let side = WEB_SIDES.iter().copied().max().unwrap_or(512);
    let drawn = super::raster::render(mesh, side, side)?;
    let Rgba {
        width,
        height,
        pixels,
    } = drawn.image;
    let image = image::RgbaImage::from_raw(width, height, pixels)
        .ok_or_else(|| ThumbnailError::Encode("the drawn picture has the wrong size".into()))?;
    encode_web_sizes(&image::DynamicImage::ImageRgba8(image))
}

/// One PNG per [`WEB_SIDES`] entry, scaled down to fit (never up).
fn encode_web_sizes(rgba: &image::DynamicImage) -> Result<Vec<WebImage>, ThumbnailError> {
    let (w, h) = (rgba.width(), rgba.height());
    WEB_SIDES
        .iter()
        .map(|&side| {
            let scaled = if w.max(h) > side {
                rgba.thumbnail(side, side)
            } else {
                rgba.clone()
            };
            let mut png = Vec::new();
            scaled
                .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
                .map_err(|e| ThumbnailError::Encode(e.to_string()))?;
            Ok(WebImage {
                max_side: side,
                width: scaled.width(),
                height: scaled.height(),
                png,
            })
        })
        .collect()
}

/// Decoded pixels: `width * height` RGBA quadruplets, row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rgba {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

/// Decodes a QOI thumbnail to RGBA (browsers cannot show QOI; the app draws these pixels on a
/// canvas). Only the small `qoi` decoder is involved, so the app does not carry the PNG and
/// JPEG codecs of [`web_sizes`]. Sizes are checked from the header before decoding.
pub fn decode_qoi_rgba(data: &[u8]) -> Result<Rgba, ThumbnailError> {
    if sniff(data) != Some(ThumbnailFormat::Qoi) {
        return Err(ThumbnailError::UnknownFormat);
    }
    let (width, height) =
        dimensions(ThumbnailFormat::Qoi, data).ok_or(ThumbnailError::BadHeader)?;
    if width == 0 || height == 0 || width > DECODE_MAX_SIDE || height > DECODE_MAX_SIDE {
        return Err(ThumbnailError::TooLarge { width, height });
    }
    let mut decoder = qoi::Decoder::new(data)
        .map_err(|e| ThumbnailError::Decode(e.to_string()))?
        .with_channels(qoi::Channels::Rgba);
    let pixels = decoder
        .decode_to_vec()
        .map_err(|e| ThumbnailError::Decode(e.to_string()))?;
    Ok(Rgba {
        width,
        height,
        pixels,
    })
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

    fn fixture(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/fixtures/slicefiles")
            .join(name)
    }

    fn fixture_info(name: &str) -> SliceInfo {
        let mut f = std::fs::File::open(fixture(name)).unwrap();
        crate::slicefile::inspect(&mut f, name).unwrap()
    }

    /// Decodes the PNG we wrote and returns its size and one pixel.
    fn check_png(web: &WebImage) -> (u32, u32) {
        let img = image::load_from_memory_with_format(&web.png, image::ImageFormat::Png).unwrap();
        assert_eq!((img.width(), img.height()), (web.width, web.height));
        assert!(web.width.max(web.height) <= web.max_side);
        (img.width(), img.height())
    }

    #[test]
    fn web_sizes_of_every_format_in_the_fixtures() {
        // (file, thumbnail index, format, expected 128 size, expected 512 size)
        let cases = [
            // QOI blocks of a PrusaSlicer .bgcode: 480x240 and 313x173.
            (
                "prusaslicer_2.9.2_xl5is_5tool.bgcode",
                2,
                ThumbnailFormat::Qoi,
                (128, 64),
                (480, 240),
            ),
            (
                "prusaslicer_2.9.2_xl5is_5tool.bgcode",
                1,
                ThumbnailFormat::Qoi,
                (128, 71),
                (313, 173),
            ),
            // The PNG block of the same file: 380x285.
            (
                "prusaslicer_2.9.2_xl5is_5tool.bgcode",
                3,
                ThumbnailFormat::Png,
                (128, 96),
                (380, 285),
            ),
            // Bambu's 512x512 plate picture.
            (
                "bambustudio_1.7.6_sliced_plate_RECONSTRUCTED.gcode.3mf",
                0,
                ThumbnailFormat::Png,
                (128, 128),
                (512, 512),
            ),
        ];
        for (name, index, format, small, large) in cases {
            let info = fixture_info(name);
            assert_eq!(info.thumbnails[index].format, format, "{name} #{index}");
            let sizes = web_sizes(&info.thumbnail_data[index]).unwrap();
            assert_eq!(sizes.len(), 2);
            assert_eq!(check_png(&sizes[0]), small, "{name} #{index}");
            assert_eq!(check_png(&sizes[1]), large, "{name} #{index}");
        }
        // Cura's Duet plugin writes QOI thumbnails in base64 blocks: all decode.
        let cura = fixture_info("cura_4.13.1_duetplugin_qoi_thumbs.gcode");
        assert!(
            cura.thumbnails
                .iter()
                .all(|t| t.format == ThumbnailFormat::Qoi)
        );
        for (t, data) in cura.thumbnails.iter().zip(&cura.thumbnail_data) {
            let sizes = web_sizes(data).unwrap();
            assert_eq!(check_png(&sizes[1]), (t.width, t.height));
        }
    }

    #[test]
    fn web_sizes_of_jpeg_and_all_other_fixture_thumbnails() {
        // Encode a real picture as JPEG (there is no JPEG thumbnail among the fixtures).
        let info = fixture_info("prusaslicer_2.9.2_xl5is_5tool.bgcode");
        let png = image::load_from_memory(&info.thumbnail_data[3])
            .unwrap()
            .into_rgb8();
        let mut jpg = Vec::new();
        png.write_to(
            &mut std::io::Cursor::new(&mut jpg),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
        assert_eq!(sniff(&jpg), Some(ThumbnailFormat::Jpg));
        let sizes = web_sizes(&jpg).unwrap();
        assert_eq!(check_png(&sizes[0]), (128, 96));
        assert_eq!(check_png(&sizes[1]), (380, 285));
        // Every thumbnail in every fixture turns into web sizes.
        let dir = fixture("");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            let Ok(info) =
                crate::slicefile::inspect(&mut std::fs::File::open(&path).unwrap(), &name)
            else {
                continue;
            };
            for data in &info.thumbnail_data {
                web_sizes(data).unwrap_or_else(|e| panic!("{name}: {e}"));
            }
        }
    }

    #[test]
    fn absurd_or_broken_images_are_refused_without_decoding() {
        // A QOI header claiming 100000 x 100000 pixels.
        let qoi = [
            b"qoif".as_slice(),
            &100_000u32.to_be_bytes(),
            &100_000u32.to_be_bytes(),
            &[4, 0],
            &[0u8; 16],
        ]
        .concat();
        assert!(matches!(
            web_sizes(&qoi),
            Err(ThumbnailError::TooLarge { width: 100_000, .. })
        ));
        // A PNG header claiming 4000 x 4000 with no data: refused by the decoder, no panic.
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&4000u32.to_be_bytes());
        png.extend_from_slice(&4000u32.to_be_bytes());
        png.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        assert!(matches!(web_sizes(&png), Err(ThumbnailError::Decode(_))));
        // A PNG that claims a tiny size but is cut off.
        let info = fixture_info("prusaslicer_2.9.2_xl5is_5tool.bgcode");
        let cut = &info.thumbnail_data[3][..2000];
        assert!(matches!(web_sizes(cut), Err(ThumbnailError::Decode(_))));
        assert!(matches!(
            web_sizes(b"GIF89a"),
            Err(ThumbnailError::UnknownFormat)
        ));
        assert!(matches!(web_sizes(b"qoif"), Err(ThumbnailError::BadHeader)));
        assert!(matches!(
            web_sizes(&[b"qoif".as_slice(), &0u32.to_be_bytes(), &5u32.to_be_bytes()].concat()),
            Err(ThumbnailError::TooLarge { .. })
        ));
    }

    #[test]
    fn a_model_without_a_thumbnail_gets_a_drawn_one() {
        let mut mesh = crate::slicefile::Mesh::default();
        // A 20 x 10 x 5 mm box's top and front, enough to see something.
        mesh.push([[0.0, 0.0, 5.0], [20.0, 0.0, 5.0], [20.0, 10.0, 5.0]]);
        mesh.push([[0.0, 0.0, 5.0], [20.0, 10.0, 5.0], [0.0, 10.0, 5.0]]);
        mesh.push([[0.0, 0.0, 0.0], [20.0, 0.0, 0.0], [20.0, 0.0, 5.0]]);
        let sizes = rendered_web_sizes(&mesh).unwrap();
        assert_eq!(sizes.len(), 2);
        assert_eq!(check_png(&sizes[0]), (128, 128));
        assert_eq!(check_png(&sizes[1]), (512, 512));
        let img = image::load_from_memory(&sizes[1].png).unwrap().into_rgba8();
        assert!(img.pixels().any(|p| p.0[3] == 255));
        assert!(img.pixels().any(|p| p.0[3] == 0));
        assert!(matches!(
            rendered_web_sizes(&crate::slicefile::Mesh::default()),
            Err(ThumbnailError::Render(_))
        ));
    }

    #[test]
    fn qoi_to_rgba_matches_the_image_decoder() {
        let info = fixture_info("prusaslicer_2.9.2_xl5is_5tool.bgcode");
        let data = &info.thumbnail_data[2];
        let rgba = decode_qoi_rgba(data).unwrap();
        assert_eq!((rgba.width, rgba.height), (480, 240));
        let reference = image::load_from_memory_with_format(data, image::ImageFormat::Qoi)
            .unwrap()
            .into_rgba8();
        assert_eq!(rgba.pixels, reference.into_raw());
        assert!(matches!(
            decode_qoi_rgba(&info.thumbnail_data[3]),
            Err(ThumbnailError::UnknownFormat)
        ));
        assert!(matches!(
            decode_qoi_rgba(&data[..200]),
            Err(ThumbnailError::Decode(_))
        ));
        let huge = [
            b"qoif".as_slice(),
            &9000u32.to_be_bytes(),
            &9000u32.to_be_bytes(),
            &[4, 0],
        ]
        .concat();
        assert!(matches!(
            decode_qoi_rgba(&huge),
            Err(ThumbnailError::TooLarge { .. })
        ));
    }
}

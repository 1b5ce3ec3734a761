//! The in-browser decoder for the Scan screen, where the browser has no `BarcodeDetector`:
//! QR codes, EAN-13, EAN-8, UPC-A, UPC-E and Code 128 from a camera frame, with
//! [`rxing`] (a Rust port of ZXing). Built as its own wasm module by `scripts/build-pwa`
//! and loaded only when Scan opens, so the first screen never downloads it.

use std::collections::HashSet;

use rxing::common::HybridBinarizer;
use rxing::{
    BarcodeFormat, BinaryBitmap, DecodeHints, Luma8LuminanceSource, MultiFormatReader, Reader,
};
use wasm_bindgen::prelude::*;

/// The formats the app reads.
fn formats() -> HashSet<BarcodeFormat> {
    HashSet::from([
        BarcodeFormat::QR_CODE,
        BarcodeFormat::EAN_13,
        BarcodeFormat::EAN_8,
        BarcodeFormat::UPC_A,
        BarcodeFormat::UPC_E,
        BarcodeFormat::CODE_128,
    ])
}

/// The name of a format as `BarcodeDetector` spells it, so the app sees one vocabulary.
pub fn format_name(f: BarcodeFormat) -> &'static str {
    match f {
        BarcodeFormat::QR_CODE => "qr_code",
        BarcodeFormat::EAN_13 => "ean_13",
        BarcodeFormat::EAN_8 => "ean_8",
        BarcodeFormat::UPC_A => "upc_a",
        BarcodeFormat::UPC_E => "upc_e",
        BarcodeFormat::CODE_128 => "code_128",
        _ => "unknown",
    }
}

/// Grey levels (ITU-R BT.601 weights) of RGBA pixels.
pub fn luma_of_rgba(rgba: &[u8]) -> Vec<u8> {
    rgba.chunks_exact(4)
        .map(|p| ((u32::from(p[0]) * 77 + u32::from(p[1]) * 150 + u32::from(p[2]) * 29) >> 8) as u8)
        .collect()
}

/// A decoded code: its format and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// `qr_code`, `ean_13`, ...
    pub format: &'static str,
    /// What it holds.
    pub text: String,
}

/// Decodes one grey frame; `None` when no code is found (the usual case while aiming).
/// `try_harder` scans more rows and rotations: slower, for a still picture.
pub fn decode_luma(luma: Vec<u8>, width: u32, height: u32, try_harder: bool) -> Option<Found> {
    if width == 0 || height == 0 || luma.len() != (width as usize) * (height as usize) {
        return None;
    }
    let source = Luma8LuminanceSource::new(luma, width, height).ok()?;
    let mut bitmap = BinaryBitmap::new(HybridBinarizer::new(source));
    let hints = DecodeHints {
        PossibleFormats: Some(formats()),
        TryHarder: Some(try_harder),
        ..DecodeHints::default()
    };
    let mut reader = MultiFormatReader::default();
    let r = reader.decode_with_hints(&mut bitmap, &hints).ok()?;
    Some(Found {
        format: format_name(*r.getBarcodeFormat()),
        text: r.getText().to_owned(),
    })
}

/// For JavaScript: decodes an RGBA frame (`ImageData.data`) of `width` x `height`.
/// Answers `"<format>\n<text>"`, or `undefined` when no code was found.
#[wasm_bindgen]
pub fn decode_rgba(rgba: &[u8], width: u32, height: u32, try_harder: bool) -> Option<String> {
    if rgba.len() != (width as usize) * (height as usize) * 4 {
        return None;
    }
    decode_luma(luma_of_rgba(rgba), width, height, try_harder)
        .map(|f| format!("{}\n{}", f.format, f.text))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use rxing::{MultiFormatWriter, Writer};

    /// A `w` x `h` grey frame with `format`'s code for `text` drawn in its middle, black on
    /// white, at `scale` pixels per module.
    fn frame(format: BarcodeFormat, text: &str, w: u32, h: u32, cw: i32, ch: i32) -> Vec<u8> {
        let m = MultiFormatWriter.encode(text, &format, cw, ch).unwrap();
        let mut luma = vec![235u8; (w * h) as usize];
        let (ox, oy) = ((w - m.getWidth()) / 2, (h - m.getHeight()) / 2);
        for y in 0..m.getHeight() {
            for x in 0..m.getWidth() {
                if m.get(x, y) {
                    luma[((oy + y) * w + ox + x) as usize] = 20;
                }
            }
        }
        luma
    }

    #[test]
    fn reads_qr_in_a_camera_sized_frame() {
        let text = "PS1:P:0190F5D2-0000-7000-8000-000000000001";
        let luma = frame(BarcodeFormat::QR_CODE, text, 640, 480, 300, 300);
        let f = decode_luma(luma, 640, 480, false).unwrap();
        assert_eq!(
            f,
            Found {
                format: "qr_code",
                text: text.into()
            }
        );
    }

    #[test]
    fn reads_retail_and_code_128() {
        let f = decode_luma(
            frame(BarcodeFormat::EAN_13, "4006381333931", 640, 480, 400, 150),
            640,
            480,
            false,
        )
        .unwrap();
        assert_eq!((f.format, f.text.as_str()), ("ean_13", "4006381333931"));
        let f = decode_luma(
            frame(BarcodeFormat::UPC_A, "036000291452", 640, 480, 400, 150),
            640,
            480,
            false,
        )
        .unwrap();
        assert_eq!((f.format, f.text.as_str()), ("upc_a", "036000291452"));
        let f = decode_luma(
            frame(BarcodeFormat::CODE_128, "SPOOL-0010", 640, 480, 400, 150),
            640,
            480,
            false,
        )
        .unwrap();
        assert_eq!((f.format, f.text.as_str()), ("code_128", "SPOOL-0010"));
    }

    #[test]
    fn nothing_in_a_blank_or_broken_frame() {
        assert_eq!(decode_luma(vec![200; 640 * 480], 640, 480, true), None);
        assert_eq!(decode_luma(vec![200; 10], 640, 480, false), None);
        assert_eq!(decode_rgba(&[0; 12], 2, 2, false), None);
        assert_eq!(
            luma_of_rgba(&[255, 255, 255, 255, 0, 0, 0, 255]),
            vec![255, 0]
        );
    }

    #[test]
    fn rgba_answer_names_the_format() {
        let luma = frame(
            BarcodeFormat::QR_CODE,
            "WEB+SPOOLMAN:S-7",
            320,
            240,
            200,
            200,
        );
        let rgba: Vec<u8> = luma.iter().flat_map(|&l| [l, l, l, 255]).collect();
        assert_eq!(
            decode_rgba(&rgba, 320, 240, false).as_deref(),
            Some("qr_code\nWEB+SPOOLMAN:S-7")
        );
    }
}

//! Labels: QR labels for spools and products, and price tags, laid out at exact millimetre
//! sizes and written as SVG (preview, vector download) and PDF (printing), with no
//! network and no fonts to load, so the app makes them offline.
//!
//! Media: single labels for label printers (50x25 mm, 40x30 mm, 62 mm continuous tape cut
//! at 29 mm), one label per PDF page at exactly that size; and sheets of office labels
//! (A4 with 3x7 labels of 63.5x38.1 mm, the common L7160 layout; Letter with 3x10 labels of
//! 2-5/8 x 1 in, the 5160 layout).
//!
//! Text uses the PDF standard fonts Helvetica and Helvetica-Bold (every PDF reader has
//! them), so characters outside Windows-1252 print as `?` in the PDF; the SVG keeps them.

mod pdf;
mod svg;

use qrcode::{Color, EcLevel, QrCode};
use serde::{Deserialize, Serialize};

pub use pdf::pdf;
pub use svg::{svg, svg_page};

/// Most labels in one document.
pub const MAX_ITEMS: usize = 1000;

/// What goes on one label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelItem {
    /// What the QR code holds (see [`crate::codes`]).
    pub payload: String,
    /// The code as people read it (SKU, barcode or a short id).
    pub code_text: String,
    /// Product name, or brand, material and colour of a spool.
    pub name: String,
    /// A second line (colour name, grams left, lot).
    #[serde(default)]
    pub detail: Option<String>,
    /// The price, already formatted with its currency.
    #[serde(default)]
    pub price: Option<String>,
    /// A colour swatch, `#rrggbb`.
    #[serde(default)]
    pub swatch: Option<String>,
}

/// Which design.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Style {
    /// A large QR code with the name, code and price beside it.
    Qr,
    /// The price large, the name, and a small QR code.
    PriceTag,
}

/// What the labels are printed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Media {
    /// A 50x25 mm label.
    Label50x25,
    /// A 40x30 mm label.
    Label40x30,
    /// 62 mm continuous tape, cut every 29 mm.
    Tape62,
    /// An A4 sheet of 3x7 labels, 63.5x38.1 mm each.
    SheetA4,
    /// A US Letter sheet of 3x10 labels, 66.7x25.4 mm each.
    SheetLetter,
}

impl Media {
    /// Every media, in the order the app lists them.
    pub const ALL: [Media; 5] = [
        Media::Label50x25,
        Media::Label40x30,
        Media::Tape62,
        Media::SheetA4,
        Media::SheetLetter,
    ];

    /// A short name for menus.
    pub fn label(self) -> &'static str {
        match self {
            Media::Label50x25 => "50 × 25 mm label",
            Media::Label40x30 => "40 × 30 mm label",
            Media::Tape62 => "62 mm tape (29 mm long)",
            Media::SheetA4 => "A4 sheet, 3 × 7 labels",
            Media::SheetLetter => "Letter sheet, 3 × 10 labels",
        }
    }

    /// The page grid.
    pub fn grid(self) -> Grid {
        let single = |w: f64, h: f64| Grid {
            page_w: w,
            page_h: h,
            label_w: w,
            label_h: h,
            cols: 1,
            rows: 1,
            left: 0.0,
            top: 0.0,
            pitch_x: w,
            pitch_y: h,
        };
        match self {
            Media::Label50x25 => single(50.0, 25.0),
            Media::Label40x30 => single(40.0, 30.0),
            Media::Tape62 => single(62.0, 29.0),
            Media::SheetA4 => Grid {
                page_w: 210.0,
                page_h: 297.0,
                label_w: 63.5,
                label_h: 38.1,
                cols: 3,
                rows: 7,
                left: 7.21,
                top: 15.15,
                pitch_x: 66.04,
                pitch_y: 38.1,
            },
            Media::SheetLetter => Grid {
                page_w: 215.9,
                page_h: 279.4,
                label_w: 66.675,
                label_h: 25.4,
                cols: 3,
                rows: 10,
                left: 4.7625,
                top: 12.7,
                pitch_x: 69.85,
                pitch_y: 25.4,
            },
        }
    }
}

/// Where labels sit on a page, in millimetres from the top-left corner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    /// Page width.
    pub page_w: f64,
    /// Page height.
    pub page_h: f64,
    /// One label's width.
    pub label_w: f64,
    /// One label's height.
    pub label_h: f64,
    /// Labels across.
    pub cols: usize,
    /// Labels down.
    pub rows: usize,
    /// Left edge of the first column.
    pub left: f64,
    /// Top edge of the first row.
    pub top: f64,
    /// From one column's left edge to the next.
    pub pitch_x: f64,
    /// From one row's top edge to the next.
    pub pitch_y: f64,
}

impl Grid {
    /// Labels per page.
    pub fn per_page(&self) -> usize {
        self.cols * self.rows
    }
}

/// An RGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// Black.
    pub const BLACK: Rgb = Rgb(0, 0, 0);
    /// A mid grey for outlines.
    pub const GREY: Rgb = Rgb(0x88, 0x88, 0x88);

    /// Reads `#rrggbb` (or `rrggbb`).
    pub fn parse(hex: &str) -> Option<Rgb> {
        let h = hex.trim().trim_start_matches('#');
        if h.len() != 6 || !h.is_ascii() {
            return None;
        }
        let c = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).ok();
        Some(Rgb(c(0)?, c(2)?, c(4)?))
    }

    /// `#rrggbb`.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// Something drawn, in millimetres from the page's top-left corner.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A filled rectangle.
    Fill {
        /// Left.
        x: f64,
        /// Top.
        y: f64,
        /// Width.
        w: f64,
        /// Height.
        h: f64,
        /// Colour.
        colour: Rgb,
    },
    /// A rectangle's outline, 0.2 mm wide.
    Outline {
        /// Left.
        x: f64,
        /// Top.
        y: f64,
        /// Width.
        w: f64,
        /// Height.
        h: f64,
        /// Colour.
        colour: Rgb,
        /// Only in previews (cut lines of a sheet), never printed.
        guide: bool,
    },
    /// One line of black text; `y` is the baseline.
    Text {
        /// Left edge (or right edge when `end`).
        x: f64,
        /// Baseline.
        y: f64,
        /// Font size in points.
        size_pt: f64,
        /// Helvetica-Bold instead of Helvetica.
        bold: bool,
        /// Anchored at its right edge.
        end: bool,
        /// The text.
        text: String,
    },
}

/// One page, ready for [`svg_page`] or [`pdf`].
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Width in millimetres.
    pub width_mm: f64,
    /// Height in millimetres.
    pub height_mm: f64,
    /// What is drawn, in order.
    pub shapes: Vec<Shape>,
}

/// Why labels could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    /// Nothing chosen.
    #[error("no labels chosen; pick at least one product or spool")]
    NoItems,
    /// Too many at once.
    #[error("{0} labels at once; print at most {MAX_ITEMS} at a time")]
    TooMany(usize),
    /// A payload too long for a QR code.
    #[error("the code of `{0}` is too long for a QR code; shorten its barcode")]
    PayloadTooLong(String),
    /// An empty payload.
    #[error("`{0}` has no code to print")]
    EmptyPayload(String),
}

/// Points per millimetre.
pub const PT_PER_MM: f64 = 72.0 / 25.4;

/// The Helvetica advance width of a character, in thousandths of the font size.
fn char_width(c: char) -> u32 {
    match c {
        ' ' | 'f' | 't' | 'I' | '.' | ',' | ':' | ';' | '!' | '/' | '[' | ']' => 278,
        'i' | 'j' | 'l' | '\'' | '|' => 222,
        'r' | '-' | '(' | ')' | '"' => 333,
        'c' | 'k' | 's' | 'v' | 'x' | 'y' | 'z' | 'J' => 500,
        'm' | 'M' => 833,
        'w' | 'C' | 'D' | 'H' | 'N' | 'R' | 'U' => 722,
        'G' | 'O' | 'Q' => 778,
        'F' | 'T' | 'Z' => 611,
        'L' => 556,
        'W' => 944,
        'A' | 'B' | 'E' | 'K' | 'P' | 'S' | 'V' | 'X' | 'Y' | '€' => 667,
        '%' => 889,
        c if c.is_ascii_digit() || c.is_ascii_lowercase() => 556,
        _ => 600,
    }
}

/// How wide `text` is at `size_pt`, in millimetres (Helvetica metrics; bold a little wider).
pub fn text_width_mm(text: &str, size_pt: f64, bold: bool) -> f64 {
    let units: u32 = text.chars().map(char_width).sum();
    let w = f64::from(units) / 1000.0 * size_pt / PT_PER_MM;
    if bold { w * 1.06 } else { w }
}

/// `text` cut to fit `width_mm`, with an ellipsis where it was cut.
pub fn fit(text: &str, width_mm: f64, size_pt: f64, bold: bool) -> String {
    if text_width_mm(text, size_pt, bold) <= width_mm {
        return text.to_owned();
    }
    let mut out: String = text.to_owned();
    while !out.is_empty() && text_width_mm(&format!("{out}…"), size_pt, bold) > width_mm {
        out.pop();
    }
    format!("{}…", out.trim_end())
}

/// Splits `text` into at most `max_lines` lines that fit `width_mm` (the last one cut).
pub fn wrap(text: &str, width_mm: f64, size_pt: f64, bold: bool, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut words = text.split_whitespace().peekable();
    while let Some(word) = words.next() {
        let candidate = if current.is_empty() {
            word.to_owned()
        } else {
            format!("{current} {word}")
        };
        if text_width_mm(&candidate, size_pt, bold) <= width_mm || current.is_empty() {
            current = candidate;
        } else {
            lines.push(std::mem::take(&mut current));
            current = word.to_owned();
        }
        if lines.len() + 1 == max_lines && words.peek().is_some() {
            let rest: Vec<&str> = words.by_ref().collect();
            current = format!("{current} {}", rest.join(" "));
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines.truncate(max_lines.max(1));
    lines
        .into_iter()
        .map(|l| fit(&l, width_mm, size_pt, bold))
        .collect()
}

/// The dark modules of a QR code for `payload`, as one filled rectangle per run of dark
/// modules in a row, in a square of `size` mm at (`x`, `y`) including a 2-module quiet zone.
pub fn qr_shapes(payload: &str, x: f64, y: f64, size: f64) -> Result<Vec<Shape>, LabelError> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|_| LabelError::PayloadTooLong(payload.chars().take(40).collect()))?;
    let n = code.width();
    let colours = code.to_colors();
    let module = size / (n as f64 + 4.0);
    let origin_x = x + 2.0 * module;
    let origin_y = y + 2.0 * module;
    let mut out = Vec::new();
    for row in 0..n {
        let mut col = 0;
        while col < n {
            if colours[row * n + col] == Color::Dark {
                let start = col;
                while col < n && colours[row * n + col] == Color::Dark {
                    col += 1;
                }
                out.push(Shape::Fill {
                    x: origin_x + start as f64 * module,
                    y: origin_y + row as f64 * module,
                    w: (col - start) as f64 * module,
                    h: module,
                    colour: Rgb::BLACK,
                });
            } else {
                col += 1;
            }
        }
    }
    Ok(out)
}

fn text(x: f64, y: f64, size_pt: f64, bold: bool, text: String) -> Shape {
    Shape::Text {
        x,
        y,
        size_pt,
        bold,
        end: false,
        text,
    }
}

/// Height of a line of `size_pt` text, in millimetres.
fn line_mm(size_pt: f64) -> f64 {
    size_pt / PT_PER_MM * 1.15
}

/// Cap height of Helvetica at `size_pt`, in millimetres (baseline to the top of capitals).
fn cap_mm(size_pt: f64) -> f64 {
    size_pt / PT_PER_MM * 0.72
}

/// Draws one label with its top-left corner at (`x`, `y`).
fn draw_label(
    item: &LabelItem,
    style: Style,
    x: f64,
    y: f64,
    w: f64,
    h: f64,
) -> Result<Vec<Shape>, LabelError> {
    let m = (h * 0.06).clamp(1.2, 2.5);
    let mut out = Vec::new();
    let scale = (h / 25.0).clamp(0.9, 1.5);
    let qr_size = match style {
        Style::Qr => (h - 2.0 * m).min(w * 0.5),
        Style::PriceTag => ((h - 2.0 * m) * 0.62).min(w * 0.4),
    };
    let qr_x = x + w - m - qr_size;
    let qr_y = match style {
        Style::Qr => y + (h - qr_size) / 2.0,
        Style::PriceTag => y + h - m - qr_size,
    };
    let (tx, tw) = match style {
        // QR on the left, text on the right.
        Style::Qr => (x + m + qr_size + m * 0.8, w - qr_size - 2.8 * m),
        Style::PriceTag => (x + m, w - 2.0 * m),
    };
    let qr_left_x = match style {
        Style::Qr => x + m,
        Style::PriceTag => qr_x,
    };
    out.extend(qr_shapes(&item.payload, qr_left_x, qr_y, qr_size)?);

    let mut cursor = y + m;
    match style {
        Style::Qr => {
            if let Some(c) = item.swatch.as_deref().and_then(Rgb::parse) {
                let sw = (h * 0.16).min(5.0);
                out.push(Shape::Fill {
                    x: tx,
                    y: cursor,
                    w: sw * 1.6,
                    h: sw,
                    colour: c,
                });
                out.push(Shape::Outline {
                    x: tx,
                    y: cursor,
                    w: sw * 1.6,
                    h: sw,
                    colour: Rgb::GREY,
                    guide: false,
                });
                cursor += sw + 0.8;
            }
            let name_pt = 8.0 * scale;
            for line in wrap(&item.name, tw, name_pt, true, 2) {
                cursor += cap_mm(name_pt);
                out.push(text(tx, cursor, name_pt, true, line));
                cursor += line_mm(name_pt) - cap_mm(name_pt);
            }
            if let Some(d) = &item.detail {
                let pt = 6.0 * scale;
                cursor += cap_mm(pt);
                out.push(text(tx, cursor, pt, false, fit(d, tw, pt, false)));
            }
            let code_pt = 5.5 * scale;
            let bottom = y + h - m;
            out.push(text(
                tx,
                bottom,
                code_pt,
                false,
                fit(&item.code_text, tw, code_pt, false),
            ));
            if let Some(p) = &item.price {
                let pt = 11.0 * scale;
                let base = bottom - line_mm(code_pt) - 0.3;
                if base - cap_mm(pt) > cursor {
                    out.push(text(tx, base, pt, true, fit(p, tw, pt, true)));
                }
            }
        }
        Style::PriceTag => {
            let price_pt = 20.0 * scale;
            if let Some(p) = &item.price {
                cursor += cap_mm(price_pt);
                out.push(text(tx, cursor, price_pt, true, fit(p, tw, price_pt, true)));
                cursor += 1.5;
            }
            let side_w = w - 3.0 * m - qr_size;
            let name_pt = 8.0 * scale;
            for line in wrap(&item.name, side_w, name_pt, true, 2) {
                cursor += line_mm(name_pt);
                if cursor > y + h - m {
                    break;
                }
                out.push(text(tx, cursor, name_pt, true, line));
            }
            if let Some(c) = item.swatch.as_deref().and_then(Rgb::parse) {
                let sw = (h * 0.14).min(4.0);
                let sy = y + h - m - sw - line_mm(5.5 * scale);
                if sy > cursor {
                    out.push(Shape::Fill {
                        x: tx,
                        y: sy,
                        w: sw * 1.6,
                        h: sw,
                        colour: c,
                    });
                    out.push(Shape::Outline {
                        x: tx,
                        y: sy,
                        w: sw * 1.6,
                        h: sw,
                        colour: Rgb::GREY,
                        guide: false,
                    });
                }
            }
            let code_pt = 5.5 * scale;
            out.push(text(
                tx,
                y + h - m,
                code_pt,
                false,
                fit(&item.code_text, side_w, code_pt, false),
            ));
        }
    }
    Ok(out)
}

/// Lays the labels out on pages of `media`.
pub fn layout(items: &[LabelItem], media: Media, style: Style) -> Result<Vec<Page>, LabelError> {
    if items.is_empty() {
        return Err(LabelError::NoItems);
    }
    if items.len() > MAX_ITEMS {
        return Err(LabelError::TooMany(items.len()));
    }
    if let Some(i) = items.iter().find(|i| i.payload.trim().is_empty()) {
        return Err(LabelError::EmptyPayload(i.name.clone()));
    }
    let g = media.grid();
    let mut pages = Vec::new();
    for chunk in items.chunks(g.per_page()) {
        let mut shapes = Vec::new();
        for (i, item) in chunk.iter().enumerate() {
            let (col, row) = (i % g.cols, i / g.cols);
            let x = g.left + col as f64 * g.pitch_x;
            let y = g.top + row as f64 * g.pitch_y;
            if g.per_page() > 1 {
                shapes.push(Shape::Outline {
                    x,
                    y,
                    w: g.label_w,
                    h: g.label_h,
                    colour: Rgb(0xcc, 0xcc, 0xcc),
                    guide: true,
                });
            }
            shapes.extend(draw_label(item, style, x, y, g.label_w, g.label_h)?);
        }
        pages.push(Page {
            width_mm: g.page_w,
            height_mm: g.page_h,
            shapes,
        });
    }
    Ok(pages)
}

/// Numbers in SVG and PDF: at most 3 decimals, no trailing zeros.
fn num(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_owned() }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    pub(super) fn item(name: &str) -> LabelItem {
        LabelItem {
            payload: "PS1:P:0190F5D2-0000-7000-8000-000000000001".into(),
            code_text: "REX-L-RED".into(),
            name: name.into(),
            detail: Some("PLA · Galaxy Black".into()),
            price: Some("€12.50".into()),
            swatch: Some("#1a2b3c".into()),
        }
    }

    #[test]
    fn sizes_are_exact() {
        for (media, w, h) in [
            (Media::Label50x25, 50.0, 25.0),
            (Media::Label40x30, 40.0, 30.0),
            (Media::Tape62, 62.0, 29.0),
            (Media::SheetA4, 210.0, 297.0),
            (Media::SheetLetter, 215.9, 279.4),
        ] {
            let pages = layout(&[item("Rex"), item("Octo")], media, Style::Qr).unwrap();
            assert_eq!(pages[0].width_mm, w);
            assert_eq!(pages[0].height_mm, h);
            let single = media.grid().per_page() == 1;
            assert_eq!(pages.len(), if single { 2 } else { 1 });
            // Everything stays on its page.
            for p in &pages {
                for s in &p.shapes {
                    if let Shape::Fill { x, y, w, h, .. } = s {
                        assert!(*x >= 0.0 && *y >= 0.0, "{media:?} {s:?}");
                        assert!(
                            x + w <= p.width_mm + 1e-6 && y + h <= p.height_mm + 1e-6,
                            "{media:?} {s:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn sheets_fill_pages_in_order() {
        let items: Vec<LabelItem> = (0..22).map(|i| item(&format!("Item {i}"))).collect();
        let pages = layout(&items, Media::SheetA4, Style::PriceTag).unwrap();
        assert_eq!(pages.len(), 2);
        let g = Media::SheetA4.grid();
        // The grid fits the page.
        assert!(g.left + (g.cols - 1) as f64 * g.pitch_x + g.label_w <= g.page_w);
        assert!(g.top + (g.rows - 1) as f64 * g.pitch_y + g.label_h <= g.page_h);
        let g = Media::SheetLetter.grid();
        assert!(g.left + (g.cols - 1) as f64 * g.pitch_x + g.label_w <= g.page_w + 1e-9);
        assert!(g.top + (g.rows - 1) as f64 * g.pitch_y + g.label_h <= g.page_h + 1e-9);
    }

    #[test]
    fn text_fits_its_box() {
        let long = "The Extremely Articulated Dragon With Very Long Wings And A Tail";
        let lines = wrap(long, 24.0, 8.0, true, 2);
        assert_eq!(lines.len(), 2);
        for l in &lines {
            assert!(text_width_mm(l, 8.0, true) <= 24.0, "{l}");
        }
        assert!(lines[1].ends_with('…'));
        assert_eq!(fit("Rex", 30.0, 8.0, false), "Rex");
        assert_eq!(wrap("Rex", 30.0, 8.0, false, 2), vec!["Rex".to_string()]);
    }

    #[test]
    fn bad_input() {
        assert_eq!(
            layout(&[], Media::Label50x25, Style::Qr),
            Err(LabelError::NoItems)
        );
        let mut i = item("Rex");
        i.payload = "x".repeat(3000);
        assert!(matches!(
            layout(&[i], Media::Label50x25, Style::Qr),
            Err(LabelError::PayloadTooLong(_))
        ));
        let mut i = item("Rex");
        i.payload = " ".into();
        assert!(matches!(
            layout(&[i], Media::Label50x25, Style::Qr),
            Err(LabelError::EmptyPayload(_))
        ));
        let many = vec![item("x"); MAX_ITEMS + 1];
        assert_eq!(
            layout(&many, Media::SheetA4, Style::Qr),
            Err(LabelError::TooMany(MAX_ITEMS + 1))
        );
    }

    #[test]
    fn qr_modules_are_square_and_inside() {
        let shapes =
            qr_shapes("PS1:S:0190F5D2-0000-7000-8000-000000000001", 1.0, 2.0, 22.0).unwrap();
        assert!(!shapes.is_empty());
        for s in shapes {
            let Shape::Fill { x, y, w, h, .. } = s else {
                panic!()
            };
            assert!(x >= 1.0 && y >= 2.0 && x + w <= 23.0 + 1e-9 && y + h <= 24.0 + 1e-9);
        }
        assert_eq!(Rgb::parse("#FF8000"), Some(Rgb(255, 128, 0)));
        assert_eq!(Rgb::parse("nope"), None);
        assert_eq!(num(1.5), "1.5");
        assert_eq!(num(2.0), "2");
    }
}

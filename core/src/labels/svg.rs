//! Pages as SVG, sized in millimetres (`width="50mm"`), one user unit per millimetre.

use std::fmt::Write;

use super::{PT_PER_MM, Page, Shape, num};

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if (c as u32) < 0x20 && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

fn shapes_svg(out: &mut String, shapes: &[Shape], dy: f64, guides: bool) {
    // The QR modules (and other black fills) as one path: smaller, and no hairline gaps.
    let mut black = String::new();
    for s in shapes {
        match s {
            Shape::Fill { x, y, w, h, colour } if colour.hex() == "#000000" => {
                let _ = write!(
                    black,
                    "M{} {}h{}v{}h-{}z",
                    num(*x),
                    num(y + dy),
                    num(*w),
                    num(*h),
                    num(*w)
                );
            }
            Shape::Fill { x, y, w, h, colour } => {
                let _ = write!(
                    out,
                    r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>"#,
                    num(*x),
                    num(y + dy),
                    num(*w),
                    num(*h),
                    colour.hex()
                );
            }
            Shape::Outline {
                x,
                y,
                w,
                h,
                colour,
                guide,
            } => {
                if *guide && !guides {
                    continue;
                }
                let dash = if *guide {
                    r#" stroke-dasharray="1 1" class="guide""#
                } else {
                    ""
                };
                let _ = write!(
                    out,
                    r#"<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="{}" stroke-width="0.2"{dash}/>"#,
                    num(*x),
                    num(y + dy),
                    num(*w),
                    num(*h),
                    colour.hex()
                );
            }
            Shape::Text {
                x,
                y,
                size_pt,
                bold,
                end,
                text,
            } => {
                let _ = write!(
                    out,
                    r#"<text x="{}" y="{}" font-size="{}"{}{}>{}</text>"#,
                    num(*x),
                    num(y + dy),
                    num(size_pt / PT_PER_MM),
                    if *bold { r#" font-weight="bold""# } else { "" },
                    if *end { r#" text-anchor="end""# } else { "" },
                    escape(text)
                );
            }
        }
    }
    if !black.is_empty() {
        let _ = write!(out, r##"<path fill="#000" d="{black}"/>"##);
    }
}

fn open(out: &mut String, w: f64, h: f64) {
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}mm" height="{h}mm" viewBox="0 0 {w} {h}" font-family="Helvetica, Arial, sans-serif"><rect width="{w}" height="{h}" fill="#fff"/>"##,
        w = num(w),
        h = num(h)
    );
}

/// One page as an SVG document. `guides` draws the cut lines of sheet labels (for a
/// preview; they are never printed in the PDF).
pub fn svg_page(page: &Page, guides: bool) -> String {
    let mut out = String::new();
    open(&mut out, page.width_mm, page.height_mm);
    shapes_svg(&mut out, &page.shapes, 0.0, guides);
    out.push_str("</svg>");
    out
}

/// All pages in one SVG document, one below the other with a 5 mm gap (an SVG has no
/// pages; print the PDF to get one label per page).
pub fn svg(pages: &[Page], guides: bool) -> String {
    const GAP: f64 = 5.0;
    let w = pages.iter().map(|p| p.width_mm).fold(0.0, f64::max);
    let h =
        pages.iter().map(|p| p.height_mm).sum::<f64>() + GAP * pages.len().saturating_sub(1) as f64;
    let mut out = String::new();
    open(&mut out, w, h);
    let mut dy = 0.0;
    for (i, p) in pages.iter().enumerate() {
        if i > 0 {
            let _ = write!(
                out,
                r##"<rect x="0" y="{}" width="{}" height="{}" fill="#ddd"/>"##,
                num(dy - GAP),
                num(w),
                num(GAP)
            );
        }
        shapes_svg(&mut out, &p.shapes, dy, guides);
        dy += p.height_mm + GAP;
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::super::tests::item;
    use super::super::{Media, Style, layout};
    use super::*;

    #[test]
    fn svg_has_exact_size_and_content() {
        let mut i = item("Rex <the> \"Dino\" & co");
        i.price = Some("€12.50".into());
        let pages = layout(&[i], Media::Label50x25, Style::Qr).unwrap();
        let s = svg_page(&pages[0], true);
        assert!(s.starts_with("<svg"));
        assert!(s.contains(r#"width="50mm" height="25mm" viewBox="0 0 50 25""#));
        assert!(s.contains("&lt;the&gt;"), "{s}");
        assert!(s.contains("&amp; co") || s.contains("&amp;…") || s.contains("&quot;"));
        assert!(s.contains("€12.50"));
        assert!(s.contains("#1a2b3c"));
        assert!(s.contains(r##"<path fill="#000" d="M"##));
        assert!(s.ends_with("</svg>"));
        let all = svg(&pages, false);
        assert!(all.contains(r#"height="25mm""#));
    }

    #[test]
    fn guides_only_in_previews() {
        let pages = layout(&[item("Rex")], Media::SheetA4, Style::Qr).unwrap();
        assert!(svg_page(&pages[0], true).contains("class=\"guide\""));
        assert!(!svg_page(&pages[0], false).contains("class=\"guide\""));
    }
}

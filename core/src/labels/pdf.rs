//! Pages as a PDF 1.4 document: vector rectangles and text in the standard fonts, one PDF
//! page per [`Page`] at its exact size. Small enough to write by hand, and no PDF crate
//! we found builds for wasm32 without pulling in font files.

use std::fmt::Write;

use super::{PT_PER_MM, Page, Rgb, Shape, num};

/// Characters in Windows-1252 (the standard fonts' `WinAnsiEncoding`); anything else is `?`.
fn win_ansi(c: char) -> u8 {
    match c as u32 {
        0x20..=0x7e | 0xa0..=0xff => c as u32 as u8,
        _ => match c {
            '€' => 0x80,
            '‚' => 0x82,
            '„' => 0x84,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '™' => 0x99,
            _ => b'?',
        },
    }
}

/// A PDF string literal of `text` in WinAnsi, with `(`, `)` and `\` escaped and bytes
/// above 0x7e written as octal escapes (the file stays ASCII).
fn pdf_string(text: &str) -> String {
    let mut out = String::from("(");
    for c in text.chars() {
        match win_ansi(c) {
            b'(' => out.push_str("\\("),
            b')' => out.push_str("\\)"),
            b'\\' => out.push_str("\\\\"),
            b @ 0x20..=0x7e => out.push(b as char),
            b => {
                let _ = write!(out, "\\{b:03o}");
            }
        }
    }
    out.push(')');
    out
}

fn rgb(c: Rgb) -> String {
    format!(
        "{} {} {}",
        num(f64::from(c.0) / 255.0),
        num(f64::from(c.1) / 255.0),
        num(f64::from(c.2) / 255.0)
    )
}

/// The content stream of one page (PDF's origin is the bottom-left corner, in points).
fn content(page: &Page) -> String {
    let pt = |mm: f64| num(mm * PT_PER_MM);
    let flip = |y_mm: f64| num((page.height_mm - y_mm) * PT_PER_MM);
    let mut out = String::new();
    // The black fills (QR modules) first, in one path.
    let mut any_black = false;
    for s in &page.shapes {
        if let Shape::Fill { x, y, w, h, colour } = s
            && *colour == Rgb::BLACK
        {
            let _ = writeln!(out, "{} {} {} {} re", pt(*x), flip(y + h), pt(*w), pt(*h));
            any_black = true;
        }
    }
    if any_black {
        out.insert_str(0, "0 g\n");
        out.push_str("f\n");
    }
    for s in &page.shapes {
        match s {
            Shape::Fill { colour, .. } if *colour == Rgb::BLACK => {}
            Shape::Fill { x, y, w, h, colour } => {
                let _ = writeln!(
                    out,
                    "{} rg {} {} {} {} re f",
                    rgb(*colour),
                    pt(*x),
                    flip(y + h),
                    pt(*w),
                    pt(*h)
                );
            }
            Shape::Outline { guide: true, .. } => {}
            Shape::Outline {
                x, y, w, h, colour, ..
            } => {
                let _ = writeln!(
                    out,
                    "{} RG {} w {} {} {} {} re S",
                    rgb(*colour),
                    pt(0.2),
                    pt(*x),
                    flip(y + h),
                    pt(*w),
                    pt(*h)
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
                let x = if *end {
                    x - super::text_width_mm(text, *size_pt, *bold)
                } else {
                    *x
                };
                let _ = writeln!(
                    out,
                    "0 g BT /{} {} Tf {} {} Td {} Tj ET",
                    if *bold { "F2" } else { "F1" },
                    num(*size_pt),
                    pt(x),
                    flip(*y),
                    pdf_string(text)
                );
            }
        }
    }
    out
}

/// The pages as a PDF document.
pub fn pdf(pages: &[Page]) -> Vec<u8> {
    // Objects: 1 catalog, 2 page tree, 3 and 4 fonts, then a page and its content per page.
    let mut objects: Vec<String> = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".into(),
        String::new(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".into(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
            .into(),
    ];
    let mut kids = Vec::new();
    for page in pages {
        let page_no = objects.len() + 1;
        let content_no = page_no + 1;
        kids.push(format!("{page_no} 0 R"));
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {} {}] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {content_no} 0 R >>",
            num(page.width_mm * PT_PER_MM),
            num(page.height_mm * PT_PER_MM)
        ));
        let stream = content(page);
        objects.push(format!(
            "<< /Length {} >>\nstream\n{stream}endstream",
            stream.len()
        ));
    }
    objects[1] = format!(
        "<< /Type /Pages /Kids [{}] /Count {} >>",
        kids.join(" "),
        pages.len()
    );

    let mut out: Vec<u8> = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    let mut tail = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for o in offsets {
        let _ = writeln!(tail, "{o:010} 00000 n ");
    }
    let _ = write!(
        tail,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    out.extend_from_slice(tail.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::super::tests::item;
    use super::super::{Media, Style, layout};
    use super::*;

    #[test]
    fn strings_are_escaped_in_win_ansi() {
        assert_eq!(pdf_string("a(b)\\"), "(a\\(b\\)\\\\)");
        assert_eq!(pdf_string("€5 Café"), "(\\2005 Caf\\351)");
        assert_eq!(pdf_string("ドラゴン"), "(????)");
    }

    #[test]
    fn pdf_parses_with_exact_page_sizes() {
        let items: Vec<_> = (0..23)
            .map(|i| item(&format!("Rex (no. {i}) – €")))
            .collect();
        for (media, style) in [
            (Media::Label50x25, Style::Qr),
            (Media::Label40x30, Style::PriceTag),
            (Media::Tape62, Style::Qr),
            (Media::SheetA4, Style::PriceTag),
            (Media::SheetLetter, Style::Qr),
        ] {
            let pages = layout(&items, media, style).unwrap();
            let bytes = pdf(&pages);
            let doc = lopdf::Document::load_mem(&bytes).unwrap();
            let got = doc.get_pages();
            assert_eq!(got.len(), pages.len(), "{media:?}");
            let g = media.grid();
            for (_, id) in got {
                let page = doc.get_object(id).unwrap().as_dict().unwrap();
                let mb = page.get(b"MediaBox").unwrap().as_array().unwrap();
                let w = mb[2].as_float().unwrap();
                let h = mb[3].as_float().unwrap();
                assert!(
                    (f64::from(w) - g.page_w * PT_PER_MM).abs() < 0.01,
                    "{media:?} {w}"
                );
                assert!(
                    (f64::from(h) - g.page_h * PT_PER_MM).abs() < 0.01,
                    "{media:?} {h}"
                );
                // The text is there, in the fonts declared.
                let text = doc.extract_text(&[1]).unwrap_or_default();
                assert!(text.contains("Rex") || text.is_empty(), "{text}");
                let content = doc.get_page_content(id).unwrap();
                let ops = lopdf::content::Content::decode(&content)
                    .unwrap()
                    .operations;
                assert!(ops.iter().any(|o| o.operator == "re"));
                assert!(ops.iter().any(|o| o.operator == "Tj"));
            }
        }
    }
}

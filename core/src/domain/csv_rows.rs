//! CSV rows of products, filaments, spools and stock levels: the column names (documented
//! in README.md), the header check, and each row read into our types with an error that
//! names the column. Numbers are written with a decimal point; a file separated by
//! semicolons may use a decimal comma (`12,50`), as spreadsheets in many countries save.
//! Prices are in the shop's currency (`12.50`), weights in grams (`1000` or `987.5`).
//!
//! The reading of the file itself (quoting, separators, the byte-order mark) is the
//! server's; this module sees one row as `column -> text`.

use std::collections::BTreeMap;

use time::Date;

use super::filament::{Colour, Diameter, Filament, Material};
use super::product::{Product, validate_count};
use super::validation::ValidationError;
use super::{Centigrams, FilamentId, ProductId};
use crate::money::Minor;

/// What a CSV file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvKind {
    /// Products (catalogue; key: `sku`).
    Products,
    /// Stock levels (key: `sku`; import counts them).
    Stock,
    /// Filaments (key: brand, material, colour name and diameter).
    Filaments,
    /// Spools (key: `id` of this shop, else `barcode`).
    Spools,
    /// Sales, one row per line (key: `sale_id`; an imported sale is recorded once).
    Sales,
}

impl CsvKind {
    /// From the URL segment (`products`, `stock`, `filaments`, `spools`, `sales`).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "products" => CsvKind::Products,
            "stock" => CsvKind::Stock,
            "filaments" => CsvKind::Filaments,
            "spools" => CsvKind::Spools,
            "sales" => CsvKind::Sales,
            _ => return None,
        })
    }

    /// Every column, in export order.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            CsvKind::Products => &[
                "sku",
                "name",
                "price",
                "unit_cost",
                "barcode",
                "location",
                "low_stock_threshold",
                "tags",
                "active",
            ],
            CsvKind::Stock => &["sku", "name", "on_hand"],
            CsvKind::Filaments => &[
                "brand",
                "material",
                "colour_name",
                "colour_hex",
                "multi_hexes",
                "diameter",
                "density_g_cm3",
                "net_weight_g",
                "empty_spool_g",
                "price_per_spool",
                "nozzle_temp_c",
                "bed_temp_c",
                "article_number",
                "ean",
            ],
            CsvKind::Spools => &[
                "id",
                "filament_brand",
                "filament_material",
                "filament_colour",
                "filament_diameter",
                "initial_g",
                "left_g",
                "empty_spool_g",
                "price_paid",
                "purchase_date",
                "location",
                "lot_number",
                "barcode",
                "nfc_tag_id",
                "archived",
            ],
            CsvKind::Sales => &[
                "sale_id",
                "taken_at",
                "payment_method",
                "voided",
                "line",
                "sku",
                "product_name",
                "quantity",
                "unit_price",
                "sale_subtotal",
                "sale_discount",
                "sale_total",
                "sale_tax",
            ],
        }
    }

    /// The columns a file must have.
    pub fn required(self) -> &'static [&'static str] {
        match self {
            CsvKind::Products => &["sku", "name", "price"],
            CsvKind::Stock => &["sku", "on_hand"],
            CsvKind::Filaments => &[
                "brand",
                "material",
                "colour_name",
                "colour_hex",
                "diameter",
                "density_g_cm3",
                "net_weight_g",
            ],
            CsvKind::Spools => &[
                "filament_brand",
                "filament_material",
                "filament_colour",
                "filament_diameter",
                "initial_g",
            ],
            CsvKind::Sales => &[
                "taken_at",
                "payment_method",
                "sku",
                "quantity",
                "unit_price",
            ],
        }
    }

    /// Checks a header line: every required column, no unknown one, none twice.
    pub fn check_headers(self, headers: &[String]) -> Result<(), String> {
        let known = self.columns();
        let unknown: Vec<&str> = headers
            .iter()
            .map(String::as_str)
            .filter(|h| !known.contains(h))
            .collect();
        let missing: Vec<&str> = self
            .required()
            .iter()
            .copied()
            .filter(|r| !headers.iter().any(|h| h == r))
            .collect();
        let mut seen = Vec::new();
        for h in headers {
            if seen.contains(&h) {
                return Err(format!("the column `{h}` appears twice"));
            }
            seen.push(h);
        }
        if unknown.is_empty() && missing.is_empty() {
            return Ok(());
        }
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(format!("missing columns: {}", missing.join(", ")));
        }
        if !unknown.is_empty() {
            parts.push(format!("unknown columns: {}", unknown.join(", ")));
        }
        Err(format!(
            "{}; the columns are: {}",
            parts.join("; "),
            known.join(", ")
        ))
    }
}

/// One row: column -> text (empty cells absent).
pub type Row = BTreeMap<String, String>;

/// How numbers are written in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Numbers {
    /// `12,50` is twelve and a half (files separated by semicolons).
    pub decimal_comma: bool,
}

fn err(field: &str, message: impl Into<String>) -> ValidationError {
    ValidationError::new(field, message)
}

fn get<'a>(row: &'a Row, col: &str) -> Option<&'a str> {
    row.get(col).map(|s| s.trim()).filter(|s| !s.is_empty())
}

fn required<'a>(row: &'a Row, col: &str) -> Result<&'a str, ValidationError> {
    get(row, col).ok_or_else(|| err(col, "is empty; fill it in"))
}

/// A decimal with at most `places` decimals as an integer of that many places
/// (`"12.5"`, 2 -> 1250).
pub fn decimal(text: &str, places: u32, n: Numbers) -> Option<i64> {
    let t = text.trim();
    let t = if n.decimal_comma {
        t.replace('.', "").replace(',', ".")
    } else {
        t.to_owned()
    };
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest.to_owned()),
        None => (false, t),
    };
    let (int, frac) = t.split_once('.').unwrap_or((t.as_str(), ""));
    if (int.is_empty() && frac.is_empty())
        || frac.len() > places as usize
        || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit())
        || int.len() > 12
    {
        return None;
    }
    let whole: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut f: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    for _ in frac.len()..places as usize {
        f *= 10;
    }
    let v = whole.checked_mul(10_i64.pow(places))?.checked_add(f)?;
    Some(if neg { -v } else { v })
}

/// Writes an integer of `places` decimals back as text (`1250`, 2 -> `"12.50"`).
pub fn format_decimal(v: i64, places: u32) -> String {
    let p = 10_i64.pow(places);
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    let p = p.unsigned_abs();
    format!("{sign}{}.{:0width$}", a / p, a % p, width = places as usize)
}

fn money(row: &Row, col: &str, n: Numbers) -> Result<Option<Minor>, ValidationError> {
    match get(row, col) {
        None => Ok(None),
        Some(t) => decimal(t, 2, n)
            .filter(|v| *v >= 0)
            .map(|v| Some(Minor(v)))
            .ok_or_else(|| err(col, format!("{t:?} is not an amount like 12.50"))),
    }
}

fn grams(row: &Row, col: &str, n: Numbers) -> Result<Option<Centigrams>, ValidationError> {
    match get(row, col) {
        None => Ok(None),
        Some(t) => decimal(t, 2, n)
            .filter(|v| *v >= 0)
            .map(|v| Some(Centigrams(v)))
            .ok_or_else(|| {
                err(
                    col,
                    format!("{t:?} is not a weight in grams like 1000 or 987.5"),
                )
            }),
    }
}

fn whole<T: TryFrom<i64>>(row: &Row, col: &str) -> Result<Option<T>, ValidationError> {
    match get(row, col) {
        None => Ok(None),
        Some(t) => t
            .parse::<i64>()
            .ok()
            .and_then(|v| T::try_from(v).ok())
            .map(Some)
            .ok_or_else(|| err(col, format!("{t:?} is not a whole number in range"))),
    }
}

fn flag(row: &Row, col: &str, default: bool) -> Result<bool, ValidationError> {
    match get(row, col).map(str::to_ascii_lowercase) {
        None => Ok(default),
        Some(t) if matches!(t.as_str(), "true" | "yes" | "1" | "ja" | "oui" | "x") => Ok(true),
        Some(t) if matches!(t.as_str(), "false" | "no" | "0" | "nein" | "non") => Ok(false),
        Some(t) => Err(err(col, format!("{t:?} is not true or false"))),
    }
}

fn label<T: serde::de::DeserializeOwned>(
    row: &Row,
    col: &str,
    what: &str,
) -> Result<T, ValidationError> {
    let t = required(row, col)?;
    serde_json::from_value(serde_json::Value::String(t.to_ascii_lowercase()))
        .map_err(|_| err(col, format!("{t:?} is not {what}")))
}

fn text(row: &Row, col: &str) -> Option<String> {
    get(row, col).map(str::to_owned)
}

/// A product row (id left nil: the server keys products by SKU).
pub fn product(row: &Row, n: Numbers) -> Result<Product, ValidationError> {
    let p = Product {
        id: ProductId(uuid::Uuid::nil()),
        sku: required(row, "sku")?.to_owned(),
        name: required(row, "name")?.to_owned(),
        variant_id: None,
        price: money(row, "price", n)?.ok_or_else(|| err("price", "is empty; fill it in"))?,
        unit_cost: money(row, "unit_cost", n)?,
        barcode: text(row, "barcode"),
        location: text(row, "location"),
        low_stock_threshold: whole(row, "low_stock_threshold")?,
        tags: get(row, "tags")
            .map(|t| {
                t.split('|')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        active: flag(row, "active", true)?,
    };
    p.validate()?;
    Ok(p)
}

/// A stock row: SKU and the units counted.
pub fn stock(row: &Row) -> Result<(String, i64), ValidationError> {
    let sku = required(row, "sku")?.to_owned();
    let counted: i64 =
        whole(row, "on_hand")?.ok_or_else(|| err("on_hand", "is empty; fill it in"))?;
    validate_count("on_hand", counted)?;
    Ok((sku, counted))
}

fn diameter(row: &Row, col: &str) -> Result<Diameter, ValidationError> {
    match required(row, col)?.replace(',', ".").as_str() {
        "1.75" => Ok(Diameter::Mm175),
        "2.85" | "3" | "3.0" | "3.00" => Ok(Diameter::Mm285),
        t => Err(err(col, format!("{t:?} is not 1.75 or 2.85"))),
    }
}

/// The key that finds a filament: brand, material, colour name, diameter (case-insensitive).
pub type FilamentKey = (String, Material, String, Diameter);

/// The key of a filament.
pub fn filament_key(f: &Filament) -> FilamentKey {
    (
        f.brand.trim().to_lowercase(),
        f.material,
        f.colour.name.trim().to_lowercase(),
        f.diameter,
    )
}

/// A filament row (with a fresh id made by `id`).
pub fn filament(row: &Row, n: Numbers, id: FilamentId) -> Result<Filament, ValidationError> {
    let density = decimal(required(row, "density_g_cm3")?, 3, n)
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| err("density_g_cm3", "is not a density like 1.24"))?;
    let f = Filament {
        id,
        brand: required(row, "brand")?.to_owned(),
        material: label(row, "material", "pla, petg, abs, asa, tpu, pa, pc or other")?,
        colour: Colour {
            name: required(row, "colour_name")?.to_owned(),
            hex: required(row, "colour_hex")?.to_ascii_lowercase(),
            multi_hexes: get(row, "multi_hexes")
                .map(|t| {
                    t.split('|')
                        .map(|h| h.trim().to_ascii_lowercase())
                        .collect()
                })
                .unwrap_or_default(),
        },
        diameter: diameter(row, "diameter")?,
        density_mg_cm3: density,
        net_weight_cg: grams(row, "net_weight_g", n)?
            .ok_or_else(|| err("net_weight_g", "is empty; fill it in"))?,
        empty_spool_cg: grams(row, "empty_spool_g", n)?,
        price_per_spool: money(row, "price_per_spool", n)?,
        nozzle_temp_c: whole(row, "nozzle_temp_c")?,
        bed_temp_c: whole(row, "bed_temp_c")?,
        article_number: text(row, "article_number"),
        ean: text(row, "ean"),
    };
    f.validate()?;
    Ok(f)
}

/// A spool row, before its filament is found.
#[derive(Debug, Clone, PartialEq)]
pub struct SpoolRow {
    /// The spool's id when the file came from this shop.
    pub id: Option<uuid::Uuid>,
    /// Its filament's key.
    pub filament: FilamentKey,
    /// Net weight when new.
    pub initial_net_cg: Centigrams,
    /// Grams left (empty: as initial).
    pub left_cg: Centigrams,
    /// Empty-spool weight.
    pub empty_spool_cg: Option<Centigrams>,
    /// Price paid.
    pub price_paid: Option<Minor>,
    /// Purchase date.
    pub purchase_date: Option<Date>,
    /// Location.
    pub location: Option<String>,
    /// Lot number.
    pub lot_number: Option<String>,
    /// Barcode.
    pub barcode: Option<String>,
    /// NFC tag id.
    pub nfc_tag_id: Option<String>,
    /// Archived.
    pub archived: bool,
}

impl SpoolRow {
    /// The spool this row describes, as `id` of the filament `filament_id`.
    pub fn spool(&self, id: super::SpoolId, filament_id: FilamentId) -> super::spool::Spool {
        super::spool::Spool {
            id,
            filament_id,
            initial_net_cg: self.initial_net_cg,
            empty_spool_cg: self.empty_spool_cg,
            price_paid: self.price_paid,
            purchase_date: self.purchase_date,
            location: self.location.clone(),
            lot_number: self.lot_number.clone(),
            barcode: self.barcode.clone(),
            nfc_tag_id: self.nfc_tag_id.clone(),
            archived: self.archived,
        }
    }
}

/// A spool row.
pub fn spool(row: &Row, n: Numbers) -> Result<SpoolRow, ValidationError> {
    let id = match get(row, "id") {
        None => None,
        Some(t) => Some(
            uuid::Uuid::parse_str(t)
                .map_err(|_| err("id", format!("{t:?} is not a spool id from an export")))?,
        ),
    };
    let initial =
        grams(row, "initial_g", n)?.ok_or_else(|| err("initial_g", "is empty; fill it in"))?;
    let left = grams(row, "left_g", n)?.unwrap_or(initial);
    if left > initial {
        return Err(err(
            "left_g",
            "is more than initial_g; a spool cannot gain filament",
        ));
    }
    let purchase_date = match get(row, "purchase_date") {
        None => None,
        Some(t) => Some(
            Date::parse(
                t,
                &time::macros::format_description!("[year]-[month]-[day]"),
            )
            .map_err(|_| {
                err(
                    "purchase_date",
                    format!("{t:?} is not a date like 2025-06-14"),
                )
            })?,
        ),
    };
    let s = SpoolRow {
        id,
        filament: (
            required(row, "filament_brand")?.to_lowercase(),
            label(
                row,
                "filament_material",
                "pla, petg, abs, asa, tpu, pa, pc or other",
            )?,
            required(row, "filament_colour")?.to_lowercase(),
            diameter(row, "filament_diameter")?,
        ),
        initial_net_cg: initial,
        left_cg: left,
        empty_spool_cg: grams(row, "empty_spool_g", n)?,
        price_paid: money(row, "price_paid", n)?,
        purchase_date,
        location: text(row, "location"),
        lot_number: text(row, "lot_number"),
        barcode: text(row, "barcode"),
        nfc_tag_id: text(row, "nfc_tag_id"),
        archived: flag(row, "archived", false)?,
    };
    s.spool(
        super::SpoolId(uuid::Uuid::nil()),
        FilamentId(uuid::Uuid::nil()),
    )
    .validate()?;
    Ok(s)
}

/// A sales row: one line of a sale.
#[derive(Debug, Clone, PartialEq)]
pub struct SaleRow {
    /// The sale it belongs to (rows with the same `sale_id` are one sale; none: its own).
    pub sale_key: Option<String>,
    /// When it was taken.
    pub taken_at: time::OffsetDateTime,
    /// How it was paid.
    pub payment_method: super::sale::PaymentMethod,
    /// Voided afterwards.
    pub voided: bool,
    /// The product's SKU.
    pub sku: String,
    /// Units.
    pub quantity: u32,
    /// Price of one unit.
    pub unit_price: Minor,
    /// The sale's discount, an amount.
    pub discount: Option<Minor>,
    /// The sale's total in the file, checked against the one computed.
    pub total: Option<Minor>,
}

/// A sales row.
pub fn sale(row: &Row, n: Numbers) -> Result<SaleRow, ValidationError> {
    let t = required(row, "taken_at")?;
    let taken_at = time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
        .map_err(|_| {
        err(
            "taken_at",
            format!("{t:?} is not a time like 2025-06-14T10:30:00Z"),
        )
    })?;
    let quantity: u32 =
        whole(row, "quantity")?.ok_or_else(|| err("quantity", "is empty; fill it in"))?;
    if quantity == 0 || quantity > super::sale::MAX_LINE_QUANTITY {
        return Err(err("quantity", "must be between 1 and 10000"));
    }
    Ok(SaleRow {
        sale_key: text(row, "sale_id"),
        taken_at,
        payment_method: label(row, "payment_method", "cash, card or other")?,
        voided: flag(row, "voided", false)?,
        sku: required(row, "sku")?.to_owned(),
        quantity,
        unit_price: money(row, "unit_price", n)?
            .ok_or_else(|| err("unit_price", "is empty; fill it in"))?,
        discount: money(row, "sale_discount", n)?,
        total: money(row, "sale_total", n)?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn row(pairs: &[(&str, &str)]) -> Row {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const DOT: Numbers = Numbers {
        decimal_comma: false,
    };
    const COMMA: Numbers = Numbers {
        decimal_comma: true,
    };

    #[test]
    fn decimals() {
        assert_eq!(decimal("12.5", 2, DOT), Some(1250));
        assert_eq!(decimal("12,50", 2, COMMA), Some(1250));
        assert_eq!(decimal("1.234,5", 2, COMMA), Some(123_450));
        assert_eq!(decimal("12.345", 2, DOT), None);
        assert_eq!(decimal("abc", 2, DOT), None);
        assert_eq!(decimal("", 2, DOT), None);
        assert_eq!(decimal("-3", 0, DOT), Some(-3));
        assert_eq!(format_decimal(1250, 2), "12.50");
        assert_eq!(format_decimal(-5, 2), "-0.05");
        assert_eq!(format_decimal(1240, 3), "1.240");
    }

    #[test]
    fn headers_are_checked() {
        let h = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(
            CsvKind::Products
                .check_headers(&h(&["sku", "name", "price"]))
                .is_ok()
        );
        let e = CsvKind::Products
            .check_headers(&h(&["sku", "title", "price"]))
            .unwrap_err();
        assert!(
            e.contains("missing columns: name") && e.contains("unknown columns: title"),
            "{e}"
        );
        assert!(
            CsvKind::Stock
                .check_headers(&h(&["sku", "sku", "on_hand"]))
                .is_err()
        );
    }

    #[test]
    fn rows_name_their_bad_column() {
        let p = product(
            &row(&[
                ("sku", "REX-L"),
                ("name", "Rex"),
                ("price", "12,50"),
                ("tags", "dino|kids"),
            ]),
            COMMA,
        )
        .unwrap();
        assert_eq!((p.price, p.tags.len(), p.active), (Minor(1250), 2, true));
        assert_eq!(
            product(&row(&[("sku", "A"), ("name", "B"), ("price", "x")]), DOT)
                .unwrap_err()
                .field,
            "price"
        );
        assert_eq!(
            product(&row(&[("sku", "A B"), ("name", "B"), ("price", "1")]), DOT)
                .unwrap_err()
                .field,
            "sku"
        );
        assert_eq!(
            stock(&row(&[("sku", "A"), ("on_hand", "1.5")]))
                .unwrap_err()
                .field,
            "on_hand"
        );
        let s = spool(
            &row(&[
                ("filament_brand", "Prusament"),
                ("filament_material", "PLA"),
                ("filament_colour", "Black"),
                ("filament_diameter", "1.75"),
                ("initial_g", "1000"),
                ("left_g", "250.5"),
                ("purchase_date", "2025-06-14"),
            ]),
            DOT,
        )
        .unwrap();
        assert_eq!(
            (s.left_cg, s.filament.1),
            (Centigrams(25_050), Material::Pla)
        );
        let e = spool(
            &row(&[
                ("filament_brand", "P"),
                ("filament_material", "wood"),
                ("filament_colour", "B"),
                ("filament_diameter", "1.75"),
                ("initial_g", "1000"),
            ]),
            DOT,
        )
        .unwrap_err();
        assert_eq!(e.field, "filament_material");
    }
}

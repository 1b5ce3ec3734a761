//! Spoolman interop: how Spoolman's values (grams and millimetres as floats, colours as
//! `RRGGBB`, free-text materials, flat export rows with dotted keys) map to ours, and back.
//!
//! Pure functions only: the server's Spoolman-compatible API and its importers call them.
//! A record from Spoolman is read from a flat `key -> text` map ([`Flat`]): Spoolman's
//! exports (`/api/v1/export/{vendors,filaments,spools}`, JSON or CSV) are flat already
//! (`filament.vendor.name`), and its API's nested JSON is flattened with [`flatten_json`],
//! so every source goes through one reader. Unknown keys are ignored and missing optional
//! ones are empty, so exports of older and newer Spoolman versions read alike.

use std::collections::BTreeMap;

use serde_json::Value;

use super::filament::{Diameter, Material};
use super::{Centigrams, filament};

/// One record: dotted key to its text (JSON `null` and empty CSV cells are absent).
pub type Flat = BTreeMap<String, String>;

/// Flattens a JSON object into dotted keys (`{"filament": {"id": 3}}` becomes
/// `filament.id = "3"`); numbers and booleans become their JSON text, nulls are left out,
/// arrays are kept as JSON text.
pub fn flatten_json(value: &Value) -> Flat {
    let mut out = Flat::new();
    flatten_into(&mut out, "", value);
    out
}

fn flatten_into(out: &mut Flat, prefix: &str, value: &Value) {
    match value {
        Value::Null => {}
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten_into(out, &key, v);
            }
        }
        Value::String(s) => {
            if !s.is_empty() {
                out.insert(prefix.to_owned(), s.clone());
            }
        }
        other => {
            out.insert(prefix.to_owned(), other.to_string());
        }
    }
}

/// Grams of filament in `length_mm` of it: the cylinder's volume times the density, as
/// Spoolman computes it (`density g/cm³ * π (d/2)² mm² * length mm / 1000`).
pub fn grams_for_length(length_mm: f64, diameter_mm: f64, density_g_cm3: f64) -> f64 {
    let radius = diameter_mm / 2.0;
    density_g_cm3 * std::f64::consts::PI * radius * radius * length_mm / 1000.0
}

/// Millimetres of filament in `grams` (the inverse of [`grams_for_length`]); 0 when the
/// diameter or density is not positive.
pub fn length_for_grams(grams: f64, diameter_mm: f64, density_g_cm3: f64) -> f64 {
    let radius = diameter_mm / 2.0;
    let per_mm = density_g_cm3 * std::f64::consts::PI * radius * radius / 1000.0;
    if per_mm > 0.0 { grams / per_mm } else { 0.0 }
}

/// The diameter in millimetres.
pub fn diameter_mm(d: Diameter) -> f64 {
    match d {
        Diameter::Mm175 => 1.75,
        Diameter::Mm285 => 2.85,
    }
}

/// Spoolman's diameter (any float) as ours: about 1.75 mm, or 2.85/3.00 mm (sold as "3 mm").
pub fn diameter_from_mm(mm: f64) -> Result<Diameter, String> {
    if (1.6..=1.9).contains(&mm) {
        Ok(Diameter::Mm175)
    } else if (2.7..=3.1).contains(&mm) {
        Ok(Diameter::Mm285)
    } else {
        Err(format!(
            "diameter {mm} mm is not 1.75 or 2.85 mm, the sizes PrintStall keeps"
        ))
    }
}

/// Spoolman's material text as ours (`"PLA+"` and `"Silk PLA"` are PLA, `"PA-CF"` PA);
/// anything else is `other`.
pub fn material_from_text(text: &str) -> Material {
    let t = text.trim().to_ascii_uppercase();
    let has = |m: &str| {
        t.split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| w == m || (w.starts_with(m) && w[m.len()..].chars().all(|c| c == '+')))
    };
    if has("PETG") || has("PET") {
        Material::Petg
    } else if has("PLA") {
        Material::Pla
    } else if has("ABS") {
        Material::Abs
    } else if has("ASA") {
        Material::Asa
    } else if has("TPU") || has("TPE") {
        Material::Tpu
    } else if has("PA") || has("PA6") || has("PA12") || has("NYLON") {
        Material::Pa
    } else if has("PC") {
        Material::Pc
    } else {
        Material::Other
    }
}

/// Our material as Spoolman shows it.
pub fn material_label(m: Material) -> &'static str {
    match m {
        Material::Pla => "PLA",
        Material::Petg => "PETG",
        Material::Abs => "ABS",
        Material::Asa => "ASA",
        Material::Tpu => "TPU",
        Material::Pa => "PA",
        Material::Pc => "PC",
        Material::Other => "Other",
    }
}

/// Spoolman's colour (`FF0000`, `FF0000AA` with alpha, or `#ff0000`) as ours (`#ff0000`).
pub fn hex_from_spoolman(text: &str) -> Option<String> {
    let t = text.trim().trim_start_matches('#');
    let rgb = match t.len() {
        6 | 8 => t.get(..6)?,
        _ => return None,
    };
    rgb.chars()
        .all(|c| c.is_ascii_hexdigit())
        .then(|| format!("#{}", rgb.to_ascii_lowercase()))
}

/// Our colour (`#1c1c1e`) as Spoolman's (`1C1C1E`).
pub fn hex_to_spoolman(hex: &str) -> String {
    hex.trim_start_matches('#').to_ascii_uppercase()
}

/// Grams (a float from a client) as centigrams, rounded; `None` when not a finite number
/// or beyond any spool.
pub fn centigrams_from_grams(grams: f64) -> Option<Centigrams> {
    if !grams.is_finite() || grams.abs() > 1_000_000.0 {
        return None;
    }
    Some(Centigrams((grams * 100.0).round() as i64))
}

/// Centigrams as grams for Spoolman's float fields.
pub fn grams(cg: Centigrams) -> f64 {
    cg.0 as f64 / 100.0
}

/// A vendor read from Spoolman.
#[derive(Debug, Clone, PartialEq)]
pub struct SmVendor {
    /// Its id in that Spoolman.
    pub id: i32,
    /// Name (becomes the filament's brand).
    pub name: String,
    /// Empty-spool weight.
    pub empty_spool_cg: Option<Centigrams>,
}

/// A filament read from Spoolman, already in our terms.
#[derive(Debug, Clone, PartialEq)]
pub struct SmFilament {
    /// Its id in that Spoolman.
    pub id: i32,
    /// Its vendor's id there, when it has one.
    pub vendor_id: Option<i32>,
    /// Brand: the vendor's name (embedded or looked up), else `Unknown`.
    pub brand: Option<String>,
    /// Material.
    pub material: Material,
    /// Colour name: Spoolman's filament name, else its material and colour.
    pub colour_name: String,
    /// `#rrggbb`.
    pub colour_hex: String,
    /// Further colours of a multi-colour filament.
    pub multi_hexes: Vec<String>,
    /// Diameter.
    pub diameter: Diameter,
    /// Density, mg/cm³.
    pub density_mg_cm3: u32,
    /// Net weight of a full spool.
    pub net_weight_cg: Option<Centigrams>,
    /// Empty-spool weight.
    pub empty_spool_cg: Option<Centigrams>,
    /// Price of a spool, minor units.
    pub price: Option<i64>,
    /// Nozzle °C.
    pub nozzle_temp_c: Option<u16>,
    /// Bed °C.
    pub bed_temp_c: Option<u16>,
    /// Article number.
    pub article_number: Option<String>,
}

/// A spool read from Spoolman, already in our terms.
#[derive(Debug, Clone, PartialEq)]
pub struct SmSpool {
    /// Its id in that Spoolman.
    pub id: i32,
    /// Its filament's id there.
    pub filament_id: i32,
    /// Net weight when new (Spoolman's `initial_weight`, else the filament's weight).
    pub initial_net_cg: Option<Centigrams>,
    /// What was used.
    pub used_cg: Centigrams,
    /// Empty-spool weight.
    pub empty_spool_cg: Option<Centigrams>,
    /// Price paid, minor units.
    pub price: Option<i64>,
    /// Location.
    pub location: Option<String>,
    /// Lot number.
    pub lot_number: Option<String>,
    /// Archived.
    pub archived: bool,
}

fn text(r: &Flat, key: &str) -> Option<String> {
    r.get(key)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .map(|v| v.strip_prefix('\'').unwrap_or(v).to_owned())
}

fn number(r: &Flat, key: &str) -> Result<Option<f64>, String> {
    match text(r, key) {
        None => Ok(None),
        Some(t) => t
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(Some)
            .ok_or_else(|| format!("{key} {t:?} is not a number")),
    }
}

fn id(r: &Flat, key: &str) -> Result<Option<i32>, String> {
    match number(r, key)? {
        None => Ok(None),
        Some(n) if n.fract() == 0.0 && n >= 1.0 && n <= f64::from(i32::MAX) => Ok(Some(n as i32)),
        Some(n) => Err(format!(
            "{key} {n} is not a Spoolman id (a positive whole number)"
        )),
    }
}

fn weight(r: &Flat, key: &str) -> Result<Option<Centigrams>, String> {
    match number(r, key)? {
        None => Ok(None),
        Some(g) if g < 0.0 => Err(format!("{key} {g} g is negative")),
        Some(g) => centigrams_from_grams(g)
            .map(Some)
            .ok_or_else(|| format!("{key} {g} g is more than any spool holds")),
    }
}

fn price(r: &Flat, key: &str) -> Result<Option<i64>, String> {
    match number(r, key)? {
        None => Ok(None),
        Some(p) if !(0.0..=1_000_000.0).contains(&p) => {
            Err(format!("{key} {p} is not a price between 0 and 1000000"))
        }
        Some(p) => Ok(Some((p * 100.0).round() as i64)),
    }
}

fn temp(r: &Flat, key: &str, max: u16) -> Result<Option<u16>, String> {
    match number(r, key)? {
        None => Ok(None),
        // Spoolman allows 0 as "not set"; ours leave it empty.
        Some(t) if t <= 0.0 => Ok(None),
        Some(t) if t > f64::from(max) => Err(format!("{key} {t} °C is above {max} °C")),
        Some(t) => Ok(Some(t.round() as u16)),
    }
}

fn boolean(r: &Flat, key: &str) -> Result<bool, String> {
    match text(r, key).map(|t| t.to_ascii_lowercase()) {
        None => Ok(false),
        Some(t) if matches!(t.as_str(), "true" | "1" | "yes") => Ok(true),
        Some(t) if matches!(t.as_str(), "false" | "0" | "no") => Ok(false),
        Some(t) => Err(format!("{key} {t:?} is not true or false")),
    }
}

fn short(v: Option<String>, max: usize) -> Option<String> {
    v.map(|s| s.chars().take(max).collect())
}

/// Reads a vendor from a record whose vendor keys start with `prefix` (`""` for a vendors
/// export, `"vendor."` in a filament, `"filament.vendor."` in a spool). `Ok(None)` when the
/// record has no vendor.
pub fn read_vendor(r: &Flat, prefix: &str) -> Result<Option<SmVendor>, String> {
    let Some(id) = id(r, &format!("{prefix}id"))? else {
        return Ok(None);
    };
    let name =
        text(r, &format!("{prefix}name")).ok_or_else(|| format!("vendor {id} has no name"))?;
    Ok(Some(SmVendor {
        id,
        name: name
            .chars()
            .take(super::validation::max_len::NAME)
            .collect(),
        empty_spool_cg: weight(r, &format!("{prefix}empty_spool_weight"))?,
    }))
}

/// Reads a filament from a record whose filament keys start with `prefix` (`""` for a
/// filaments export, `"filament."` in a spool).
pub fn read_filament(r: &Flat, prefix: &str) -> Result<SmFilament, String> {
    let k = |s: &str| format!("{prefix}{s}");
    let id = id(r, &k("id"))?.ok_or_else(|| format!("{} is missing", k("id")))?;
    let vendor = read_vendor(r, &k("vendor."))?;
    let vendor_id = id_or(r, &k("vendor_id"))?.or(vendor.as_ref().map(|v| v.id));
    let material_text = text(r, &k("material")).unwrap_or_default();
    let material = material_from_text(&material_text);
    let density =
        number(r, &k("density"))?.ok_or_else(|| format!("{} is missing", k("density")))?;
    let density_mg_cm3 = (density * 1000.0).round();
    if !(500.0..=3000.0).contains(&density_mg_cm3) {
        return Err(format!(
            "{} {density} g/cm³ is outside 0.5 to 3.0",
            k("density")
        ));
    }
    let diameter = diameter_from_mm(
        number(r, &k("diameter"))?.ok_or_else(|| format!("{} is missing", k("diameter")))?,
    )?;
    let mut hexes: Vec<String> = text(r, &k("multi_color_hexes"))
        .map(|m| m.split(',').filter_map(hex_from_spoolman).collect())
        .unwrap_or_default();
    let colour_hex = match text(r, &k("color_hex")) {
        Some(h) => hex_from_spoolman(&h)
            .ok_or_else(|| format!("{} {h:?} is not a colour like FF0000", k("color_hex")))?,
        None if !hexes.is_empty() => hexes.remove(0),
        // No colour in Spoolman: a neutral grey, to be corrected in the app.
        None => "#808080".to_owned(),
    };
    hexes.truncate(filament::MAX_MULTI_HEXES);
    let colour_name = text(r, &k("name")).unwrap_or_else(|| {
        if material_text.is_empty() {
            hex_to_spoolman(&colour_hex)
        } else {
            format!("{material_text} {}", hex_to_spoolman(&colour_hex))
        }
    });
    let net_weight_cg = weight(r, &k("weight"))?.filter(|w| w.0 > 0);
    if net_weight_cg.is_some_and(|w| w > filament::MAX_SPOOL_CG) {
        return Err(format!("{} is more than 20 kg", k("weight")));
    }
    let empty = weight(r, &k("spool_weight"))?
        .or(vendor.as_ref().and_then(|v| v.empty_spool_cg))
        .filter(|w| w.0 <= 500_000);
    Ok(SmFilament {
        id,
        vendor_id,
        brand: vendor.map(|v| v.name),
        material,
        colour_name: colour_name
            .chars()
            .take(super::validation::max_len::NAME)
            .collect(),
        colour_hex,
        multi_hexes: hexes,
        diameter,
        density_mg_cm3: density_mg_cm3 as u32,
        net_weight_cg,
        empty_spool_cg: empty,
        price: price(r, &k("price"))?,
        nozzle_temp_c: temp(r, &k("settings_extruder_temp"), filament::MAX_NOZZLE_C)?
            .filter(|t| *t >= 150),
        bed_temp_c: temp(r, &k("settings_bed_temp"), filament::MAX_BED_C)?,
        article_number: short(
            text(r, &k("article_number")),
            super::validation::max_len::CODE,
        ),
    })
}

fn id_or(r: &Flat, key: &str) -> Result<Option<i32>, String> {
    id(r, key)
}

/// Reads a spool from a spools-export record or an API spool (flattened).
pub fn read_spool(r: &Flat) -> Result<SmSpool, String> {
    let id = id(r, "id")?.ok_or("id is missing")?;
    let filament_id = id_or(r, "filament_id")?
        .or(id_or(r, "filament.id")?)
        .ok_or("filament_id is missing")?;
    let used = weight(r, "used_weight")?.unwrap_or(Centigrams::ZERO);
    let initial =
        weight(r, "initial_weight")?
            .filter(|w| w.0 > 0)
            .or(weight(r, "filament.weight")?.filter(|w| w.0 > 0));
    if initial.is_some_and(|w| w > filament::MAX_SPOOL_CG) {
        return Err("initial_weight is more than 20 kg".into());
    }
    Ok(SmSpool {
        id,
        filament_id,
        initial_net_cg: initial,
        used_cg: used,
        empty_spool_cg: weight(r, "spool_weight")?.filter(|w| w.0 <= 500_000),
        price: price(r, "price")?,
        location: short(text(r, "location"), super::validation::max_len::CODE),
        lot_number: short(text(r, "lot_nr"), super::validation::max_len::CODE),
        archived: boolean(r, "archived")?,
    })
}

/// The payload of a Spoolman spool QR code (`web+spoolman:s-12`), kept as the imported
/// spool's barcode so scanning the old label finds it.
pub fn spool_qr_payload(spoolman_id: i32) -> String {
    format!("web+spoolman:s-{spoolman_id}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn length_to_grams_like_spoolman() {
        // 1 m of 1.75 mm PLA (1.24 g/cm³) weighs about 2.98 g.
        let g = grams_for_length(1000.0, 1.75, 1.24);
        assert!((g - 2.9825).abs() < 0.001, "{g}");
        let back = length_for_grams(g, 1.75, 1.24);
        assert!((back - 1000.0).abs() < 1e-6);
        assert_eq!(length_for_grams(1.0, 1.75, 0.0), 0.0);
    }

    #[test]
    fn values_map() {
        assert_eq!(material_from_text("PLA+"), Material::Pla);
        assert_eq!(material_from_text("Silk PLA"), Material::Pla);
        assert_eq!(material_from_text("petg"), Material::Petg);
        assert_eq!(material_from_text("PA-CF"), Material::Pa);
        assert_eq!(material_from_text("Wood"), Material::Other);
        assert_eq!(hex_from_spoolman("FF0000AA").as_deref(), Some("#ff0000"));
        assert_eq!(hex_from_spoolman("#00ff00").as_deref(), Some("#00ff00"));
        assert_eq!(hex_from_spoolman("red"), None);
        assert_eq!(hex_to_spoolman("#1c1c1e"), "1C1C1E");
        assert_eq!(diameter_from_mm(3.0).unwrap(), Diameter::Mm285);
        assert!(diameter_from_mm(0.4).is_err());
        assert_eq!(centigrams_from_grams(12.345), Some(Centigrams(1235)));
        assert_eq!(centigrams_from_grams(f64::NAN), None);
    }

    #[test]
    fn reads_an_api_spool_and_an_export_row_alike() {
        let api = json!({"id": 7, "filament": {"id": 3, "name": "Galaxy Black", "material": "PLA",
            "density": 1.24, "diameter": 1.75, "weight": 1000.0, "color_hex": "1C1C1E",
            "vendor": {"id": 2, "name": "Prusament", "empty_spool_weight": 201.0}},
            "used_weight": 123.45, "location": "Shelf A", "lot_nr": "L-9", "archived": false,
            "price": 24.99, "extra": {}});
        let flat = flatten_json(&api);
        let s = read_spool(&flat).unwrap();
        assert_eq!((s.id, s.filament_id), (7, 3));
        assert_eq!(s.initial_net_cg, Some(Centigrams(100_000)));
        assert_eq!(s.used_cg, Centigrams(12_345));
        assert_eq!(s.price, Some(2499));
        let f = read_filament(&flat, "filament.").unwrap();
        assert_eq!(f.brand.as_deref(), Some("Prusament"));
        assert_eq!(f.colour_hex, "#1c1c1e");
        assert_eq!(f.empty_spool_cg, Some(Centigrams(20_100)));
        // The export of an older Spoolman: flat keys, text values, no vendor, no weights.
        let mut row = Flat::new();
        for (k, v) in [
            ("id", "8"),
            ("filament_id", "4"),
            ("used_weight", "0"),
            ("archived", "True"),
            ("filament.id", "4"),
            ("filament.density", "1.27"),
            ("filament.diameter", "1.75"),
            ("filament.material", "PETG"),
            ("some.future.key", "x"),
        ] {
            row.insert(k.into(), v.into());
        }
        let s = read_spool(&row).unwrap();
        assert!(s.archived);
        assert_eq!(s.initial_net_cg, None);
        let f = read_filament(&row, "filament.").unwrap();
        assert_eq!((f.material, f.brand.clone()), (Material::Petg, None));
        assert_eq!(f.colour_name, "PETG 808080");
        row.insert("used_weight".into(), "lots".into());
        assert!(read_spool(&row).unwrap_err().contains("used_weight"));
    }
}

//! A filament: the kind of filament as on a shelf label (not the physical roll, see spool).

use serde::{Deserialize, Serialize};

use super::validation::{self as v, Valid, ValidationError, max_len};
use super::{Centigrams, FilamentId};
use crate::money::Minor;

/// Most colours of a multi-colour filament.
pub const MAX_MULTI_HEXES: usize = 8;
/// Heaviest spool accepted: 20 kg.
pub const MAX_SPOOL_CG: Centigrams = Centigrams(20 * 100_000);
/// Highest nozzle temperature accepted, °C.
pub const MAX_NOZZLE_C: u16 = 500;
/// Highest bed temperature accepted, °C.
pub const MAX_BED_C: u16 = 150;

/// Filament material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Material {
    /// PLA
    Pla,
    /// PETG
    Petg,
    /// ABS
    Abs,
    /// ASA
    Asa,
    /// TPU (flexible)
    Tpu,
    /// PA (nylon)
    Pa,
    /// PC (polycarbonate)
    Pc,
    /// Anything else (say which in the notes or name).
    Other,
}

impl Material {
    /// A typical density in mg/cm³, to prefill the form.
    pub fn typical_density(self) -> u32 {
        match self {
            Material::Pla => 1240,
            Material::Petg => 1270,
            Material::Abs => 1040,
            Material::Asa => 1070,
            Material::Tpu => 1210,
            Material::Pa => 1140,
            Material::Pc => 1200,
            Material::Other => 1240,
        }
    }
}

/// Filament diameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Diameter {
    /// 1.75 mm
    #[serde(rename = "1.75")]
    Mm175,
    /// 2.85 mm
    #[serde(rename = "2.85")]
    Mm285,
}

/// A colour: a name, its hex, and for multi-colour (silk rainbow, dual) filaments the
/// colours in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Colour {
    /// The maker's colour name ("Galaxy Black").
    pub name: String,
    /// Main colour, `#rrggbb`.
    pub hex: String,
    /// Further colours of a multi-colour filament, `#rrggbb` each.
    #[serde(default)]
    pub multi_hexes: Vec<String>,
}

impl Colour {
    /// Checks the name and every hex.
    pub fn validate(&self) -> Valid {
        v::required_text("colour.name", &self.name, max_len::NAME)?;
        v::hex_colour("colour.hex", &self.hex)?;
        if self.multi_hexes.len() > MAX_MULTI_HEXES {
            return Err(ValidationError::new(
                "colour.multi_hexes",
                format!(
                    "has {} colours; keep at most {MAX_MULTI_HEXES}",
                    self.multi_hexes.len()
                ),
            ));
        }
        for (i, h) in self.multi_hexes.iter().enumerate() {
            v::hex_colour(&format!("colour.multi_hexes[{i}]"), h)?;
        }
        Ok(())
    }
}

/// A kind of filament.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filament {
    /// Id.
    pub id: FilamentId,
    /// Brand.
    pub brand: String,
    /// Material.
    pub material: Material,
    /// Colour.
    pub colour: Colour,
    /// Diameter.
    pub diameter: Diameter,
    /// Density in mg/cm³ (1240 = 1.24 g/cm³).
    pub density_mg_cm3: u32,
    /// Net filament weight of a full spool.
    pub net_weight_cg: Centigrams,
    /// Weight of the empty spool (to turn a scale reading into grams left).
    pub empty_spool_cg: Option<Centigrams>,
    /// Usual price of one spool.
    pub price_per_spool: Option<Minor>,
    /// Nozzle temperature, °C.
    pub nozzle_temp_c: Option<u16>,
    /// Bed temperature, °C.
    pub bed_temp_c: Option<u16>,
    /// Maker's article number.
    pub article_number: Option<String>,
    /// EAN / UPC on the box.
    pub ean: Option<String>,
}

impl Filament {
    /// Checks every field.
    pub fn validate(&self) -> Valid {
        v::required_text("brand", &self.brand, max_len::NAME)?;
        self.colour.validate()?;
        validate_density(self.density_mg_cm3)?;
        validate_net_weight(self.net_weight_cg)?;
        validate_common(
            self.empty_spool_cg,
            self.price_per_spool,
            self.nozzle_temp_c,
            self.bed_temp_c,
        )?;
        v::optional_text(
            "article_number",
            self.article_number.as_deref(),
            max_len::CODE,
        )?;
        if let Some(e) = &self.ean {
            v::gtin("ean", e)?;
        }
        Ok(())
    }

    /// Metres of filament in `weight` (for "how long is what is left").
    pub fn metres_in(&self, weight: Centigrams) -> f64 {
        let d_mm = match self.diameter {
            Diameter::Mm175 => 1.75,
            Diameter::Mm285 => 2.85,
        };
        let area_cm2 = std::f64::consts::PI * (d_mm / 20.0) * (d_mm / 20.0);
        let density_g_cm3 = f64::from(self.density_mg_cm3) / 1000.0;
        if density_g_cm3 <= 0.0 {
            return 0.0;
        }
        let grams = weight.0 as f64 / 100.0;
        grams / density_g_cm3 / area_cm2 / 100.0
    }
}

/// A change to (or the creation of) a filament.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilamentPatch {
    /// Brand.
    pub brand: Option<String>,
    /// Material.
    pub material: Option<Material>,
    /// Colour.
    pub colour: Option<Colour>,
    /// Diameter.
    pub diameter: Option<Diameter>,
    /// Density, mg/cm³.
    pub density_mg_cm3: Option<u32>,
    /// Net weight of a full spool.
    pub net_weight_cg: Option<Centigrams>,
    /// Empty-spool weight.
    pub empty_spool_cg: Option<Centigrams>,
    /// Price of a spool.
    pub price_per_spool: Option<Minor>,
    /// Nozzle °C.
    pub nozzle_temp_c: Option<u16>,
    /// Bed °C.
    pub bed_temp_c: Option<u16>,
    /// Article number.
    pub article_number: Option<String>,
    /// EAN.
    pub ean: Option<String>,
}

impl FilamentPatch {
    /// Fields that may be set to `null`.
    pub const NULLABLE: &'static [&'static str] = &[
        "empty_spool_cg",
        "price_per_spool",
        "nozzle_temp_c",
        "bed_temp_c",
        "article_number",
        "ean",
    ];

    /// Checks the fields present.
    pub fn validate(&self) -> Valid {
        if let Some(b) = &self.brand {
            v::required_text("brand", b, max_len::NAME)?;
        }
        if let Some(c) = &self.colour {
            c.validate()?;
        }
        if let Some(d) = self.density_mg_cm3 {
            validate_density(d)?;
        }
        if let Some(w) = self.net_weight_cg {
            validate_net_weight(w)?;
        }
        validate_common(
            self.empty_spool_cg,
            self.price_per_spool,
            self.nozzle_temp_c,
            self.bed_temp_c,
        )?;
        v::optional_text(
            "article_number",
            self.article_number.as_deref(),
            max_len::CODE,
        )?;
        if let Some(e) = &self.ean {
            v::gtin("ean", e)?;
        }
        Ok(())
    }
}

fn validate_density(d: u32) -> Valid {
    v::in_range("density_mg_cm3", i64::from(d), 500, 3_000, " mg/cm³")
        .map_err(|e| ValidationError::new(e.field, format!("{}; PLA is about 1240", e.message)))
}

fn validate_net_weight(w: Centigrams) -> Valid {
    v::in_range("net_weight_cg", w.0, 1, MAX_SPOOL_CG.0, " cg")
}

fn validate_common(
    empty: Option<Centigrams>,
    price: Option<Minor>,
    nozzle: Option<u16>,
    bed: Option<u16>,
) -> Valid {
    if let Some(e) = empty {
        v::in_range("empty_spool_cg", e.0, 0, 5 * 100_000, " cg")?;
    }
    if let Some(p) = price {
        v::in_range("price_per_spool", p.0, 0, 100_000_000, "")?;
    }
    if let Some(n) = nozzle {
        v::in_range(
            "nozzle_temp_c",
            i64::from(n),
            150,
            i64::from(MAX_NOZZLE_C),
            " °C",
        )?;
    }
    if let Some(b) = bed {
        v::in_range("bed_temp_c", i64::from(b), 0, i64::from(MAX_BED_C), " °C")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use uuid::Uuid;

    fn pla() -> Filament {
        Filament {
            id: FilamentId(Uuid::nil()),
            brand: "Prusament".into(),
            material: Material::Pla,
            colour: Colour {
                name: "Galaxy Black".into(),
                hex: "#1c1c1e".into(),
                multi_hexes: vec![],
            },
            diameter: Diameter::Mm175,
            density_mg_cm3: 1240,
            net_weight_cg: Centigrams::from_grams(1000),
            empty_spool_cg: Some(Centigrams::from_grams(201)),
            price_per_spool: Some(Minor(2499)),
            nozzle_temp_c: Some(215),
            bed_temp_c: Some(60),
            article_number: None,
            ean: Some("4006381333931".into()),
        }
    }

    #[test]
    fn filament_checks() {
        let f = pla();
        f.validate().unwrap();
        let m = f.metres_in(Centigrams::from_grams(1000));
        assert!((m - 335.0).abs() < 5.0, "{m}");
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["diameter"], "1.75");
        assert_eq!(json["material"], "pla");
        let mut bad = pla();
        bad.colour.multi_hexes = vec!["#fff".into()];
        assert_eq!(bad.validate().unwrap_err().field, "colour.multi_hexes[0]");
        let mut bad = pla();
        bad.ean = Some("4006381333932".into());
        assert_eq!(bad.validate().unwrap_err().field, "ean");
        let mut bad = pla();
        bad.density_mg_cm3 = 1;
        assert!(
            bad.validate()
                .unwrap_err()
                .message
                .contains("PLA is about 1240")
        );
        let mut bad = pla();
        bad.nozzle_temp_c = Some(900);
        assert_eq!(bad.validate().unwrap_err().field, "nozzle_temp_c");
    }
}

//! A small bundled filament catalogue, so adding a spool can start from brand, material and
//! colour with density, diameter, weights and colour filled in, with no network (it is
//! compiled into the app with the rest of `core`).
//!
//! Written for PrintStall from common, generic values (densities and print temperatures by
//! material, 1 kg and 750 g spools, typical empty-spool weights): a starting point to check
//! against the label, not a copy of any maker's or database's data.
//!
//! The app's picker narrows brand → material → colour ([`brands`], [`materials`],
//! [`colours`]) and fills the form from the one entry they name ([`find`]).

use super::filament::{Colour, Diameter, Filament, Material};
use super::{Centigrams, FilamentId};

/// One catalogue entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Brand.
    pub brand: &'static str,
    /// Material.
    pub material: Material,
    /// Colour name.
    pub colour: &'static str,
    /// `#rrggbb`.
    pub hex: &'static str,
    /// Diameter.
    pub diameter: Diameter,
    /// Density, mg/cm³.
    pub density_mg_cm3: u32,
    /// Net filament weight of a full spool.
    pub net_weight_cg: i64,
    /// Typical empty-spool weight.
    pub empty_spool_cg: Option<i64>,
    /// Typical nozzle temperature, °C.
    pub nozzle_temp_c: u16,
    /// Typical bed temperature, °C.
    pub bed_temp_c: u16,
}

/// Typical (nozzle, bed) temperatures of a material, °C.
pub const fn typical_temperatures(material: Material) -> (u16, u16) {
    match material {
        Material::Pla => (210, 60),
        Material::Petg => (240, 80),
        Material::Abs => (250, 100),
        Material::Asa => (255, 100),
        Material::Tpu => (225, 50),
        Material::Pa => (260, 80),
        Material::Pc => (270, 110),
        Material::Other => (210, 60),
    }
}

const fn e(
    brand: &'static str,
    material: Material,
    colour: &'static str,
    hex: &'static str,
    net_g: i64,
    empty_g: i64,
) -> Entry {
    let density_mg_cm3 = match material {
        Material::Pla => 1240,
        Material::Petg => 1270,
        Material::Abs => 1040,
        Material::Asa => 1070,
        Material::Tpu => 1210,
        Material::Pa => 1140,
        Material::Pc => 1200,
        Material::Other => 1240,
    };
    let (nozzle_temp_c, bed_temp_c) = typical_temperatures(material);
    Entry {
        brand,
        material,
        colour,
        hex,
        diameter: Diameter::Mm175,
        density_mg_cm3,
        nozzle_temp_c,
        bed_temp_c,
        net_weight_cg: net_g * 100,
        empty_spool_cg: if empty_g > 0 {
            Some(empty_g * 100)
        } else {
            None
        },
    }
}

/// The entries, by brand.
pub const ENTRIES: &[Entry] = &[
    e("Generic", Material::Pla, "Black", "#1a1a1a", 1000, 0),
    e("Generic", Material::Pla, "White", "#f2f2f2", 1000, 0),
    e("Generic", Material::Pla, "Grey", "#8c8c8c", 1000, 0),
    e("Generic", Material::Pla, "Red", "#c8102e", 1000, 0),
    e("Generic", Material::Pla, "Orange", "#ff6a13", 1000, 0),
    e("Generic", Material::Pla, "Yellow", "#ffcd00", 1000, 0),
    e("Generic", Material::Pla, "Green", "#2e8b57", 1000, 0),
    e("Generic", Material::Pla, "Blue", "#1f4fbf", 1000, 0),
    e("Generic", Material::Pla, "Purple", "#6a3d9a", 1000, 0),
    e("Generic", Material::Pla, "Silk Gold", "#d4af37", 1000, 0),
    e("Generic", Material::Petg, "Black", "#1a1a1a", 1000, 0),
    e("Generic", Material::Petg, "Clear", "#e8f1f2", 1000, 0),
    e("Generic", Material::Abs, "Black", "#1a1a1a", 1000, 0),
    e("Generic", Material::Asa, "White", "#f2f2f2", 1000, 0),
    e("Generic", Material::Tpu, "Black", "#1a1a1a", 750, 0),
    e(
        "Prusament",
        Material::Pla,
        "Galaxy Black",
        "#1c1c1e",
        1000,
        193,
    ),
    e(
        "Prusament",
        Material::Pla,
        "Prusa Orange",
        "#fa6831",
        1000,
        193,
    ),
    e(
        "Prusament",
        Material::Petg,
        "Jet Black",
        "#0f0f0f",
        1000,
        193,
    ),
    e(
        "Polymaker",
        Material::Pla,
        "Charcoal Black",
        "#1f1f1f",
        1000,
        140,
    ),
    e(
        "Polymaker",
        Material::Pla,
        "Cotton White",
        "#efece4",
        1000,
        140,
    ),
    e("Bambu Lab", Material::Pla, "Black", "#000000", 1000, 250),
    e(
        "Bambu Lab",
        Material::Pla,
        "Jade White",
        "#f7f7f2",
        1000,
        250,
    ),
    e("Bambu Lab", Material::Petg, "Black", "#000000", 1000, 250),
    e("eSun", Material::Pla, "Black", "#141414", 1000, 220),
    e("eSun", Material::Petg, "Solid Black", "#141414", 1000, 220),
    e("Sunlu", Material::Pla, "Black", "#171717", 1000, 150),
    e("Elegoo", Material::Pla, "Black", "#121212", 1000, 160),
    e("Extrudr", Material::Petg, "Black", "#161616", 1000, 0),
];

/// The brands, sorted, once each.
pub fn brands() -> Vec<&'static str> {
    let mut b: Vec<&'static str> = ENTRIES.iter().map(|e| e.brand).collect();
    b.sort_unstable_by_key(|s| s.to_lowercase());
    b.dedup();
    b
}

/// The materials a brand has in the catalogue, in the order of [`Material`], once each.
pub fn materials(brand: &str) -> Vec<Material> {
    let mut out: Vec<Material> = Vec::new();
    for e in ENTRIES
        .iter()
        .filter(|e| e.brand.eq_ignore_ascii_case(brand.trim()))
    {
        if !out.contains(&e.material) {
            out.push(e.material);
        }
    }
    out.sort_by_key(|m| material_rank(*m));
    out
}

fn material_rank(m: Material) -> u8 {
    match m {
        Material::Pla => 0,
        Material::Petg => 1,
        Material::Abs => 2,
        Material::Asa => 3,
        Material::Tpu => 4,
        Material::Pa => 5,
        Material::Pc => 6,
        Material::Other => 7,
    }
}

/// The colours of a brand's material, as listed.
pub fn colours(brand: &str, material: Material) -> Vec<&'static Entry> {
    search(Some(brand), Some(material), "")
}

/// The one entry of a brand, material and colour (names compared without case or
/// surrounding spaces), if the catalogue has it.
pub fn find(brand: &str, material: Material, colour: &str) -> Option<&'static Entry> {
    ENTRIES.iter().find(|e| {
        e.brand.eq_ignore_ascii_case(brand.trim())
            && e.material == material
            && e.colour.eq_ignore_ascii_case(colour.trim())
    })
}

/// Entries matching a brand and material (either may be `None`) whose colour contains
/// `colour` (case-insensitive; empty matches all).
pub fn search(
    brand: Option<&str>,
    material: Option<Material>,
    colour: &str,
) -> Vec<&'static Entry> {
    let colour = colour.trim().to_lowercase();
    ENTRIES
        .iter()
        .filter(|e| brand.is_none_or(|b| e.brand.eq_ignore_ascii_case(b.trim())))
        .filter(|e| material.is_none_or(|m| e.material == m))
        .filter(|e| e.colour.to_lowercase().contains(&colour))
        .collect()
}

impl Entry {
    /// A filament with this entry's values (the caller makes the id).
    pub fn to_filament(&self, id: FilamentId) -> Filament {
        Filament {
            id,
            brand: self.brand.to_owned(),
            material: self.material,
            colour: Colour {
                name: self.colour.to_owned(),
                hex: self.hex.to_owned(),
                multi_hexes: Vec::new(),
            },
            diameter: self.diameter,
            density_mg_cm3: self.density_mg_cm3,
            net_weight_cg: Centigrams(self.net_weight_cg),
            empty_spool_cg: self.empty_spool_cg.map(Centigrams),
            price_per_spool: None,
            nozzle_temp_c: Some(self.nozzle_temp_c),
            bed_temp_c: Some(self.bed_temp_c),
            article_number: None,
            ean: None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn every_entry_is_a_valid_filament_and_unique() {
        for e in ENTRIES {
            e.to_filament(FilamentId(uuid::Uuid::nil()))
                .validate()
                .unwrap_or_else(|err| panic!("{e:?}: {err}"));
        }
        let mut keys: Vec<_> = ENTRIES
            .iter()
            .map(|e| (e.brand, e.material, e.colour))
            .collect();
        keys.sort_by_key(|k| format!("{k:?}"));
        let n = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), n, "an entry appears twice");
    }

    #[test]
    fn lookup_by_brand_material_and_colour() {
        assert!(brands().contains(&"Prusament"));
        let found = search(Some("prusament"), Some(Material::Pla), "galaxy");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].hex, "#1c1c1e");
        assert_eq!(found[0].empty_spool_cg, Some(19_300));
        assert!(
            search(None, Some(Material::Tpu), "")
                .iter()
                .all(|e| e.net_weight_cg == 75_000)
        );
        assert!(search(Some("nobody"), None, "").is_empty());
    }

    #[test]
    fn picker_narrows_brand_material_colour_and_fills_everything() {
        // Every brand offers at least one material, every material at least one colour,
        // and each colour leads back to exactly its entry.
        for b in brands() {
            let ms = materials(b);
            assert!(!ms.is_empty(), "{b}");
            for m in ms {
                for e in colours(b, m) {
                    assert_eq!(find(b, m, e.colour), Some(e));
                }
            }
        }
        assert_eq!(materials("prusament"), vec![Material::Pla, Material::Petg]);
        assert!(materials("nobody").is_empty());
        let e = find(" Prusament ", Material::Petg, "jet black").unwrap();
        let f = e.to_filament(FilamentId(uuid::Uuid::nil()));
        assert_eq!(f.colour.hex, "#0f0f0f");
        assert_eq!(f.density_mg_cm3, 1270);
        assert_eq!(f.diameter, Diameter::Mm175);
        assert_eq!(f.net_weight_cg, Centigrams(100_000));
        assert_eq!(f.empty_spool_cg, Some(Centigrams(19_300)));
        assert_eq!((f.nozzle_temp_c, f.bed_temp_c), (Some(240), Some(80)));
        assert_eq!(find("Prusament", Material::Abs, "Jet Black"), None);
        // Densities agree with the material's typical one used elsewhere.
        assert!(
            ENTRIES
                .iter()
                .all(|e| e.density_mg_cm3 == e.material.typical_density())
        );
    }
}

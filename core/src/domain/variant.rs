//! A model variant: one sellable configuration of a model, with its slicer settings and
//! the filament one unit needs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::validation::{self as v, Valid, ValidationError, max_len};
use super::{Centigrams, FilamentId, ModelId, SlicedFileId, VariantId};

/// Most slicer settings kept per variant.
pub const MAX_SLICER_SETTINGS: usize = 100;
/// Longest setting value.
pub const MAX_SETTING_VALUE: usize = 256;
/// Most parts on one plate.
pub const MAX_PARTS_PER_PLATE: u32 = 1_000;
/// Longest plausible print of one plate: 14 days, in seconds.
pub const MAX_PRINT_TIME_S: u32 = 14 * 24 * 3600;
/// Most filament one unit can plausibly need: 10 kg.
pub const MAX_GRAMS_PER_UNIT: Centigrams = Centigrams(10 * 100_000);

/// Slicer settings as key/values (`layer_height` → `0.2`, `infill` → `15%`, `supports`,
/// `nozzle`, `printer_profile`, `plate`). Keys are kept sorted.
pub type SlicerSettings = BTreeMap<String, String>;

/// Grams of one filament needed per finished unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilamentNeed {
    /// The filament kind.
    pub filament_id: FilamentId,
    /// Grams per unit, in centigrams.
    pub per_unit_cg: Centigrams,
}

/// One sellable configuration of a model ("Large, silk rainbow").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelVariant {
    /// Id.
    pub id: VariantId,
    /// The base design.
    pub model_id: ModelId,
    /// Name.
    pub name: String,
    /// Slicer settings.
    #[serde(default)]
    pub slicer_settings: SlicerSettings,
    /// Units printed on one plate.
    pub parts_per_plate: u32,
    /// Print time of one plate, in seconds.
    pub print_time_s: Option<u32>,
    /// The current sliced file (older versions are kept by the server).
    pub sliced_file_id: Option<SlicedFileId>,
    /// Filament per unit, at most one entry per filament.
    #[serde(default)]
    pub filament_needs: Vec<FilamentNeed>,
}

impl ModelVariant {
    /// Checks every field.
    pub fn validate(&self) -> Valid {
        v::required_text("name", &self.name, max_len::NAME)?;
        validate_settings("slicer_settings", &self.slicer_settings)?;
        validate_parts_per_plate(self.parts_per_plate)?;
        validate_print_time(self.print_time_s)?;
        validate_needs("filament_needs", &self.filament_needs)
    }

    /// Filament needed for `units` units, per filament.
    pub fn filament_for(&self, units: u32) -> Vec<FilamentNeed> {
        self.filament_needs
            .iter()
            .map(|n| FilamentNeed {
                filament_id: n.filament_id,
                per_unit_cg: Centigrams(n.per_unit_cg.0.saturating_mul(i64::from(units))),
            })
            .collect()
    }

    /// Plates needed for `units` units (rounded up).
    pub fn plates_for(&self, units: u32) -> u32 {
        units.div_ceil(self.parts_per_plate.max(1))
    }
}

/// A change to (or the creation of) a variant.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantPatch {
    /// The base design.
    pub model_id: Option<ModelId>,
    /// Name.
    pub name: Option<String>,
    /// Slicer settings (replaced as a whole).
    pub slicer_settings: Option<SlicerSettings>,
    /// Units per plate.
    pub parts_per_plate: Option<u32>,
    /// Print time of one plate in seconds.
    pub print_time_s: Option<u32>,
    /// Current sliced file.
    pub sliced_file_id: Option<SlicedFileId>,
    /// Filament needs (replaced as a whole).
    pub filament_needs: Option<Vec<FilamentNeed>>,
}

impl VariantPatch {
    /// Fields that may be set to `null`.
    pub const NULLABLE: &'static [&'static str] = &["print_time_s", "sliced_file_id"];

    /// Checks the fields present.
    pub fn validate(&self) -> Valid {
        if let Some(n) = &self.name {
            v::required_text("name", n, max_len::NAME)?;
        }
        if let Some(s) = &self.slicer_settings {
            validate_settings("slicer_settings", s)?;
        }
        if let Some(p) = self.parts_per_plate {
            validate_parts_per_plate(p)?;
        }
        validate_print_time(self.print_time_s)?;
        if let Some(n) = &self.filament_needs {
            validate_needs("filament_needs", n)?;
        }
        Ok(())
    }
}

fn validate_parts_per_plate(p: u32) -> Valid {
    v::in_range(
        "parts_per_plate",
        i64::from(p),
        1,
        i64::from(MAX_PARTS_PER_PLATE),
        "",
    )
}

fn validate_print_time(t: Option<u32>) -> Valid {
    match t {
        Some(t) => v::in_range(
            "print_time_s",
            i64::from(t),
            1,
            i64::from(MAX_PRINT_TIME_S),
            " s",
        ),
        None => Ok(()),
    }
}

fn validate_settings(field: &str, s: &SlicerSettings) -> Valid {
    if s.len() > MAX_SLICER_SETTINGS {
        return Err(ValidationError::new(
            field,
            format!(
                "has {} settings; keep at most {MAX_SLICER_SETTINGS}",
                s.len()
            ),
        ));
    }
    for (k, val) in s {
        v::required_text(&format!("{field}.{k}"), k, max_len::CODE)?;
        v::optional_text(&format!("{field}.{k}"), Some(val), MAX_SETTING_VALUE)?;
    }
    Ok(())
}

fn validate_needs(field: &str, needs: &[FilamentNeed]) -> Valid {
    for (i, n) in needs.iter().enumerate() {
        let f = format!("{field}[{i}].per_unit_cg");
        if n.per_unit_cg.0 <= 0 {
            return Err(ValidationError::new(
                f,
                "must be more than 0 g; remove the filament if none is used",
            ));
        }
        if n.per_unit_cg > MAX_GRAMS_PER_UNIT {
            return Err(ValidationError::new(
                f,
                format!(
                    "is {}, which is not plausible for one unit; enter grams per unit",
                    n.per_unit_cg
                ),
            ));
        }
        if needs[..i].iter().any(|o| o.filament_id == n.filament_id) {
            return Err(ValidationError::new(
                format!("{field}[{i}].filament_id"),
                "lists a filament twice; add the grams into one entry",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use uuid::Uuid;

    fn variant() -> ModelVariant {
        ModelVariant {
            id: VariantId(Uuid::nil()),
            model_id: ModelId(Uuid::nil()),
            name: "Large, silk rainbow".into(),
            slicer_settings: [("layer_height".to_string(), "0.2".to_string())].into(),
            parts_per_plate: 4,
            print_time_s: Some(3600),
            sliced_file_id: None,
            filament_needs: vec![FilamentNeed {
                filament_id: FilamentId(Uuid::nil()),
                per_unit_cg: Centigrams(1250),
            }],
        }
    }

    #[test]
    fn variant_checks() {
        let v = variant();
        v.validate().unwrap();
        assert_eq!(v.plates_for(9), 3);
        assert_eq!(v.filament_for(3)[0].per_unit_cg, Centigrams(3750));
        let mut bad = variant();
        bad.parts_per_plate = 0;
        assert_eq!(bad.validate().unwrap_err().field, "parts_per_plate");
        let mut bad = variant();
        bad.filament_needs.push(bad.filament_needs[0].clone());
        assert_eq!(
            bad.validate().unwrap_err().field,
            "filament_needs[1].filament_id"
        );
        let mut bad = variant();
        bad.filament_needs[0].per_unit_cg = Centigrams(-1);
        assert!(bad.validate().is_err());
    }
}

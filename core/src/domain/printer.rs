//! A printer.

use serde::{Deserialize, Serialize};

use super::validation::{self as v, Valid, max_len};
use super::{PrinterId, SpoolId};

/// Build volume in millimetres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildVolume {
    /// Width.
    pub x_mm: u32,
    /// Depth.
    pub y_mm: u32,
    /// Height.
    pub z_mm: u32,
}

impl BuildVolume {
    /// Each side 1 to 2000 mm.
    pub fn validate(&self) -> Valid {
        v::in_range("build_volume.x_mm", i64::from(self.x_mm), 1, 2000, " mm")?;
        v::in_range("build_volume.y_mm", i64::from(self.y_mm), 1, 2000, " mm")?;
        v::in_range("build_volume.z_mm", i64::from(self.z_mm), 1, 2000, " mm")
    }
}

/// A printer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Printer {
    /// Id.
    pub id: PrinterId,
    /// Name ("Prusa #2").
    pub name: String,
    /// Make and model ("Prusa MK4S").
    pub model: Option<String>,
    /// Nozzle diameter in micrometres (400 = 0.4 mm).
    pub nozzle_um: Option<u32>,
    /// Build volume.
    pub build_volume: Option<BuildVolume>,
    /// Notes.
    pub notes: Option<String>,
    /// The spool loaded now.
    pub loaded_spool_id: Option<SpoolId>,
}

impl Printer {
    /// Checks every field.
    pub fn validate(&self) -> Valid {
        v::required_text("name", &self.name, max_len::NAME)?;
        check_rest(&self.model, self.nozzle_um, &self.build_volume, &self.notes)
    }
}

/// A change to (or the creation of) a printer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrinterPatch {
    /// Name.
    pub name: Option<String>,
    /// Make and model.
    pub model: Option<String>,
    /// Nozzle, µm.
    pub nozzle_um: Option<u32>,
    /// Build volume.
    pub build_volume: Option<BuildVolume>,
    /// Notes.
    pub notes: Option<String>,
    /// Loaded spool.
    pub loaded_spool_id: Option<SpoolId>,
}

impl PrinterPatch {
    /// Fields that may be set to `null`.
    pub const NULLABLE: &'static [&'static str] = &[
        "model",
        "nozzle_um",
        "build_volume",
        "notes",
        "loaded_spool_id",
    ];

    /// Checks the fields present.
    pub fn validate(&self) -> Valid {
        if let Some(n) = &self.name {
            v::required_text("name", n, max_len::NAME)?;
        }
        check_rest(&self.model, self.nozzle_um, &self.build_volume, &self.notes)
    }
}

fn check_rest(
    model: &Option<String>,
    nozzle: Option<u32>,
    bv: &Option<BuildVolume>,
    notes: &Option<String>,
) -> Valid {
    v::optional_text("model", model.as_deref(), max_len::NAME)?;
    if let Some(n) = nozzle {
        v::in_range("nozzle_um", i64::from(n), 100, 2000, " µm")?;
    }
    if let Some(b) = bv {
        b.validate()?;
    }
    v::notes("notes", notes.as_deref(), max_len::NOTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printer_checks() {
        let p = PrinterPatch {
            name: Some("MK4S".into()),
            nozzle_um: Some(400),
            ..Default::default()
        };
        assert!(p.validate().is_ok());
        let p = PrinterPatch {
            nozzle_um: Some(4),
            ..Default::default()
        };
        assert_eq!(
            p.validate().err().map(|e| e.field),
            Some("nozzle_um".into())
        );
        let p = PrinterPatch {
            build_volume: Some(BuildVolume {
                x_mm: 250,
                y_mm: 0,
                z_mm: 220,
            }),
            ..Default::default()
        };
        assert_eq!(
            p.validate().err().map(|e| e.field),
            Some("build_volume.y_mm".into())
        );
    }
}

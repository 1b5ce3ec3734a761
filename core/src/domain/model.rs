//! A model: a base design, where it came from and whether its licence allows selling prints.

use serde::{Deserialize, Serialize};

use super::ModelId;
use super::validation::{self as v, Valid, max_len};

/// Where a design was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceSite {
    /// printables.com
    Printables,
    /// thingiverse.com
    Thingiverse,
    /// makerworld.com
    #[serde(rename = "makerworld")]
    MakerWorld,
    /// cults3d.com
    #[serde(rename = "cults3d")]
    Cults3D,
    /// Designed by the shop.
    Own,
    /// Anywhere else.
    Other,
}

/// The licence of a design.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Licence {
    /// SPDX id (`CC-BY-4.0`) or free text (`Standard Digital File License`).
    pub name: String,
    /// Whether selling prints is allowed (by the licence or a commercial permission the
    /// shop holds). The catalogue warns when selling a model for which this is false.
    pub allows_selling: bool,
}

impl Licence {
    /// Whether the licence name looks non-commercial (`CC-BY-NC-4.0`, "non-commercial"):
    /// a hint for the UI when `allows_selling` is set, not a rule.
    pub fn looks_non_commercial(&self) -> bool {
        let n = self.name.to_ascii_lowercase();
        n.contains("-nc") || n.contains("noncommercial") || n.contains("non-commercial")
    }

    /// Checks the name.
    pub fn validate(&self) -> Valid {
        v::required_text("licence.name", &self.name, max_len::NAME)
    }
}

/// A base design.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Model {
    /// Id.
    pub id: ModelId,
    /// Name.
    pub name: String,
    /// Designer's name.
    pub designer_name: Option<String>,
    /// Link to the design or the designer.
    pub source_url: Option<String>,
    /// Where it came from.
    pub source_site: SourceSite,
    /// Licence.
    pub licence: Licence,
    /// Category (free text, e.g. "Fidget toys").
    pub category: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Notes.
    pub notes: Option<String>,
}

impl Model {
    /// Checks every field.
    pub fn validate(&self) -> Valid {
        v::required_text("name", &self.name, max_len::NAME)?;
        v::optional_text(
            "designer_name",
            self.designer_name.as_deref(),
            max_len::NAME,
        )?;
        v::optional_url("source_url", self.source_url.as_deref())?;
        self.licence.validate()?;
        v::optional_text("category", self.category.as_deref(), max_len::NAME)?;
        v::tags("tags", &self.tags)?;
        v::notes("notes", self.notes.as_deref(), max_len::NOTES)
    }
}

/// A change to (or the creation of) a model; absent fields stay as they are.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPatch {
    /// Name.
    pub name: Option<String>,
    /// Designer.
    pub designer_name: Option<String>,
    /// Link.
    pub source_url: Option<String>,
    /// Source site.
    pub source_site: Option<SourceSite>,
    /// Licence.
    pub licence: Option<Licence>,
    /// Category.
    pub category: Option<String>,
    /// Tags.
    pub tags: Option<Vec<String>>,
    /// Notes.
    pub notes: Option<String>,
}

impl ModelPatch {
    /// Fields that may be set to `null`.
    pub const NULLABLE: &'static [&'static str] =
        &["designer_name", "source_url", "category", "notes"];

    /// Checks the fields present.
    pub fn validate(&self) -> Valid {
        if let Some(n) = &self.name {
            v::required_text("name", n, max_len::NAME)?;
        }
        v::optional_text(
            "designer_name",
            self.designer_name.as_deref(),
            max_len::NAME,
        )?;
        v::optional_url("source_url", self.source_url.as_deref())?;
        if let Some(l) = &self.licence {
            l.validate()?;
        }
        v::optional_text("category", self.category.as_deref(), max_len::NAME)?;
        if let Some(t) = &self.tags {
            v::tags("tags", t)?;
        }
        v::notes("notes", self.notes.as_deref(), max_len::NOTES)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn model_json_and_checks() {
        let json = r#"{"id":"0190f5d2-0000-7000-8000-000000000001","name":"Flexi Rex","designer_name":"DrLex",
            "source_url":"https://www.thingiverse.com/thing:1","source_site":"makerworld",
            "licence":{"name":"CC-BY-NC-4.0","allows_selling":false},"category":null,"tags":["dino"],"notes":null}"#;
        let m: Model = serde_json::from_str(json).unwrap();
        assert_eq!(m.source_site, SourceSite::MakerWorld);
        assert!(m.licence.looks_non_commercial());
        m.validate().unwrap();
        let mut bad = m.clone();
        bad.tags = vec![" ".into()];
        assert_eq!(bad.validate().unwrap_err().field, "tags[0]");
        let mut bad = m;
        bad.source_url = Some("thingiverse".into());
        assert_eq!(bad.validate().unwrap_err().field, "source_url");
    }
}

//! A flat key → value store filled from every metadata syntax the slicers use:
//! `; key = value` (Slic3r family config and stats), `;KEY:value` / `; key: value` (Cura, Bambu
//! and Orca headers, ideaMaker), `;   key,value` (Simplify3D), `key=value` (bgcode INI blocks)
//! and JSON objects (Bambu `project_settings.config`). The first value for a key wins.

use std::collections::HashMap;

use super::text;

/// Longest key kept; longer "keys" are prose, not metadata.
const MAX_KEY: usize = 96;

#[derive(Debug, Default)]
pub(crate) struct Meta {
    values: HashMap<String, String>,
}

impl Meta {
    pub(crate) fn insert(&mut self, key: &str, value: &str) {
        let key = key.trim();
        if key.is_empty() || key.len() > MAX_KEY {
            return;
        }
        self.values
            .entry(key.to_string())
            .or_insert_with(|| value.trim().to_string());
    }

    /// One G-code comment, without its leading `;`.
    pub(crate) fn add_comment(&mut self, comment: &str) {
        let raw = comment.trim_start_matches(';');
        let indented = raw.starts_with("  ");
        let t = raw.trim();
        if t.is_empty() {
            return;
        }
        if let Some(i) = t.find(" = ") {
            self.insert(&t[..i], &t[i + 3..]);
        } else if let Some(key) = t.strip_suffix(" =") {
            self.insert(key, "");
        } else if let Some(i) = t.find(':') {
            let (key, value) = (&t[..i], &t[i + 1..]);
            // Bambu: "model printing time: 1h 57m 37s; total estimated time: 2h 4m 35s".
            if let Some(j) = value.find("; ") {
                let (first, rest) = (&value[..j], &value[j + 2..]);
                if rest.contains(':') {
                    self.insert(key, first);
                    self.add_comment(rest);
                    return;
                }
            }
            self.insert(key, value);
        } else if indented {
            // Simplify3D settings: ";   layerHeight,0.24".
            if let Some(i) = t.find(',') {
                let key = &t[..i];
                if key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                    self.insert(key, &t[i + 1..]);
                }
            }
        }
    }

    /// One `key=value` line of a bgcode INI metadata block.
    pub(crate) fn add_ini_line(&mut self, line: &str) {
        if let Some(i) = line.find('=') {
            self.insert(&line[..i], &line[i + 1..]);
        }
    }

    /// A JSON object of strings and arrays of strings (Bambu/Orca project settings).
    pub(crate) fn add_json(&mut self, value: &serde_json::Value) {
        let Some(object) = value.as_object() else {
            return;
        };
        for (key, value) in object {
            match value {
                serde_json::Value::String(s) => self.insert(key, s),
                serde_json::Value::Number(n) => self.insert(key, &n.to_string()),
                serde_json::Value::Bool(b) => self.insert(key, if *b { "1" } else { "0" }),
                serde_json::Value::Array(items) => {
                    let joined = items
                        .iter()
                        .map(|item| match item {
                            serde_json::Value::String(s) => {
                                format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
                            }
                            other => other.to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join(";");
                    self.insert(key, &joined);
                }
                _ => {}
            }
        }
    }

    /// The trimmed value, `None` when missing or empty (`""` counts as empty).
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        let v = self.values.get(key)?.trim();
        (!v.is_empty() && v != "\"\"").then_some(v)
    }

    /// The first key of `keys` that has a value.
    pub(crate) fn first(&self, keys: &[&str]) -> Option<&str> {
        keys.iter().find_map(|k| self.get(k))
    }

    /// The leading number of a value; for a list, of its first item (`"0.4"` in JSON
    /// project settings, `0.4,0.4` in G-code config).
    pub(crate) fn number(&self, key: &str) -> Option<f64> {
        let v = self.get(key)?;
        text::leading_f64(v).or_else(|| text::leading_f64(self.list(key).first()?))
    }

    /// The number of the first key of `keys` that has one.
    pub(crate) fn first_number(&self, keys: &[&str]) -> Option<f64> {
        keys.iter().find_map(|k| self.number(k))
    }

    pub(crate) fn list(&self, key: &str) -> Vec<String> {
        self.get(key).map(text::split_list).unwrap_or_default()
    }

    /// Per-item leading numbers of a list value (`None` for items that are not numbers).
    pub(crate) fn number_list(&self, key: &str) -> Vec<Option<f64>> {
        self.list(key)
            .iter()
            .map(|s| text::leading_f64(s))
            .collect()
    }

    pub(crate) fn contains(&self, key: &str) -> bool {
        self.values.contains_key(key)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn comment_syntaxes() {
        let mut m = Meta::default();
        m.add_comment("; filament used [mm] = 65.73, 0.00");
        m.add_comment(";TIME:451");
        m.add_comment("; total filament weight [g] : 16.28,8.13");
        m.add_comment("; model printing time: 1h 57m 37s; total estimated time: 2h 4m 35s");
        m.add_comment(";   layerHeight,0.24");
        m.add_comment("; bed_custom_model =");
        m.add_comment("; before_layer_gcode = ;BEFORE_LAYER_CHANGE\\nG92 E0.0 ; a = b");
        m.add_comment("; TIME:999");
        assert_eq!(m.get("filament used [mm]"), Some("65.73, 0.00"));
        assert_eq!(m.get("TIME"), Some("451"));
        assert_eq!(m.get("total filament weight [g]"), Some("16.28,8.13"));
        assert_eq!(m.get("model printing time"), Some("1h 57m 37s"));
        assert_eq!(m.get("total estimated time"), Some("2h 4m 35s"));
        assert_eq!(m.get("layerHeight"), Some("0.24"));
        assert_eq!(m.get("bed_custom_model"), None);
        assert!(m.contains("bed_custom_model"));
        assert_eq!(
            m.get("before_layer_gcode"),
            Some(";BEFORE_LAYER_CHANGE\\nG92 E0.0 ; a = b")
        );
        assert_eq!(
            m.number_list("total filament weight [g]"),
            [Some(16.28), Some(8.13)]
        );
    }

    #[test]
    fn json_lists_keep_commas_inside_names() {
        let mut m = Meta::default();
        let v: serde_json::Value =
            serde_json::from_str(r#"{"filament_settings_id":["A, B","C"],"layer_height":"0.2"}"#)
                .unwrap();
        m.add_json(&v);
        assert_eq!(m.list("filament_settings_id"), ["A, B", "C"]);
        assert_eq!(m.number("layer_height"), Some(0.2));
    }
}

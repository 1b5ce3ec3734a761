//! Turns the key/value pairs of any slicer into [`SliceInfo`] fields. Each field lists the keys
//! that carry it, slicer by slicer; units are converted here (Cura metres, Bambu's mm³ labelled
//! `[cm^3]`, ideaMaker kg/m³, percent first-layer heights).

use super::meta::Meta;
use super::text::{self, leading_f64, parse_duration, seconds};
use super::{Filament, SliceInfo};

/// Highest filament / extruder number looked up by numbered keys (`Material#N Used`).
const MAX_NUMBERED: usize = 32;

/// Fills every field of `info` that is still `None` (or empty) from `meta`.
pub(crate) fn fill(meta: &Meta, info: &mut SliceInfo) {
    if info.printer_model.is_none() {
        info.printer_model = meta
            .first(&[
                "printer_model",
                "TARGET_MACHINE.NAME",
                "printer_settings_id",
            ])
            .map(|s| text::unquote(s).to_string())
            .filter(|s| !s.is_empty());
    }
    if info.print_time_s.is_none() {
        info.print_time_s = print_time(meta);
    }
    if info.layer_height_mm.is_none() {
        info.layer_height_mm = meta.first_number(&[
            "layer_height",
            "Layer height",
            "layerHeight",
            "layer_thickness_mm",
        ]);
    }
    if info.first_layer_height_mm.is_none() {
        info.first_layer_height_mm = first_layer_height(meta, info.layer_height_mm);
    }
    if info.nozzle_diameter_mm.is_none() {
        info.nozzle_diameter_mm = meta
            .first_number(&[
                "nozzle_diameter",
                "EXTRUDER_TRAIN.0.NOZZLE.DIAMETER",
                "extruderDiameter",
            ])
            .or_else(|| {
                meta.get("Dimension")
                    .and_then(|d| text::numbers(d).get(3).copied())
            });
    }
    if info.layer_count.is_none() {
        info.layer_count = meta
            .first(&[
                "total layer number",
                "total layers count",
                "LAYER_COUNT",
                "layer_count",
            ])
            .and_then(text::parse_count);
    }
    if info.object_height_mm.is_none() {
        info.object_height_mm = meta
            .first_number(&["max_layer_z", "max_z_height", "MAXZ", "PRINT.SIZE.MAX.Z"])
            .or_else(|| {
                meta.get("Bounding Box")
                    .and_then(|b| text::numbers(b).get(5).copied())
            });
    }
    if info.filaments.is_empty() {
        info.filaments = filaments(meta, info);
    }
    if info.total_filament_g.is_none() {
        let stated = meta.first_number(&["total filament used [g]", "Plastic weight"]);
        let any_weight = info.filaments.iter().any(|f| f.used_g.is_some());
        info.total_filament_g = match stated {
            // PrusaSlicer writes 0.00 when no density is set: that is "unknown", not "nothing".
            Some(v) if v == 0.0 && !any_weight => None,
            Some(v) => Some(v),
            None => sum(info.filaments.iter().map(|f| f.used_g)),
        };
    }
    if info.total_cost.is_none() {
        let stated = meta.first_number(&[
            "total filament cost",
            "total_filament_cost",
            "Material cost",
        ]);
        let any_cost = info.filaments.iter().any(|f| f.cost.is_some());
        info.total_cost = match stated {
            // Slic3r writes 0 when no filament price is set.
            Some(v) if v == 0.0 && !any_cost => None,
            Some(v) => Some(v),
            None => sum(info.filaments.iter().map(|f| f.cost)),
        };
    }
}

fn print_time(meta: &Meta) -> Option<u64> {
    let with_units = [
        "estimated printing time (normal mode)",
        "total estimated time",
        "Build time",
        "Build Time",
        "Estimated Build Time",
    ];
    let in_seconds = ["TIME", "PRINT.TIME", "Print Time", "estimated_print_time_s"];
    with_units
        .iter()
        .find_map(|k| meta.get(k).and_then(parse_duration))
        .or_else(|| {
            in_seconds
                .iter()
                .find_map(|k| meta.get(k).and_then(leading_f64).and_then(seconds))
        })
}

fn first_layer_height(meta: &Meta, layer_height: Option<f64>) -> Option<f64> {
    if let Some(v) = meta.first(&[
        "first_layer_height",
        "initial_layer_print_height",
        "first_layer_thickness_mm",
    ]) {
        let v = text::unquote(v);
        let number = leading_f64(v)?;
        return if v.trim_end().ends_with('%') {
            layer_height.map(|h| round(h * number / 100.0, 4))
        } else {
            Some(number)
        };
    }
    if let Some(percent) = meta.number("firstLayerHeightPercentage") {
        return layer_height.map(|h| round(h * percent / 100.0, 4));
    }
    // Cura states no first layer height, but `;MINZ:` is the Z of its first layer (what
    // Moonraker reads as the first layer height too).
    meta.number("MINZ").filter(|z| *z > 0.0)
}

/// Sum when every item is known and there is at least one.
fn sum(items: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let mut total = 0.0;
    let mut n = 0;
    for item in items {
        total += item?;
        n += 1;
    }
    (n > 0).then(|| round(total, 4))
}

pub(crate) fn round(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (v * f).round() / f
}

/// Leading numbers of a list, stopping at the first item that is not a number (OrcaSlicer 1.5
/// writes `; filament cost = 0.01; total filament used [g] = 0.59` on one line).
fn numeric_list(meta: &Meta, key: &str) -> Vec<f64> {
    meta.number_list(key).into_iter().map_while(|v| v).collect()
}

/// Per-filament usage, in the order the file lists it.
#[derive(Default)]
struct Usage {
    mm: Vec<f64>,
    cm3: Vec<f64>,
    g: Vec<f64>,
    cost: Vec<f64>,
    /// 1-based filament numbers of the entries, when the file lists only the used ones.
    ids: Vec<u32>,
}

impl Usage {
    fn len(&self) -> usize {
        self.mm
            .len()
            .max(self.cm3.len())
            .max(self.g.len())
            .max(self.cost.len())
    }
}

fn usage(meta: &Meta) -> Usage {
    // PrusaSlicer, SuperSlicer, OrcaSlicer for other printers.
    let mut u = Usage {
        mm: numeric_list(meta, "filament used [mm]"),
        cm3: numeric_list(meta, "filament used [cm3]"),
        g: numeric_list(meta, "filament used [g]"),
        cost: numeric_list(meta, "filament cost"),
        ids: Vec::new(),
    };
    if u.len() == 0 {
        // Bambu Studio / OrcaSlicer for Bambu printers: only used filaments; "[cm^3]" is mm³.
        u.mm = numeric_list(meta, "total filament length [mm]");
        u.cm3 = numeric_list(meta, "total filament volume [cm^3]")
            .into_iter()
            .map(|v| round(v / 1000.0, 4))
            .collect();
        u.g = numeric_list(meta, "total filament weight [g]");
    }
    if u.len() == 0 {
        cura_usage(meta, &mut u);
    }
    if u.len() == 0 {
        numbered_usage(meta, &mut u);
    }
    if u.len() == 0 {
        single_usage(meta, &mut u);
    }
    let ids: Vec<u32> = meta
        .list("filament")
        .iter()
        .map_while(|s| text::parse_count(s).filter(|&n| n > 0))
        .collect();
    if !ids.is_empty() && ids.len() == u.len() {
        u.ids = ids;
    }
    u
}

fn cura_usage(meta: &Meta, u: &mut Usage) {
    // ";Filament used: 0.27387m, 0m" (metres) or "52.8894mm3, 0mm3" (Marlin volumetric).
    for item in meta.list("Filament used") {
        let Some(v) = leading_f64(&item) else { break };
        let unit = item
            .trim()
            .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.' || c == '-');
        match unit.trim() {
            "mm3" => u.cm3.push(round(v / 1000.0, 4)),
            "mm" => u.mm.push(v),
            _ => u.mm.push(round(v * 1000.0, 4)),
        }
    }
    if u.len() > 0 {
        return;
    }
    // Griffin: ";EXTRUDER_TRAIN.0.MATERIAL.VOLUME_USED:52" (mm³).
    for i in 0..MAX_NUMBERED {
        match meta.number(&format!("EXTRUDER_TRAIN.{i}.MATERIAL.VOLUME_USED")) {
            Some(v) => u.cm3.push(round(v / 1000.0, 4)),
            None => break,
        }
    }
}

fn numbered_usage(meta: &Meta, u: &mut Usage) {
    // ideaMaker ";Material#1 Used: 422.7" (mm), KISSlicer ";    Ext #1 = 123.4 mm".
    for i in 1..=MAX_NUMBERED {
        let mm = meta
            .number(&format!("Material#{i} Used"))
            .or_else(|| meta.number(&format!("Ext #{i}")));
        let Some(mm) = mm else { break };
        u.mm.push(mm);
        if let Some(cost) = meta.number(&format!("Material#{i} Cost")) {
            u.cost.push(cost);
        }
    }
    if u.cost.len() != u.mm.len() {
        u.cost.clear();
    }
}

fn single_usage(meta: &Meta, u: &mut Usage) {
    // Simplify3D build summary.
    if let Some(mm) = meta.number("Filament length") {
        u.mm.push(mm);
        if let Some(g) = meta.number("Plastic weight") {
            u.g.push(g);
        }
        if let Some(mm3) = meta.number("Plastic volume") {
            u.cm3.push(round(mm3 / 1000.0, 4));
        }
        if let Some(cost) = meta.number("Material cost") {
            u.cost.push(cost);
        }
        return;
    }
    // Slic3r 1.3: "; filament_length_m = 0.2904", "; filament_volume_cm3 = 0.6984".
    if let Some(m) = meta.number("filament_length_m") {
        u.mm.push(round(m * 1000.0, 4));
        if let Some(cm3) = meta.number("filament_volume_cm3") {
            u.cm3.push(cm3);
        }
        return;
    }
    // Older Slic3r: "; filament used = 1482.1mm (3.6cm3)"; IceSL "; filament_used_mm : 12.3".
    if let Some(mm) = meta
        .first(&["filament used", "filament_used_mm"])
        .and_then(leading_f64)
    {
        u.mm.push(mm);
    }
}

/// Item `i` of a config list; a single value applies to every filament.
fn item(list: &[String], i: usize) -> Option<&str> {
    let v = list
        .get(i)
        .or(if list.len() == 1 { list.first() } else { None })?;
    let v = v.trim();
    (!v.is_empty()).then_some(v)
}

/// The config lists that describe filaments, by 0-based config position.
struct FilamentConfig {
    kind: Vec<String>,
    colour: Vec<String>,
    extruder_colour: Vec<String>,
    name: Vec<String>,
    nozzle: Vec<String>,
    bed: Vec<String>,
    density: Vec<String>,
    diameter: Vec<String>,
}

fn bed_temperature_key(meta: &Meta) -> &'static str {
    if meta.contains("bed_temperature") {
        return "bed_temperature";
    }
    // Bambu Studio / OrcaSlicer keep one temperature per plate type.
    match meta.get("curr_bed_type").map(text::unquote) {
        Some("Cool Plate") => "cool_plate_temp",
        Some("Engineering Plate") => "eng_plate_temp",
        Some("High Temp Plate") => "hot_plate_temp",
        Some("Textured PEI Plate") => "textured_plate_temp",
        Some("Supertack Plate") => "supertack_plate_temp",
        Some("Textured Cool Plate") => "textured_cool_plate_temp",
        _ if meta.contains("first_layer_bed_temperature") => "first_layer_bed_temperature",
        _ => "hot_plate_temp",
    }
}

impl FilamentConfig {
    fn read(meta: &Meta) -> Self {
        let nozzle = if meta.contains("temperature") {
            "temperature"
        } else {
            "nozzle_temperature"
        };
        FilamentConfig {
            kind: meta.list("filament_type"),
            colour: meta.list("filament_colour"),
            extruder_colour: meta.list("extruder_colour"),
            name: meta.list("filament_settings_id"),
            nozzle: meta.list(nozzle),
            bed: meta.list(bed_temperature_key(meta)),
            density: meta.list("filament_density"),
            diameter: meta.list("filament_diameter"),
        }
    }

    fn len(&self) -> usize {
        self.kind.len().max(self.colour.len()).max(self.name.len())
    }

    /// Fills the descriptive fields of filament `f` from config position `i` and numbered keys.
    fn describe(&self, meta: &Meta, i: usize, f: &mut Filament) {
        let n = i + 1;
        f.kind = item(&self.kind, i)
            .map(String::from)
            .or_else(|| meta.get(&format!("Filament Type #{n}")).map(String::from))
            .or_else(|| {
                meta.first(&["Filament type", "printMaterial"])
                    .map(String::from)
            });
        f.color_hex = item(&self.colour, i)
            .and_then(text::color_hex)
            .or_else(|| item(&self.extruder_colour, i).and_then(text::color_hex));
        f.name = item(&self.name, i)
            .map(String::from)
            .or_else(|| meta.get(&format!("Filament Name #{n}")).map(String::from))
            .or_else(|| meta.get("Filament name").map(String::from));
        f.nozzle_temp_c = item(&self.nozzle, i)
            .and_then(leading_f64)
            .or_else(|| meta.number(&format!("EXTRUDER_TRAIN.{i}.INITIAL_TEMPERATURE")));
        f.bed_temp_c = item(&self.bed, i)
            .and_then(leading_f64)
            .or_else(|| meta.number("BUILD_PLATE.INITIAL_TEMPERATURE"));
    }

    /// Density (g/cm³) and diameter (mm) of config position `i`.
    fn density_diameter(&self, meta: &Meta, i: usize) -> (Option<f64>, Option<f64>) {
        let n = i + 1;
        let density = item(&self.density, i)
            .and_then(leading_f64)
            // ideaMaker writes kg/m³.
            .or_else(|| {
                meta.number(&format!("Filament Density #{n}"))
                    .map(|v| v / 1000.0)
            });
        let diameter = item(&self.diameter, i)
            .and_then(leading_f64)
            .or_else(|| meta.number(&format!("Filament Diameter #{n}")));
        (density.filter(|d| *d > 0.0), diameter.filter(|d| *d > 0.0))
    }
}

/// Fills the missing descriptive fields of `f` (type, colour, name, temperatures) from the
/// config lists at 0-based position `i`.
pub(crate) fn describe_missing(meta: &Meta, i: usize, f: &mut Filament) {
    let mut d = Filament::default();
    FilamentConfig::read(meta).describe(meta, i, &mut d);
    f.kind = f.kind.take().or(d.kind);
    f.color_hex = f.color_hex.take().or(d.color_hex);
    f.name = f.name.take().or(d.name);
    f.nozzle_temp_c = f.nozzle_temp_c.or(d.nozzle_temp_c);
    f.bed_temp_c = f.bed_temp_c.or(d.bed_temp_c);
}

fn filaments(meta: &Meta, info: &mut SliceInfo) -> Vec<Filament> {
    let usage = usage(meta);
    let config = FilamentConfig::read(meta);
    let mut out = Vec::new();
    let mut derived = false;
    if usage.len() > 0 {
        for k in 0..usage.len() {
            let index = usage.ids.get(k).copied().unwrap_or(k as u32 + 1);
            let cfg = index.saturating_sub(1) as usize;
            let mut f = Filament {
                index,
                used_mm: usage.mm.get(k).copied(),
                used_cm3: usage.cm3.get(k).copied(),
                used_g: usage.g.get(k).copied(),
                cost: usage.cost.get(k).copied(),
                ..Filament::default()
            };
            config.describe(meta, cfg, &mut f);
            if f.used_g.is_none() {
                let (density, diameter) = config.density_diameter(meta, cfg);
                f.used_g = weight(&f, density, diameter);
                derived |= f.used_g.is_some();
            }
            out.push(f);
        }
        // Keep the filaments this print uses (multi-tool files list every extruder).
        let used = |f: &Filament| {
            [f.used_mm, f.used_cm3, f.used_g]
                .iter()
                .any(|v| v.is_some_and(|v| v > 0.0))
        };
        if out.iter().any(used) {
            out.retain(used);
        }
    } else {
        for i in 0..config.len().min(256) {
            let mut f = Filament {
                index: i as u32 + 1,
                ..Filament::default()
            };
            config.describe(meta, i, &mut f);
            out.push(f);
        }
    }
    if derived && out.iter().any(|f| f.used_g.is_some()) {
        info.warn(
            "filament grams computed from length, diameter and density (the file has no weight)",
        );
    }
    out
}

/// Grams from volume or length, when the file gives the density (and diameter).
fn weight(f: &Filament, density: Option<f64>, diameter: Option<f64>) -> Option<f64> {
    let density = density?;
    let cm3 = f.used_cm3.or_else(|| {
        let d = diameter?;
        let mm = f.used_mm?;
        Some(std::f64::consts::PI * (d / 2.0) * (d / 2.0) * mm / 1000.0)
    })?;
    Some(round(cm3 * density, 2))
}

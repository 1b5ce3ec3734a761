//! 3MF projects and sliced `.gcode.3mf`: reads the zip central directory, then only the small
//! members that carry metadata (Bambu/Orca `slice_info.config`, `model_settings.config`,
//! `project_settings.config`, plate G-code heads; PrusaSlicer `Slic3r_PE.config`), the
//! thumbnails, and the model XML for geometry.

use std::collections::HashMap;
use std::io::{BufReader, Read, Seek};

use quick_xml::events::Event;

use super::meta::Meta;
use super::model3mf::{self, Budget, ModelFile};
use super::window::Source;
use super::zip::{self, Archive, Entry};
use super::{
    Filament, FileFormat, Plate, SliceError, SliceInfo, extract, gcode, slicers, thumbnail, xml,
};

/// Inflated size allowed for a metadata member (Bambu's project settings are ~80 KB).
const MAX_METADATA: u64 = 32 * 1024 * 1024;
/// Inflated size allowed for one model member (streamed, not held).
const MAX_MODEL: u64 = 1024 * 1024 * 1024;
/// Model files parsed per package.
const MAX_MODEL_FILES: usize = 1024;
/// Bytes of a plate G-code read for its header (and its config block when needed).
const PLATE_HEAD: u64 = 1024 * 1024;

fn is_size_error(e: &SliceError) -> bool {
    matches!(
        e,
        SliceError::TooLarge { .. } | SliceError::SizeMismatch { .. }
    )
}

fn read_small<R: Read + Seek>(
    src: &mut Source<R>,
    archive: &Archive,
    name: &str,
) -> Result<Option<Vec<u8>>, SliceError> {
    match archive.get(name) {
        Some(entry) => Archive::read_member(src, entry, MAX_METADATA).map(Some),
        None => Ok(None),
    }
}

/// Target of the package's 3D model relationship, `3D/3dmodel.model` by default.
fn root_model(rels: Option<&[u8]>) -> String {
    let default = "3D/3dmodel.model".to_string();
    let Some(rels) = rels else { return default };
    let mut reader = quick_xml::Reader::from_reader(rels);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e)) if xml::name(&e) == b"Relationship" => {
                let kind = xml::attr(&e, "Type").unwrap_or_default();
                if let Some(target) = xml::attr(&e, "Target").filter(|_| kind.ends_with("/3dmodel"))
                {
                    return target.trim_start_matches('/').to_string();
                }
            }
            Ok(Event::Eof) | Err(_) => return default,
            Ok(_) => {}
        }
        buf.clear();
    }
}

/// A `<plate>` of `Metadata/slice_info.config`.
#[derive(Default)]
struct SlicedPlate {
    index: u32,
    prediction: Option<u64>,
    weight: Option<f64>,
    filaments: Vec<Filament>,
}

fn parse_slice_info(data: &[u8]) -> Result<(Option<String>, Vec<SlicedPlate>), SliceError> {
    let mut reader = quick_xml::Reader::from_reader(data);
    let mut buf = Vec::new();
    let mut version = None;
    let mut plates: Vec<SlicedPlate> = Vec::new();
    let mut in_plate = false;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e)) => match xml::name(&e).as_slice() {
                b"header_item"
                    if xml::attr(&e, "key").as_deref() == Some("X-BBL-Client-Version") =>
                {
                    version = xml::attr(&e, "value");
                }
                b"plate" => {
                    in_plate = true;
                    plates.push(SlicedPlate::default());
                }
                b"metadata" if in_plate => {
                    let value = xml::attr(&e, "value").unwrap_or_default();
                    if let Some(p) = plates.last_mut() {
                        match xml::attr(&e, "key").as_deref() {
                            Some("index") => {
                                p.index = super::text::parse_count(&value).unwrap_or(0)
                            }
                            Some("prediction") => {
                                p.prediction =
                                    super::text::parse_f64(&value).and_then(super::text::seconds);
                            }
                            Some("weight") => p.weight = super::text::parse_f64(&value),
                            _ => {}
                        }
                    }
                }
                b"filament" if in_plate => {
                    let f = Filament {
                        index: xml::attr(&e, "id")
                            .and_then(|s| super::text::parse_count(&s))
                            .unwrap_or(0),
                        kind: xml::attr(&e, "type").filter(|s| !s.is_empty()),
                        color_hex: xml::attr(&e, "color").and_then(|c| super::text::color_hex(&c)),
                        used_mm: xml::attr_f64(&e, "used_m").map(|m| extract::round(m * 1000.0, 3)),
                        used_g: xml::attr_f64(&e, "used_g"),
                        ..Filament::default()
                    };
                    if let Some(p) = plates.last_mut().filter(|p| p.filaments.len() < 256) {
                        p.filaments.push(f);
                    }
                }
                _ => {}
            },
            Ok(Event::End(e)) if e.local_name().as_ref() == b"plate" => in_plate = false,
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => {
                return Err(SliceError::invalid(
                    "3mf",
                    format!("slice_info.config: {e}"),
                ));
            }
        }
        buf.clear();
        if plates.len() > 4096 {
            break;
        }
    }
    Ok((version, plates))
}

/// A `<plate>` of `Metadata/model_settings.config`.
#[derive(Default)]
struct SettingsPlate {
    index: u32,
    thumbnail: Option<String>,
    gcode: Option<String>,
}

fn parse_model_settings(data: &[u8]) -> Result<Vec<SettingsPlate>, SliceError> {
    let mut reader = quick_xml::Reader::from_reader(data);
    let mut buf = Vec::new();
    let mut plates: Vec<SettingsPlate> = Vec::new();
    let mut in_plate = false;
    let mut in_instance = false;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e)) => match xml::name(&e).as_slice() {
                b"plate" => {
                    in_plate = true;
                    plates.push(SettingsPlate::default());
                }
                b"model_instance" => in_instance = true,
                b"metadata" if in_plate && !in_instance => {
                    let value = xml::attr(&e, "value").unwrap_or_default();
                    if let Some(p) = plates.last_mut() {
                        match xml::attr(&e, "key").as_deref() {
                            Some("plater_id") => {
                                p.index = super::text::parse_count(&value).unwrap_or(0)
                            }
                            Some("thumbnail_file") => {
                                p.thumbnail = Some(value.trim_start_matches('/').to_string())
                            }
                            Some("gcode_file") => {
                                p.gcode = Some(value.trim_start_matches('/').to_string())
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            },
            Ok(Event::End(e)) => match e.local_name().as_ref() {
                b"plate" => in_plate = false,
                b"model_instance" => in_instance = false,
                _ => {}
            },
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => {
                return Err(SliceError::invalid(
                    "3mf",
                    format!("model_settings.config: {e}"),
                ));
            }
        }
        buf.clear();
        if plates.len() > 4096 {
            break;
        }
    }
    Ok(plates)
}

/// Image members worth showing: plate pictures and package thumbnails, not Bambu's pick masks
/// or the top / no-light variants.
fn is_preview(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let in_folder = lower.starts_with("metadata/") || lower.starts_with("auxiliaries/.thumbnails/");
    let image = [".png", ".jpg", ".jpeg", ".qoi"]
        .iter()
        .any(|ext| lower.ends_with(ext));
    let base = lower.rsplit('/').next().unwrap_or("");
    let skipped = ["pick_", "top_", "plate_no_light_"]
        .iter()
        .any(|p| base.starts_with(p));
    in_folder && image && !skipped
}

/// Streams the head of a plate G-code (up to `PLATE_HEAD` bytes).
fn plate_head<R: Read + Seek>(src: &mut Source<R>, entry: &Entry) -> Result<Vec<u8>, SliceError> {
    let mut head = Vec::new();
    zip::open(src, entry)?
        .take(PLATE_HEAD)
        .read_to_end(&mut head)
        .map_err(|e| SliceError::invalid("3mf", format!("{}: {e}", entry.name)))?;
    Ok(head)
}

/// Parses the root model and every component model it references.
fn read_models<R: Read + Seek>(
    src: &mut Source<R>,
    archive: &Archive,
    root: &str,
    info: &mut SliceInfo,
) -> Result<HashMap<String, ModelFile>, SliceError> {
    let mut files = HashMap::new();
    let mut queue = vec![root.to_string()];
    let mut budget = Budget::default();
    let mut warnings = Vec::new();
    while let Some(path) = queue.pop() {
        if files.contains_key(&path) || files.len() >= MAX_MODEL_FILES {
            continue;
        }
        let Some(entry) = archive.get(&path) else {
            info.warn(format!("model part {path} is missing"));
            continue;
        };
        if entry.size > MAX_MODEL {
            return Err(SliceError::TooLarge {
                what: entry.name.clone(),
                limit: MAX_MODEL,
            });
        }
        let reader = BufReader::new(zip::open(src, entry)?);
        match model3mf::parse(reader, &mut budget, &mut warnings) {
            Ok(file) => {
                queue.extend(file.references.iter().cloned());
                files.insert(path, file);
            }
            Err(e) => {
                // quick-xml reports the member reader's overrun as an I/O error.
                if e.to_string().contains("past its limit") {
                    return Err(SliceError::SizeMismatch {
                        what: entry.name.clone(),
                        declared: entry.size,
                    });
                }
                info.warn(format!("{path}: {e}"));
            }
        }
    }
    for w in warnings {
        info.warn(w);
    }
    Ok(files)
}

pub(crate) fn inspect<R: Read + Seek>(
    src: &mut Source<R>,
    file_name: &str,
) -> Result<SliceInfo, SliceError> {
    let archive = Archive::load(src)?;
    let mut info = SliceInfo::new(file_name, FileFormat::ThreeMf);
    let rels = read_small(src, &archive, "_rels/.rels")?;
    let root = root_model(rels.as_deref());
    let has_metadata = archive
        .entries()
        .iter()
        .any(|e| e.name.starts_with("Metadata/"));
    if archive.get(&root).is_none() && !has_metadata {
        return Err(SliceError::invalid(
            "3mf",
            "no 3D model and no Metadata folder in the zip",
        ));
    }

    // Geometry, and the Application that wrote the package.
    let models = read_models(src, &archive, &root, &mut info)?;
    let mut slicer = models
        .get(&root)
        .and_then(|m| m.application.as_deref())
        .and_then(slicers::split_name_version);

    // Config: Bambu/Orca JSON project settings, PrusaSlicer `; key = value` config.
    let mut meta = Meta::default();
    if let Some(data) = read_small(src, &archive, "Metadata/project_settings.config")? {
        match serde_json::from_slice::<serde_json::Value>(&data) {
            Ok(v) => meta.add_json(&v),
            Err(e) => info.warn(format!("project_settings.config is not JSON: {e}")),
        }
    }
    if let Some(data) = read_small(src, &archive, "Metadata/Slic3r_PE.config")? {
        gcode::scan_into(&data, &mut meta, &mut slicer);
    }

    // Bambu/Orca plates.
    let (client_version, sliced) = match read_small(src, &archive, "Metadata/slice_info.config")? {
        Some(data) => parse_slice_info(&data)?,
        None => (None, Vec::new()),
    };
    if slicer.is_none() {
        slicer = client_version.map(|v| super::Slicer {
            name: "BambuStudio".into(),
            version: Some(v),
        });
    }
    info.slicer = slicer;
    let settings_plates = match read_small(src, &archive, "Metadata/model_settings.config")? {
        Some(data) => parse_model_settings(&data)?,
        None => Vec::new(),
    };

    // Thumbnails.
    let mut thumbnail_of: HashMap<String, usize> = HashMap::new();
    for entry in archive.entries().iter().filter(|e| is_preview(&e.name)) {
        if info.thumbnails.len() >= thumbnail::MAX_COUNT {
            info.warn("too many thumbnails; the rest are ignored");
            break;
        }
        match Archive::read_member(src, entry, thumbnail::MAX_BYTES as u64) {
            Ok(data) => {
                let before = info.thumbnails.len();
                thumbnail::add(&mut info, data, None, &entry.name);
                if info.thumbnails.len() > before {
                    thumbnail_of.insert(entry.name.clone(), before);
                }
            }
            Err(e) if is_size_error(&e) => return Err(e),
            Err(e) => info.warn(e.to_string()),
        }
    }
    let plate_thumbnail = |index: u32, settings: &[SettingsPlate]| {
        let named = settings
            .iter()
            .find(|p| p.index == index)
            .and_then(|p| p.thumbnail.as_deref())
            .and_then(|t| thumbnail_of.get(t).copied());
        named.or_else(|| {
            thumbnail_of
                .get(&format!("Metadata/plate_{index}.png"))
                .copied()
        })
    };

    let sliced: Vec<SlicedPlate> = sliced
        .into_iter()
        .filter(|p| p.prediction.is_some() || p.weight.is_some() || !p.filaments.is_empty())
        .collect();
    if sliced.is_empty() {
        for p in &settings_plates {
            info.plates.push(Plate {
                index: p.index,
                print_time_s: None,
                filament_g: None,
                thumbnail_index: plate_thumbnail(p.index, &settings_plates),
            });
        }
    } else {
        let mut by_id: Vec<Filament> = Vec::new();
        for p in &sliced {
            info.plates.push(Plate {
                index: p.index,
                print_time_s: p.prediction,
                filament_g: p.weight,
                thumbnail_index: plate_thumbnail(p.index, &settings_plates),
            });
            for f in &p.filaments {
                match by_id.iter_mut().find(|g| g.index == f.index) {
                    Some(g) => {
                        g.used_mm = g
                            .used_mm
                            .zip(f.used_mm)
                            .map(|(a, b)| extract::round(a + b, 3));
                        g.used_g = g
                            .used_g
                            .zip(f.used_g)
                            .map(|(a, b)| extract::round(a + b, 2));
                    }
                    None => by_id.push(f.clone()),
                }
            }
        }
        for f in &mut by_id {
            extract::describe_missing(&meta, f.index.saturating_sub(1) as usize, f);
        }
        info.filaments = by_id;
        info.print_time_s = sliced.iter().map(|p| p.prediction).sum();
        info.total_filament_g = sliced
            .iter()
            .map(|p| p.weight)
            .sum::<Option<f64>>()
            .map(|g| extract::round(g, 2));

        // Layer count and height from the plate G-code header, for a single-plate file.
        if let [only] = sliced.as_slice() {
            let gcode_name = settings_plates
                .iter()
                .find(|p| p.index == only.index)
                .and_then(|p| p.gcode.clone())
                .unwrap_or_else(|| format!("Metadata/plate_{}.gcode", only.index));
            if let Some(entry) = archive.get(&gcode_name) {
                let head = plate_head(src, entry)?;
                let mut plate_meta = Meta::default();
                let mut plate_slicer = None;
                gcode::scan_into(&head, &mut plate_meta, &mut plate_slicer);
                info.layer_count = plate_meta
                    .first(&["total layer number", "total layers count"])
                    .and_then(super::text::parse_count);
                info.object_height_mm = plate_meta.number("max_z_height");
                if meta.is_empty() {
                    meta = plate_meta;
                }
            }
        }
    }

    extract::fill(&meta, &mut info);
    let mut warnings = Vec::new();
    if let Some((model, mesh)) = model3mf::summarize(&models, &root, &mut warnings) {
        info.model = Some(model);
        info.mesh = (!mesh.is_empty()).then_some(mesh);
    }
    for w in warnings {
        info.warn(w);
    }
    Ok(info)
}

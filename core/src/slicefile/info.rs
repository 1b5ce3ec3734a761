//! What [`super::inspect`] returns. The JSON names are part of the CLI and API contract.

use serde::Serialize;

/// Container format of a sliced file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FileFormat {
    #[serde(rename = "gcode")]
    Gcode,
    #[serde(rename = "bgcode")]
    Bgcode,
    #[serde(rename = "3mf")]
    ThreeMf,
    /// An STL design file (geometry only).
    #[serde(rename = "stl")]
    Stl,
}

/// The program that wrote the file, as it names itself (`PrusaSlicer`, `BambuStudio`, `Cura`…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Slicer {
    pub name: String,
    pub version: Option<String>,
}

/// One filament (extruder / AMS slot). `index` is the 1-based filament number in the slicer.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Filament {
    pub index: u32,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `#RRGGBB`, upper case (an alpha channel is dropped).
    pub color_hex: Option<String>,
    /// The filament preset name.
    pub name: Option<String>,
    pub used_mm: Option<f64>,
    pub used_cm3: Option<f64>,
    pub used_g: Option<f64>,
    /// Cost of this print's filament, in the slicer's currency.
    pub cost: Option<f64>,
    pub nozzle_temp_c: Option<f64>,
    pub bed_temp_c: Option<f64>,
}

/// A Bambu Studio / OrcaSlicer plate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plate {
    pub index: u32,
    pub print_time_s: Option<u64>,
    pub filament_g: Option<f64>,
    /// Index into [`SliceInfo::thumbnails`] of this plate's picture.
    pub thumbnail_index: Option<usize>,
}

/// Geometry of a 3MF model (build items, after their transforms).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelInfo {
    pub objects: u32,
    pub triangles: u64,
    pub bounding_box_mm: [f64; 3],
    pub volume_cm3: f64,
}

/// Image format of an embedded thumbnail, from its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ThumbnailFormat {
    Png,
    Jpg,
    Qoi,
}

/// An embedded thumbnail; its bytes are in [`SliceInfo::thumbnail_data`] at the same index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Thumbnail {
    pub width: u32,
    pub height: u32,
    pub format: ThumbnailFormat,
    /// Size of the encoded image in bytes.
    pub bytes: usize,
}

/// Everything read from one sliced file. `None` (JSON `null`) where the file does not say.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SliceInfo {
    pub file: String,
    pub format: FileFormat,
    pub slicer: Option<Slicer>,
    pub printer_model: Option<String>,
    pub print_time_s: Option<u64>,
    pub layer_height_mm: Option<f64>,
    pub first_layer_height_mm: Option<f64>,
    pub nozzle_diameter_mm: Option<f64>,
    pub layer_count: Option<u32>,
    pub object_height_mm: Option<f64>,
    pub filaments: Vec<Filament>,
    pub total_filament_g: Option<f64>,
    pub total_cost: Option<f64>,
    pub plates: Vec<Plate>,
    pub model: Option<ModelInfo>,
    pub thumbnails: Vec<Thumbnail>,
    pub warnings: Vec<String>,
    /// The encoded thumbnail images, parallel to `thumbnails` (not serialised).
    #[serde(skip)]
    pub thumbnail_data: Vec<Vec<u8>>,
    /// A bounded sample of the model's triangles (STL, 3MF with geometry), for drawing a
    /// thumbnail with [`super::raster::render`] when the file has none (not serialised).
    #[serde(skip)]
    pub mesh: Option<super::Mesh>,
}

impl SliceInfo {
    pub(crate) fn new(file: &str, format: FileFormat) -> Self {
        SliceInfo {
            file: file.to_string(),
            format,
            slicer: None,
            printer_model: None,
            print_time_s: None,
            layer_height_mm: None,
            first_layer_height_mm: None,
            nozzle_diameter_mm: None,
            layer_count: None,
            object_height_mm: None,
            filaments: Vec::new(),
            total_filament_g: None,
            total_cost: None,
            plates: Vec::new(),
            model: None,
            thumbnails: Vec::new(),
            warnings: Vec::new(),
            thumbnail_data: Vec::new(),
            mesh: None,
        }
    }

    pub(crate) fn warn(&mut self, message: impl Into<String>) {
        let message = message.into();
        if self.warnings.len() < 64 && !self.warnings.contains(&message) {
            self.warnings.push(message);
        }
    }

    pub(crate) fn push_thumbnail(&mut self, thumbnail: Thumbnail, data: Vec<u8>) {
        self.thumbnails.push(thumbnail);
        self.thumbnail_data.push(data);
    }

    /// The thumbnail to show: the largest PNG or JPEG (browsers show those directly), else the
    /// largest of any format. Returns its index in [`SliceInfo::thumbnails`].
    pub fn best_thumbnail_index(&self) -> Option<usize> {
        let area = |t: &Thumbnail| u64::from(t.width) * u64::from(t.height);
        let web = |t: &Thumbnail| t.format != ThumbnailFormat::Qoi;
        self.thumbnails
            .iter()
            .enumerate()
            .max_by_key(|(_, t)| (web(t), area(t)))
            .map(|(i, _)| i)
    }

    /// The best thumbnail (see [`SliceInfo::best_thumbnail_index`]) with its encoded bytes.
    pub fn best_thumbnail(&self) -> Option<(&Thumbnail, &[u8])> {
        let i = self.best_thumbnail_index()?;
        Some((
            self.thumbnails.get(i)?,
            self.thumbnail_data.get(i)?.as_slice(),
        ))
    }
}

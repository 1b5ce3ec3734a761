//! Sliced-file metadata over the real fixtures in ../shared/fixtures/slicefiles/ (read in place,
//! never copied), a generated 300 MB G-code, and hostile inputs.
//!
//! Every expected value below was read from the fixture itself (grep / unzip), not from the
//! parser's output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

use printstall_core::slicefile::{
    self, Filament, FileFormat, SliceError, SliceInfo, ThumbnailFormat,
};

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/slicefiles")
        .join(name)
}

fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).expect(name)
}

fn inspect(name: &str) -> SliceInfo {
    let mut f = std::fs::File::open(fixture_path(name)).expect(name);
    slicefile::inspect(&mut f, name).expect(name)
}

fn slicer(info: &SliceInfo) -> (&str, Option<&str>) {
    let s = info.slicer.as_ref().expect("slicer");
    (s.name.as_str(), s.version.as_deref())
}

#[track_caller]
fn approx(actual: Option<f64>, expected: f64) {
    let a = actual.unwrap_or_else(|| panic!("expected {expected}, got None"));
    assert!((a - expected).abs() < 1e-6, "expected {expected}, got {a}");
}

fn thumbs(info: &SliceInfo) -> Vec<(u32, u32, ThumbnailFormat, usize)> {
    info.thumbnails
        .iter()
        .map(|t| (t.width, t.height, t.format, t.bytes))
        .collect()
}

/// (index, type, colour, grams)
type FilamentRow<'a> = (u32, Option<&'a str>, Option<&'a str>, Option<f64>);

fn filament_summary(info: &SliceInfo) -> Vec<FilamentRow<'_>> {
    info.filaments
        .iter()
        .map(|f| (f.index, f.kind.as_deref(), f.color_hex.as_deref(), f.used_g))
        .collect()
}

fn thumbnail_data_matches(info: &SliceInfo) {
    assert_eq!(info.thumbnails.len(), info.thumbnail_data.len());
    for (t, d) in info.thumbnails.iter().zip(&info.thumbnail_data) {
        assert_eq!(t.bytes, d.len());
    }
}

// ---------------------------------------------------------------- PrusaSlicer family

#[test]
fn prusaslicer_2_9_2_xl_five_tools_ascii() {
    let info = inspect("prusaslicer_2.9.2_xl5is_5tool.gcode");
    assert_eq!(info.format, FileFormat::Gcode);
    assert_eq!(slicer(&info), ("PrusaSlicer", Some("2.9.2")));
    assert_eq!(info.printer_model.as_deref(), Some("XL5IS"));
    assert_eq!(info.print_time_s, Some(57));
    approx(info.layer_height_mm, 0.2);
    approx(info.first_layer_height_mm, 0.2);
    approx(info.nozzle_diameter_mm, 0.4);
    approx(info.object_height_mm, 0.2);
    assert_eq!(info.layer_count, None);
    // `filament used [g] = 0.20, 0.00, 0.00, 0.00, 0.00`: only tool 1 is used.
    assert_eq!(
        info.filaments,
        vec![Filament {
            index: 1,
            kind: Some("PETG".into()),
            color_hex: Some("#FF8000".into()),
            name: Some("Generic PETG @XL - Cooler (235oC)".into()),
            used_mm: Some(65.73),
            used_cm3: Some(0.16),
            used_g: Some(0.20),
            cost: Some(0.01),
            nozzle_temp_c: Some(230.0),
            bed_temp_c: Some(80.0),
        }]
    );
    approx(info.total_filament_g, 0.20);
    approx(info.total_cost, 0.01);
    assert!(info.plates.is_empty());
    assert!(info.model.is_none());
    assert_eq!(
        thumbs(&info),
        vec![
            (16, 16, ThumbnailFormat::Qoi, 373),
            (313, 173, ThumbnailFormat::Qoi, 39_017),
            (480, 240, ThumbnailFormat::Qoi, 66_838),
            (380, 285, ThumbnailFormat::Png, 46_734),
        ]
    );
    thumbnail_data_matches(&info);
    assert_eq!(
        info.best_thumbnail().map(|(t, _)| (t.width, t.height)),
        Some((380, 285))
    );
    assert!(info.warnings.is_empty(), "{:?}", info.warnings);
}

#[test]
fn bgcode_equals_its_ascii_twin() {
    let binary = inspect("prusaslicer_2.9.2_xl5is_5tool.bgcode");
    let ascii = inspect("prusaslicer_2.9.2_xl5is_5tool.gcode");
    assert_eq!(binary.format, FileFormat::Bgcode);
    assert_eq!(slicer(&binary), ("PrusaSlicer", Some("2.9.2")));
    assert_eq!(binary.printer_model.as_deref(), Some("XL5IS"));
    assert_eq!(binary.print_time_s, Some(57));
    assert!(binary.warnings.is_empty(), "{:?}", binary.warnings);
    // Same metadata, same thumbnails byte for byte (QOI and PNG blocks read raw).
    let mut a = ascii.clone();
    a.file = binary.file.clone();
    a.format = FileFormat::Bgcode;
    assert_eq!(binary, a);
    assert_eq!(binary.thumbnail_data, ascii.thumbnail_data);
}

#[test]
fn prusaslicer_2_5_0_mmu_png_thumbnail() {
    let info = inspect("prusaslicer_2.5.0_mk3smmu2s_png_thumb.gcode");
    assert_eq!(slicer(&info), ("PrusaSlicer", Some("2.5.0+linux-x64-GTK3")));
    assert_eq!(info.printer_model.as_deref(), Some("MK3SMMU2S"));
    assert_eq!(info.print_time_s, Some(10 * 60 + 32));
    approx(info.layer_height_mm, 0.2);
    approx(info.first_layer_height_mm, 0.2);
    approx(info.nozzle_diameter_mm, 0.4);
    // `filament used [g] = 1.20, 0, 0.29` (three values, five configured extruders).
    assert_eq!(
        filament_summary(&info),
        vec![
            (1, Some("PLA"), Some("#FF8000"), Some(1.20)),
            (3, Some("PLA"), Some("#FF8000"), Some(0.29)),
        ]
    );
    assert_eq!(info.filaments[0].used_mm, Some(400.85));
    assert_eq!(info.filaments[1].used_mm, Some(98.63));
    assert_eq!(info.filaments[1].cost, Some(0.01));
    assert_eq!(info.filaments[0].name.as_deref(), Some("Generic PLA @MMU2"));
    assert_eq!(info.filaments[0].nozzle_temp_c, Some(205.0));
    assert_eq!(info.filaments[0].bed_temp_c, Some(60.0));
    approx(info.total_filament_g, 1.49);
    approx(info.total_cost, 0.04);
    assert_eq!(thumbs(&info), vec![(160, 120, ThumbnailFormat::Png, 4212)]);
}

#[test]
fn prusaslicer_2_6_0_mini_without_date() {
    let info = inspect("prusaslicer_2.6.0_mini_cube.gcode");
    assert_eq!(slicer(&info), ("PrusaSlicer", Some("2.6.0")));
    assert_eq!(info.printer_model.as_deref(), Some("MINI"));
    assert_eq!(info.print_time_s, Some(32 * 60 + 6));
    approx(info.layer_height_mm, 0.15);
    approx(info.first_layer_height_mm, 0.2);
    approx(info.object_height_mm, 18.05);
    assert_eq!(
        filament_summary(&info),
        vec![(1, Some("PETG"), Some("#FF8000"), Some(3.01))]
    );
    assert_eq!(info.filaments[0].used_mm, Some(986.61));
    assert_eq!(info.filaments[0].nozzle_temp_c, Some(240.0));
    assert_eq!(info.filaments[0].bed_temp_c, Some(90.0));
    approx(info.total_filament_g, 3.01);
    approx(info.total_cost, 0.08);
    assert_eq!(
        thumbs(&info),
        vec![
            (16, 16, ThumbnailFormat::Png, 461),
            (220, 124, ThumbnailFormat::Png, 4836)
        ]
    );
}

#[test]
fn superslicer_2_5_59_config_block_in_tail() {
    let info = inspect("superslicer_2.5.59_head_tail_excerpt.gcode");
    assert_eq!(slicer(&info), ("SuperSlicer", Some("2.5.59")));
    assert_eq!(info.printer_model.as_deref(), Some("Caribou_Duet_220"));
    assert_eq!(info.print_time_s, Some(12 * 60 + 5));
    assert_eq!(info.layer_count, Some(1));
    approx(info.layer_height_mm, 0.2);
    assert_eq!(
        filament_summary(&info),
        vec![(1, Some("PLA"), Some("#FF8000"), Some(1.62))]
    );
    assert_eq!(
        info.filaments[0].name.as_deref(),
        Some("Prusament PLA - Copy")
    );
    approx(info.total_filament_g, 1.62);
    approx(info.total_cost, 0.06);
    assert!(info.thumbnails.is_empty());
}

#[test]
fn superslicer_2_3_56_behind_arcwelder_with_crlf() {
    let info = inspect("superslicer_2.3.56_arcwelder_crlf.gcode");
    assert_eq!(slicer(&info), ("SuperSlicer", Some("2.3.56")));
    assert_eq!(
        info.printer_model.as_deref(),
        Some("Voron_v2_300_aferburner")
    );
    assert_eq!(info.print_time_s, Some(7 * 60 + 19));
    assert_eq!(
        filament_summary(&info),
        vec![(1, Some("ABS"), Some("#A768DF"), Some(0.67))]
    );
    assert_eq!(info.filaments[0].used_mm, Some(264.59));
    assert_eq!(info.filaments[0].nozzle_temp_c, Some(235.0));
    assert_eq!(info.filaments[0].bed_temp_c, Some(105.0));
    approx(info.total_filament_g, 0.67);
    assert_eq!(
        thumbs(&info),
        vec![
            (64, 64, ThumbnailFormat::Png, 2510),
            (400, 300, ThumbnailFormat::Png, 31_663)
        ]
    );
}

#[test]
fn orcaslicer_2_3_2_non_bambu_printer() {
    let info = inspect("orcaslicer_2.3.2_nonbbl_head_tail_excerpt.gcode");
    assert_eq!(slicer(&info), ("OrcaSlicer", Some("2.3.2-dev")));
    assert_eq!(info.printer_model.as_deref(), Some("IdeaFormer IR3 V2"));
    assert_eq!(info.print_time_s, Some(6 * 60 + 5));
    assert_eq!(info.layer_count, Some(20));
    approx(info.object_height_mm, 4.0);
    approx(info.layer_height_mm, 0.2);
    approx(info.first_layer_height_mm, 0.2);
    assert_eq!(
        filament_summary(&info),
        vec![(1, Some("PLA"), Some("#26A69A"), Some(1.12))]
    );
    let f = &info.filaments[0];
    assert_eq!(
        (f.used_mm, f.used_cm3, f.cost),
        (Some(375.61), Some(0.90), Some(0.02))
    );
    assert_eq!((f.nozzle_temp_c, f.bed_temp_c), (Some(210.0), Some(55.0)));
    approx(info.total_filament_g, 1.12);
    approx(info.total_cost, 0.02);
}

#[test]
fn orcaslicer_1_5_0_first_generator_line_wins() {
    // Line 2 says OrcaSlicer 1.5.0; line 8 is the fake "generated by SuperSlicer 1.5.0".
    let info = inspect("orcaslicer_1.5.0_thumbnail_block_excerpt.gcode");
    assert_eq!(slicer(&info), ("OrcaSlicer", Some("1.5.0")));
    assert_eq!(
        info.printer_model.as_deref(),
        Some("Generic Klipper Printer")
    );
    assert_eq!(info.print_time_s, Some(3 * 60 + 40));
    assert_eq!(info.layer_count, Some(25));
    assert_eq!(
        filament_summary(&info),
        vec![(1, Some("ABS"), Some("#F2754E"), None)]
    );
    assert_eq!(info.filaments[0].nozzle_temp_c, Some(260.0));
    assert_eq!(info.filaments[0].bed_temp_c, Some(105.0));
    assert_eq!(thumbs(&info), vec![(300, 300, ThumbnailFormat::Png, 4064)]);
}

#[test]
fn slic3r_1_3_1() {
    let info = inspect("slic3r.gcode");
    assert_eq!(slicer(&info), ("Slic3r", Some("1.3.1-dev")));
    assert_eq!(info.printer_model, None);
    assert_eq!(info.print_time_s, None);
    approx(info.layer_height_mm, 0.3);
    approx(info.first_layer_height_mm, 0.4);
    approx(info.nozzle_diameter_mm, 0.4);
    // `; filament_length_m = 0.2904`, `; filament_volume_cm3 = 0.6984`, density 0: no grams.
    assert_eq!(info.filaments.len(), 1);
    let f = &info.filaments[0];
    assert_eq!(
        (f.used_mm, f.used_cm3, f.used_g),
        (Some(290.4), Some(0.6984), None)
    );
    assert_eq!(f.color_hex.as_deref(), Some("#FFFFFF"));
    assert_eq!(f.nozzle_temp_c, Some(200.0));
    assert_eq!(info.total_filament_g, None);
    // `total_filament_cost = 0.0` with no filament price is "unknown".
    assert_eq!(info.total_cost, None);
}

// ---------------------------------------------------------------- Cura, ideaMaker

#[test]
fn cura_4_10_reprap_with_cr_line_ends() {
    let info = inspect("cura_4.10_marlin.gcode");
    assert_eq!(slicer(&info), ("Cura", Some("4.10.0")));
    assert_eq!(info.print_time_s, Some(451));
    approx(info.layer_height_mm, 0.2);
    // From `;MINZ:0.2`: Cura names no first layer height.
    approx(info.first_layer_height_mm, 0.2);
    assert_eq!(info.layer_count, Some(25));
    approx(info.object_height_mm, 5.2);
    // `;Filament used: 0.27387m`
    assert_eq!(info.filaments.len(), 1);
    approx(info.filaments[0].used_mm, 273.87);
    assert_eq!(info.filaments[0].used_g, None);
    assert_eq!(info.total_filament_g, None);
}

#[test]
fn cura_4_13_1_qoi_thumbnails_closed_by_plain_end() {
    let info = inspect("cura_4.13.1_duetplugin_qoi_thumbs.gcode");
    assert_eq!(slicer(&info), ("Cura", Some("4.13.1")));
    assert_eq!(info.print_time_s, Some(4199));
    approx(info.layer_height_mm, 0.15);
    // `;MINZ:0.2`: a 0.2 mm first layer under 0.15 mm layers.
    approx(info.first_layer_height_mm, 0.2);
    approx(info.object_height_mm, 7.55);
    approx(info.filaments[0].used_mm, 3579.83);
    assert_eq!(
        thumbs(&info),
        vec![
            (48, 48, ThumbnailFormat::Qoi, 2687),
            (128, 128, ThumbnailFormat::Qoi, 10_190)
        ]
    );
    assert!(info.thumbnail_data[0].starts_with(b"qoif"));
}

#[test]
fn cura_griffin_header() {
    let info = inspect("cura_griffin_flavor.gcode");
    assert_eq!(slicer(&info), ("Cura", Some("master")));
    assert_eq!(info.printer_model.as_deref(), Some("Ultimaker 3"));
    assert_eq!(info.print_time_s, Some(34));
    approx(info.nozzle_diameter_mm, 0.4);
    assert_eq!(info.layer_count, Some(8));
    approx(info.object_height_mm, 2.0);
    // `;EXTRUDER_TRAIN.0.MATERIAL.VOLUME_USED:52` is mm³.
    let f = &info.filaments[0];
    approx(f.used_cm3, 0.052);
    assert_eq!((f.nozzle_temp_c, f.bed_temp_c), (Some(205.0), Some(60.0)));
}

#[test]
fn ideamaker_4_2() {
    let info = inspect("ideamaker_4.2.gcode");
    assert_eq!(slicer(&info), ("ideaMaker", Some("4.2.0.5250")));
    assert_eq!(info.print_time_s, Some(744));
    approx(info.nozzle_diameter_mm, 0.4);
    approx(info.object_height_mm, 9.32);
    // `;Material#1 Used: 422.7` mm (Material#2 is 0.0), `;Material#1 Cost: 0.04`.
    assert_eq!(info.filaments.len(), 1);
    let f = &info.filaments[0];
    assert_eq!((f.index, f.used_mm, f.cost), (1, Some(422.7), Some(0.04)));
    // Grams from 1.75 mm and 1240 kg/m³: π·0.875²·422.7 mm³ · 1.24 g/cm³ = 1.26 g.
    approx(f.used_g, 1.26);
    assert_eq!(info.warnings.len(), 1);
    approx(info.total_cost, 0.04);
}

// ---------------------------------------------------------------- 3MF

#[test]
fn bambu_studio_sliced_plate() {
    let info = inspect("bambustudio_1.7.6_sliced_plate_RECONSTRUCTED.gcode.3mf");
    assert_eq!(info.format, FileFormat::ThreeMf);
    assert_eq!(slicer(&info), ("BambuStudio", Some("01.07.06.92")));
    assert_eq!(info.printer_model.as_deref(), Some("Bambu Lab X1 Carbon"));
    // slice_info.config `prediction` 7475 = plate G-code "total estimated time: 2h 4m 35s".
    assert_eq!(info.print_time_s, Some(7475));
    approx(info.layer_height_mm, 0.28);
    approx(info.first_layer_height_mm, 0.2);
    approx(info.nozzle_diameter_mm, 0.4);
    assert_eq!(info.layer_count, Some(137));
    assert_eq!(
        filament_summary(&info),
        vec![
            (1, Some("PLA"), Some("#84620D"), Some(13.81)),
            (2, Some("PLA"), Some("#FFFFFF"), Some(19.66)),
            (3, Some("PLA"), Some("#C00D1E"), Some(2.98)),
            (10, Some("PLA"), Some("#00AE42"), Some(2.99)),
        ]
    );
    assert_eq!(info.filaments[0].used_mm, Some(4560.0));
    assert_eq!(
        info.filaments[1].name.as_deref(),
        Some("Bambu PLA Matte @BBL X1C")
    );
    assert_eq!(info.filaments[3].nozzle_temp_c, Some(220.0));
    // curr_bed_type = Textured PEI Plate → textured_plate_temp 55.
    assert_eq!(info.filaments[3].bed_temp_c, Some(55.0));
    approx(info.total_filament_g, 39.43);
    assert_eq!(info.plates.len(), 1);
    let plate = &info.plates[0];
    assert_eq!((plate.index, plate.print_time_s), (1, Some(7475)));
    approx(plate.filament_g, 39.43);
    // plate_1.png 512x512 (stored), plate_1_small.png 128x128; pick_1 and top_1 are skipped.
    assert_eq!(
        thumbs(&info),
        vec![
            (512, 512, ThumbnailFormat::Png, 25_843),
            (128, 128, ThumbnailFormat::Png, 5301)
        ]
    );
    assert_eq!(plate.thumbnail_index, Some(0));
    // A sliced .gcode.3mf has an empty model.
    assert!(info.model.is_none());
}

#[test]
fn bambu_studio_unsliced_multiplate_project() {
    let info = inspect("bambustudio_2.1.0_project_multiplate_unsliced.3mf");
    assert_eq!(slicer(&info), ("BambuStudio", Some("02.01.00.59")));
    assert_eq!(info.printer_model.as_deref(), Some("Bambu Lab X1 Carbon"));
    assert_eq!(info.print_time_s, None);
    approx(info.layer_height_mm, 0.2);
    // 13 project filaments, none used yet.
    assert_eq!(info.filaments.len(), 13);
    assert_eq!(info.filaments[0].color_hex.as_deref(), Some("#996633"));
    assert_eq!(info.filaments[12].color_hex.as_deref(), Some("#FFFFFF"));
    assert!(info.filaments.iter().all(|f| f.used_g.is_none()));
    // curr_bed_type = Supertack Plate → supertack_plate_temp 45.
    assert_eq!(info.filaments[0].bed_temp_c, Some(45.0));
    let plates: Vec<_> = info
        .plates
        .iter()
        .map(|p| (p.index, p.print_time_s, p.thumbnail_index))
        .collect();
    assert_eq!(
        plates,
        vec![
            (1, None, Some(0)),
            (2, None, Some(2)),
            (3, None, Some(4)),
            (4, None, Some(6))
        ]
    );
    assert_eq!(info.thumbnails.len(), 8);
    assert_eq!(
        (
            info.thumbnails[2].width,
            info.thumbnails[2].bytes,
            info.thumbnails[3].bytes
        ),
        (512, 3853, 1235)
    );
    // Five build items, each a component in 3D/Objects/object_N.model (checked with an
    // independent script: 12 + 1440 + 124 + 1440 + 380 triangles).
    let model = info.model.as_ref().expect("model");
    assert_eq!((model.objects, model.triangles), (5, 3396));
    assert_eq!(model.bounding_box_mm, [348.823, 349.545, 25.6]);
    approx(Some(model.volume_cm3), 47.117);
}

#[test]
fn prusaslicer_project_3mf() {
    let info = inspect("prusaslicer_2.9.2_project_lines.3mf");
    assert_eq!(slicer(&info), ("PrusaSlicer", Some("2.9.2")));
    assert_eq!(info.printer_model.as_deref(), Some("XL5IS"));
    assert_eq!(info.print_time_s, None);
    approx(info.layer_height_mm, 0.2);
    approx(info.nozzle_diameter_mm, 0.4);
    let types: Vec<_> = info
        .filaments
        .iter()
        .map(|f| f.kind.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(types, ["PETG", "PETG", "PETG", "PETG", "PLA"]);
    assert_eq!(info.filaments[4].name.as_deref(), Some("Generic PLA @XLIS"));
    assert_eq!(info.filaments[2].nozzle_temp_c, Some(240.0));
    assert!(info.plates.is_empty());
    // Seven 36 mm cubes scaled by the build transforms into thin lines.
    let model = info.model.as_ref().expect("model");
    assert_eq!((model.objects, model.triangles), (7, 84));
    assert_eq!(model.bounding_box_mm, [100.0, 33.5, 0.2]);
    approx(Some(model.volume_cm3), 0.07);
    assert_eq!(
        thumbs(&info),
        vec![(256, 256, ThumbnailFormat::Png, 34_628)]
    );
}

#[test]
fn every_fixture_parses_and_serialises_with_the_contract_names() {
    let mut names: Vec<String> = std::fs::read_dir(fixture_path(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "README.md" && !n.starts_with('.'))
        .collect();
    names.sort();
    assert_eq!(names.len(), 16);
    for name in names {
        let info = inspect(&name);
        let json = serde_json::to_value(&info).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = vec![
            "file",
            "format",
            "slicer",
            "printer_model",
            "print_time_s",
            "layer_height_mm",
            "first_layer_height_mm",
            "nozzle_diameter_mm",
            "layer_count",
            "object_height_mm",
            "filaments",
            "total_filament_g",
            "total_cost",
            "plates",
            "model",
            "thumbnails",
            "warnings",
        ];
        let mut got = keys.clone();
        got.sort_unstable();
        expected.sort_unstable();
        assert_eq!(got, expected, "{name}");
        for f in json["filaments"].as_array().unwrap() {
            let mut k: Vec<&str> = f.as_object().unwrap().keys().map(String::as_str).collect();
            k.sort_unstable();
            assert_eq!(
                k,
                [
                    "bed_temp_c",
                    "color_hex",
                    "cost",
                    "index",
                    "name",
                    "nozzle_temp_c",
                    "type",
                    "used_cm3",
                    "used_g",
                    "used_mm"
                ]
            );
        }
        assert!(!info.to_summary().is_empty());
        thumbnail_data_matches(&info);
    }
}

// ---------------------------------------------------------------- line endings, encodings

fn convert_line_ends(data: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 20);
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            b'\r' if data.get(i + 1) == Some(&b'\n') => {
                out.extend_from_slice(to);
                i += 2;
            }
            b'\r' | b'\n' => {
                out.extend_from_slice(to);
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

#[test]
fn line_endings_do_not_change_the_result() {
    for name in [
        "prusaslicer_2.9.2_xl5is_5tool.gcode",
        "superslicer_2.3.56_arcwelder_crlf.gcode",
        "orcaslicer_2.3.2_nonbbl_head_tail_excerpt.gcode",
        "cura_griffin_flavor.gcode",
    ] {
        let original = inspect(name);
        for ending in [&b"\n"[..], b"\r\n", b"\r"] {
            let data = convert_line_ends(&fixture_bytes(name), ending);
            let info = slicefile::inspect_bytes(&data, name).unwrap();
            assert_eq!(info, original, "{name} with {ending:?}");
        }
    }
}

#[test]
fn a_line_across_the_head_window_edge_is_read_whole() {
    // The head window ends at 64 KiB; put a stats line right across that edge.
    let mut data =
        b"; generated by PrusaSlicer 2.9.2 on 2025-05-03 at 20:49:01 UTC\nG28\n".to_vec();
    while data.len() < 65_536 - 20 {
        data.extend_from_slice(b"G1 X1 Y1 E0.1\n");
    }
    data.extend_from_slice(b"; filament used [g] = 12.34\n; filament_type = PLA\n");
    for _ in 0..2000 {
        data.extend_from_slice(b"G1 X1 Y1 E0.1\n");
    }
    let info = slicefile::inspect_bytes(&data, "edge.gcode").unwrap();
    assert_eq!(info.filaments[0].used_g, Some(12.34));
}

#[test]
fn non_utf8_is_read_lossily() {
    let mut data = b"; generated by PrusaSlicer 2.9.2 on 2025-05-03 at 20:49:01 UTC\n".to_vec();
    data.extend_from_slice(b"; filament_settings_id = \"Caf\xe9 PLA\"\n; filament_type = PLA\n");
    data.extend_from_slice(
        b"G1 X0\n; estimated printing time (normal mode) = 1h 2m 3s\n\xff\xfe\n",
    );
    let info = slicefile::inspect_bytes(&data, "x.gcode").unwrap();
    assert_eq!(info.print_time_s, Some(3723));
    assert_eq!(info.filaments[0].name.as_deref(), Some("Caf\u{fffd} PLA"));
}

#[test]
fn unknown_slicer_keeps_what_it_finds() {
    let data = b";FLAVOR:Marlin\n;TIME:600\nG28\nG1 Z0.2\n";
    let info = slicefile::inspect_bytes(data, "plain.gcode").unwrap();
    assert_eq!(info.slicer, None);
    assert_eq!(info.print_time_s, Some(600));
}

// ---------------------------------------------------------------- large files

/// Read + Seek that counts the bytes handed out.
struct Counting<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

impl<R: Seek> Seek for Counting<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap()
}

#[test]
fn generated_300_mb_gcode_parses_like_the_original_and_reads_little() {
    let name = "prusaslicer_2.9.2_xl5is_5tool.gcode";
    let data = fixture_bytes(name);
    let body_start = find(&data, b"\nM73 P0 R0") + 1;
    let body_end = find(&data, b"\n; max_layer_z") + 1;
    let (head, body, tail) = (
        &data[..body_start],
        &data[body_start..body_end],
        &data[body_end..],
    );
    let target: u64 = 300 * 1024 * 1024;
    let path =
        std::env::temp_dir().join(format!("printstall-slicefile-{}.gcode", std::process::id()));
    let guard = TempFile(path.clone());
    {
        let mut out =
            std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path).unwrap());
        out.write_all(head).unwrap();
        let mut written = head.len() as u64;
        // Repeat the body in 8 MiB blocks.
        let block: Vec<u8> = body.repeat((8 << 20) / body.len() + 1);
        while written + (tail.len() as u64) < target {
            out.write_all(&block).unwrap();
            written += block.len() as u64;
        }
        out.write_all(tail).unwrap();
        out.flush().unwrap();
    }
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size >= target, "{size}");
    let started = std::time::Instant::now();
    let mut reader = Counting {
        inner: std::fs::File::open(&path).unwrap(),
        read: 0,
    };
    let big = slicefile::inspect(&mut reader, name).unwrap();
    let elapsed = started.elapsed();
    let original = inspect(name);
    assert_eq!(big, original);
    // Head (≤ 1 MiB + a chunk) and tail (≤ 1 MiB): a 300 MB file costs what a 300 KB one does.
    assert!(reader.read < 3 * 1024 * 1024, "read {} bytes", reader.read);
    assert!(elapsed.as_secs() < 10, "{elapsed:?}");
    drop(guard);
    assert!(!path.exists());
}

// ---------------------------------------------------------------- hostile input

fn expect_err(data: &[u8], name: &str) -> SliceError {
    match slicefile::inspect_bytes(data, name) {
        Ok(info) => panic!("{name}: expected an error, got {info:?}"),
        Err(e) => e,
    }
}

#[test]
fn empty_and_garbage_inputs_are_errors() {
    assert!(matches!(expect_err(b"", "a.gcode"), SliceError::Empty));
    let junk: Vec<u8> = (0..5000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert!(matches!(
        expect_err(&junk, "a.gcode"),
        SliceError::UnknownFormat
    ));
    assert!(matches!(
        expect_err(&junk, "a.3mf"),
        SliceError::Invalid { format: "3mf", .. }
    ));
    assert!(matches!(
        expect_err(&junk, "a.bgcode"),
        SliceError::Invalid {
            format: "bgcode",
            ..
        }
    ));
    assert!(matches!(
        expect_err(b"hello world, no gcode here", "a.gcode"),
        SliceError::Invalid { .. }
    ));
    let mut version9 = fixture_bytes("prusaslicer_2.9.2_xl5is_5tool.bgcode");
    version9[4] = 9;
    assert!(matches!(
        expect_err(&version9, "a.bgcode"),
        SliceError::UnsupportedVersion { version: 9, .. }
    ));
}

#[test]
fn truncated_bgcode_and_3mf_are_errors() {
    let bgcode = fixture_bytes("prusaslicer_2.9.2_xl5is_5tool.bgcode");
    for cut in [5, 9, 12, 500, 1600, 50_000, 154_600, 160_000] {
        let e = expect_err(&bgcode[..cut], "cut.bgcode");
        assert!(matches!(e, SliceError::Truncated(_)), "cut at {cut}: {e}");
    }
    for name in [
        "prusaslicer_2.9.2_project_lines.3mf",
        "bambustudio_1.7.6_sliced_plate_RECONSTRUCTED.gcode.3mf",
    ] {
        let zip = fixture_bytes(name);
        for cut in [10, 1000, zip.len() / 2, zip.len() - 30] {
            expect_err(&zip[..cut], name);
        }
    }
}

#[test]
fn bgcode_lying_block_size_is_an_error() {
    let mut bgcode = fixture_bytes("prusaslicer_2.9.2_xl5is_5tool.bgcode");
    // Printer metadata block at offset 90: uncompressed size field claims 4 GB.
    bgcode[94..98].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        expect_err(&bgcode, "lie.bgcode"),
        SliceError::Truncated(_)
    ));
}

#[test]
fn bgcode_absurd_thumbnail_size_is_a_warning() {
    let mut bgcode = fixture_bytes("prusaslicer_2.9.2_xl5is_5tool.bgcode");
    // The PNG thumbnail block starts at 107827; its image header is after 8 + 6 bytes.
    let ihdr = 107_827 + 14 + 16;
    assert_eq!(&bgcode[ihdr - 4..ihdr], b"IHDR");
    bgcode[ihdr..ihdr + 4].copy_from_slice(&100_000u32.to_be_bytes());
    let info = slicefile::inspect_bytes(&bgcode, "big.bgcode").unwrap();
    assert_eq!(info.thumbnails.len(), 3);
    assert!(
        info.warnings.iter().any(|w| w.contains("100000x285")),
        "{:?}",
        info.warnings
    );
    assert!(
        info.warnings.iter().any(|w| w.contains("checksum")),
        "{:?}",
        info.warnings
    );
}

/// A zip with the given members: (name, stored bytes, method, declared size, crc).
fn zip_with(members: &[(&str, Vec<u8>, u16, u32, u32)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data, method, size, crc) in members {
        let offset = out.len() as u32;
        let header = |sig: &[u8], central: bool| {
            let mut h = sig.to_vec();
            if central {
                h.extend_from_slice(&20u16.to_le_bytes());
            }
            h.extend_from_slice(&20u16.to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes());
            h.extend_from_slice(&method.to_le_bytes());
            h.extend_from_slice(&[0; 4]);
            h.extend_from_slice(&crc.to_le_bytes());
            h.extend_from_slice(&(data.len() as u32).to_le_bytes());
            h.extend_from_slice(&size.to_le_bytes());
            h.extend_from_slice(&(name.len() as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes());
            if central {
                // Comment length, disk, internal and external attributes.
                h.extend_from_slice(&[0; 10]);
                h.extend_from_slice(&offset.to_le_bytes());
            }
            h.extend_from_slice(name.as_bytes());
            h
        };
        out.extend_from_slice(&header(b"PK\x03\x04", false));
        out.extend_from_slice(data);
        central.extend_from_slice(&header(b"PK\x01\x02", true));
    }
    let dir_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(members.len() as u16).to_le_bytes());
    out.extend_from_slice(&(members.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&dir_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn crc(data: &[u8]) -> u32 {
    let mut c = flate2::Crc::new();
    c.update(data);
    c.sum()
}

#[test]
fn zip_bombs_are_refused() {
    // 64 MiB of zeros deflates to ~64 KB; the directory claims 1 KB.
    let zeros = vec![0u8; 64 << 20];
    let packed = deflate(&zeros);
    let lying = zip_with(&[(
        "Metadata/slice_info.config",
        packed.clone(),
        8,
        1024,
        crc(&zeros),
    )]);
    assert!(matches!(
        expect_err(&lying, "bomb.3mf"),
        SliceError::SizeMismatch { declared: 1024, .. }
    ));
    // Honest about 4 GB: refused before inflating.
    let huge = zip_with(&[(
        "Metadata/project_settings.config",
        packed.clone(),
        8,
        u32::MAX - 1,
        0,
    )]);
    assert!(matches!(
        expect_err(&huge, "huge.3mf"),
        SliceError::TooLarge { .. }
    ));
    // The model is streamed, with the same check.
    let model = zip_with(&[("3D/3dmodel.model", packed, 8, 4096, 0)]);
    assert!(matches!(
        expect_err(&model, "model.3mf"),
        SliceError::SizeMismatch { .. }
    ));
}

#[test]
fn xml_entity_bomb_is_not_expanded() {
    let mut xml =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".to_string()
        } else {
            format!("lol{}", i - 1)
        };
        xml.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">\n",
            format!("&{prev};").repeat(10)
        ));
    }
    xml.push_str(
        "]>\n<config><header><header_item key=\"X-BBL-Client-Version\" value=\"&lol9;\"/></header>",
    );
    xml.push_str(
        "<plate><metadata key=\"index\" value=\"1\"/><metadata key=\"prediction\" value=\"60\"/>",
    );
    xml.push_str("<filament id=\"1\" type=\"&lol9;\" color=\"#FFFFFF\" used_m=\"1\" used_g=\"3\"/></plate></config>");
    let data = xml.into_bytes();
    let zip = zip_with(&[(
        "Metadata/slice_info.config",
        data.clone(),
        0,
        data.len() as u32,
        crc(&data),
    )]);
    let started = std::time::Instant::now();
    let info = slicefile::inspect_bytes(&zip, "lol.3mf").unwrap();
    assert!(started.elapsed().as_secs() < 2);
    assert_eq!(info.print_time_s, Some(60));
    assert_eq!(info.filaments[0].kind.as_deref(), Some("&lol9;"));
    assert_eq!(slicer(&info), ("BambuStudio", Some("&lol9;")));
}

#[test]
fn crc_mismatch_in_a_3mf_member_is_an_error() {
    let data = b"<config></config>".to_vec();
    let zip = zip_with(&[(
        "Metadata/slice_info.config",
        data.clone(),
        0,
        data.len() as u32,
        1234,
    )]);
    assert!(matches!(
        expect_err(&zip, "crc.3mf"),
        SliceError::Invalid { .. }
    ));
}

/// Mutated and truncated fixtures never panic (a cheap stand-in for fuzzing in CI).
#[test]
fn mutated_fixtures_never_panic() {
    let names = [
        "prusaslicer_2.9.2_xl5is_5tool.bgcode",
        "prusaslicer_2.9.2_project_lines.3mf",
        "bambustudio_1.7.6_sliced_plate_RECONSTRUCTED.gcode.3mf",
        "orcaslicer_2.3.2_nonbbl_head_tail_excerpt.gcode",
        "cura_4.13.1_duetplugin_qoi_thumbs.gcode",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for name in names {
        let original = fixture_bytes(name);
        for round in 0..60 {
            let mut data = original.clone();
            // Headers and directories live near the start and the end: aim there half the time.
            for _ in 0..(1 + next() % 8) {
                let len = data.len() as u64;
                let at = match next() % 3 {
                    0 => next() % len.min(4096),
                    1 => len - 1 - next() % len.min(4096),
                    _ => next() % len,
                } as usize;
                data[at] = next() as u8;
            }
            if round % 5 == 0 {
                let keep = (next() % data.len() as u64) as usize;
                data.truncate(keep.max(1));
            }
            let _ = slicefile::inspect_bytes(&data, name);
        }
    }
}

/// Figures for the issue note: `cargo test --release -p printstall-core --test slicefiles
/// -- --ignored --nocapture measure`. Writes and deletes 1, 50 and 500 MB temp files.
#[test]
#[ignore = "measurement, not a check"]
fn measure_inspect_speed() {
    let mut names: Vec<String> = std::fs::read_dir(fixture_path(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "README.md" && !n.starts_with('.'))
        .collect();
    names.sort();
    for name in &names {
        let data = fixture_bytes(name);
        let runs = 50;
        let started = std::time::Instant::now();
        for _ in 0..runs {
            slicefile::inspect_bytes(&data, name).unwrap();
        }
        let per = started.elapsed() / runs;
        println!("{name}: {} bytes, {per:?} per inspect", data.len());
    }
    let name = "prusaslicer_2.9.2_xl5is_5tool.gcode";
    let data = fixture_bytes(name);
    let body_start = find(&data, b"\nM73 P0 R0") + 1;
    let body_end = find(&data, b"\n; max_layer_z") + 1;
    for mb in [1u64, 50, 500] {
        let path = std::env::temp_dir().join(format!(
            "printstall-measure-{}-{mb}.gcode",
            std::process::id()
        ));
        let _guard = TempFile(path.clone());
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        out.write_all(&data[..body_start]).unwrap();
        let mut written = body_start as u64;
        while written < mb << 20 {
            out.write_all(&data[body_start..body_end]).unwrap();
            written += (body_end - body_start) as u64;
        }
        out.write_all(&data[body_end..]).unwrap();
        out.flush().unwrap();
        drop(out);
        let size = std::fs::metadata(&path).unwrap().len();
        let started = std::time::Instant::now();
        let mut reader = Counting {
            inner: std::fs::File::open(&path).unwrap(),
            read: 0,
        };
        slicefile::inspect(&mut reader, name).unwrap();
        let t = started.elapsed();
        println!(
            "generated {size} bytes: {t:?}, read {} bytes, effective {:.0} MB/s",
            reader.read,
            size as f64 / 1e6 / t.as_secs_f64()
        );
    }
}

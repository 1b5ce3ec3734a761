//! "Add a variant from a sliced file": picking a .gcode, .bgcode or .3mf fills the variant
//! form from the file's own metadata, parsed in wasm by `printstall-core`, offline, before any
//! upload. Shows the best embedded thumbnail, or a picture drawn from the model's mesh by
//! core's software rasteriser when the file has none (a plain 3MF).
//!
//! "Save variant" records the variant (and its model, when new) as `entity.set.v1` ops in
//! the local store and its outbox, offline too: name, printer and layer height as slicer
//! settings, print time, and the grams of each of the file's filaments matched to the
//! shop's filaments by material and colour (grams of a filament the shop does not have are
//! kept as a slicer setting, `filament_N_g`).
//!
//! Below the form, [`FileUploads`] sends the picked file to a variant (or a design file, STL
//! or 3MF, to the variant's model) through [`crate::uploads`]: the file waits in IndexedDB
//! until there is a connection, with a progress bar while it goes up.

use std::cell::Cell;
use std::rc::Rc;

use wasm_bindgen_futures::spawn_local;

use printstall_core::domain::planning::material_label;
use printstall_core::domain::variant::MAX_PRINT_TIME_S;
use printstall_core::slicefile::raster;
use printstall_core::slicefile::thumbnail::decode_qoi_rgba;
use printstall_core::slicefile::{SliceInfo, ThumbnailFormat, format_duration};
use printstall_core::sync::OpBody;
use printstall_core::sync::op::{EntityKind, EntitySet};
use serde_json::{Map, Value, json};
use uuid::Uuid;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::hooks::use_online::use_online;
use crate::local::use_local;
use crate::pages::models::model_rows;
use crate::slice_blob::{self, Parsed};
use crate::store::queries::{Catalog, FilamentRow as ShopFilament};
use crate::uploads::{
    self, Pending, PendingState, Target, Targets, UploadDb, Uploader, progress_text,
};

/// Side of the picture drawn from a mesh.
const DRAWN_SIDE: u32 = 256;

/// The picture shown beside the form.
#[derive(Clone, PartialEq)]
struct Picture {
    url: String,
    width: u32,
    height: u32,
    /// Drawn from the mesh on this device (not embedded in the file).
    drawn: bool,
}

#[derive(Clone, PartialEq)]
struct FilamentRow {
    index: u32,
    label: String,
    /// The material the file names (`PLA`), if any.
    kind: Option<String>,
    color: Option<String>,
    grams: Option<f64>,
}

#[derive(Clone, PartialEq)]
struct PlateRow {
    index: u32,
    time: Option<String>,
    grams: Option<f64>,
}

/// What the form shows, taken from one parsed file.
#[derive(Clone, PartialEq)]
struct Filled {
    file_name: String,
    name: String,
    slicer: Option<String>,
    printer: Option<String>,
    print_time: Option<String>,
    print_time_s: Option<u64>,
    layer_height: Option<f64>,
    filaments: Vec<FilamentRow>,
    total_g: Option<f64>,
    plates: Vec<PlateRow>,
    picture: Option<Picture>,
    picture_note: Option<String>,
    warnings: Vec<String>,
    stats: String,
}

#[derive(Clone, PartialEq)]
enum Status {
    Idle,
    Reading(String),
    Ready(Rc<Filled>),
    Failed(String),
}

/// `benchy.gcode.3mf` → `benchy`; `cube_0.2mm_PLA_MK4_1h.bgcode` → `cube_0.2mm_PLA_MK4_1h`.
fn name_from_file(file_name: &str) -> String {
    let mut name = file_name;
    for ext in [".3mf", ".bgcode", ".gcode", ".bgc", ".gco", ".g"] {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(ext) && name.len() > ext.len() {
            name = &name[..name.len() - ext.len()];
        }
    }
    name.trim().to_string()
}

fn human_bytes(n: u64) -> String {
    match n {
        0..1_000 => format!("{n} B"),
        1_000..1_000_000 => format!("{:.0} KB", n as f64 / 1e3),
        _ => format!("{:.1} MB", n as f64 / 1e6),
    }
}

/// The picture to show: the best PNG/JPEG as it is; a QOI (which browsers cannot show)
/// decoded to RGBA by core and drawn on a canvas.
fn picture(info: &SliceInfo) -> (Option<Picture>, Option<String>) {
    let Some((thumb, bytes)) = info.best_thumbnail() else {
        return drawn_picture(info);
    };
    let mime = match thumb.format {
        ThumbnailFormat::Png => "image/png",
        ThumbnailFormat::Jpg => "image/jpeg",
        ThumbnailFormat::Qoi => {
            let note = format!(
                "The file's {}×{} QOI thumbnail cannot be shown.",
                thumb.width, thumb.height
            );
            let url = decode_qoi_rgba(bytes)
                .ok()
                .and_then(|rgba| slice_blob::rgba_data_url(&rgba));
            return match url {
                Some(url) => (
                    Some(Picture {
                        url,
                        width: thumb.width,
                        height: thumb.height,
                        drawn: false,
                    }),
                    None,
                ),
                None => (None, Some(note)),
            };
        }
    };
    let picture = slice_blob::image_url(bytes, mime).map(|url| Picture {
        url,
        width: thumb.width,
        height: thumb.height,
        drawn: false,
    });
    (picture, None)
}

/// A picture of the model drawn from its mesh, for files without a thumbnail.
fn drawn_picture(info: &SliceInfo) -> (Option<Picture>, Option<String>) {
    let Some(mesh) = &info.mesh else {
        return (None, Some("The file has no thumbnail.".into()));
    };
    match raster::render(mesh, DRAWN_SIDE, DRAWN_SIDE) {
        Ok(drawn) => match slice_blob::rgba_data_url(&drawn.image) {
            Some(url) => (
                Some(Picture {
                    url,
                    width: DRAWN_SIDE,
                    height: DRAWN_SIDE,
                    drawn: true,
                }),
                None,
            ),
            None => (None, Some("The model's picture cannot be shown.".into())),
        },
        Err(e) => (None, Some(format!("The file has no thumbnail, and {e}."))),
    }
}

fn fill(file_name: &str, parsed: Parsed) -> Filled {
    let info = &parsed.info;
    let filaments = info
        .filaments
        .iter()
        .map(|f| {
            let mut label = format!("Filament {}", f.index);
            if let Some(kind) = &f.kind {
                label.push_str(&format!(" · {kind}"));
            }
            if let Some(name) = &f.name {
                label.push_str(&format!(" · {name}"));
            }
            FilamentRow {
                index: f.index,
                label,
                kind: f.kind.clone(),
                color: f.color_hex.clone(),
                grams: f.used_g,
            }
        })
        .collect();
    let plates = info
        .plates
        .iter()
        .map(|p| PlateRow {
            index: p.index,
            time: p.print_time_s.map(format_duration),
            grams: p.filament_g,
        })
        .collect();
    let (picture, picture_note) = picture(info);
    let stats = format!(
        "Read on this device: {} of {} in {:.0} ms ({} {}).",
        human_bytes(parsed.loaded_bytes),
        human_bytes(parsed.file_size),
        parsed.millis,
        parsed.rounds,
        if parsed.rounds == 1 { "pass" } else { "passes" }
    );
    Filled {
        file_name: file_name.to_string(),
        name: name_from_file(file_name),
        slicer: info
            .slicer
            .as_ref()
            .map(|s| format!("{} {}", s.name, s.version.as_deref().unwrap_or("")))
            .map(|s| s.trim().to_string()),
        printer: info.printer_model.clone(),
        print_time: info.print_time_s.map(format_duration),
        print_time_s: info.print_time_s,
        layer_height: info.layer_height_mm,
        filaments,
        total_g: info.total_filament_g,
        plates,
        picture,
        picture_note,
        warnings: info.warnings.clone(),
        stats,
    }
}

fn number(value: Option<f64>) -> String {
    value.map(|v| format!("{v}")).unwrap_or_default()
}

/// The value of the input or select with this id, trimmed ("" when there is none).
fn field_value(id: &str) -> String {
    use wasm_bindgen::JsCast;
    let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
    else {
        return String::new();
    };
    if let Some(i) = el.dyn_ref::<HtmlInputElement>() {
        return i.value().trim().to_string();
    }
    el.dyn_ref::<HtmlSelectElement>()
        .map(|s| s.value().trim().to_string())
        .unwrap_or_default()
}

/// The shop's filament of the file's material and colour, if there is one.
fn matching_filament<'a>(row: &FilamentRow, shop: &'a [ShopFilament]) -> Option<&'a ShopFilament> {
    let kind = row.kind.as_deref()?.trim().to_ascii_lowercase();
    let hex = row
        .color
        .as_deref()?
        .trim()
        .trim_start_matches('#')
        .to_ascii_lowercase();
    shop.iter().find(|f| {
        let material = material_label(f.material).to_ascii_lowercase();
        (kind == material || kind.split([' ', '-', '+']).next() == Some(material.as_str()))
            && f.hex.trim_start_matches('#').to_ascii_lowercase() == hex
    })
}

/// Grams as the form shows them (`12.5`) → centigrams; `None` for empty or not a number.
fn grams_cg(text: &str) -> Option<i64> {
    let g: f64 = text.replace(',', ".").parse().ok()?;
    (g.is_finite() && g > 0.0).then(|| (g * 100.0).round() as i64)
}

/// The ops that save the form: the model when it is new, then the variant.
fn save_ops(
    filled: &Filled,
    model_choice: &str,
    shop: &[ShopFilament],
) -> Result<(Vec<OpBody>, Uuid, Uuid, String), String> {
    let name = field_value("variant-name");
    if name.is_empty() {
        return Err("Variant name: enter a name".into());
    }
    let parts: u32 = match field_value("variant-parts").parse() {
        Ok(p) if p >= 1 => p,
        _ => return Err("Units per plate: enter a whole number of 1 or more".into()),
    };
    let mut ops = Vec::new();
    let model_id = match Uuid::parse_str(model_choice) {
        Ok(id) => id,
        Err(_) => {
            let model_name = field_value("variant-model-name");
            if model_name.is_empty() {
                return Err("New model's name: enter a name".into());
            }
            let id = Uuid::now_v7();
            let mut fields = Map::new();
            fields.insert("name".into(), Value::String(model_name));
            // The file cannot tell where the design came from; its licence is as entered.
            let licence = Some(field_value("variant-model-licence"))
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| "Not recorded".into());
            let selling = field_value("variant-model-selling") == "yes";
            fields.insert("source_site".into(), json!("other"));
            fields.insert(
                "licence".into(),
                json!({"name": licence, "allows_selling": selling}),
            );
            fields.insert("tags".into(), json!([]));
            ops.push(OpBody::EntitySet(EntitySet {
                entity: EntityKind::Model,
                id,
                fields,
            }));
            id
        }
    };
    let mut settings = Map::new();
    let printer = field_value("variant-printer");
    if !printer.is_empty() {
        settings.insert("printer_profile".into(), Value::String(printer));
    }
    let layer = field_value("variant-layer");
    if !layer.is_empty() {
        settings.insert("layer_height".into(), Value::String(layer));
    }
    if let Some(slicer) = &filled.slicer {
        settings.insert("slicer".into(), Value::String(slicer.clone()));
    }
    let mut needs: Vec<(Uuid, i64)> = Vec::new();
    for f in &filled.filaments {
        let text = field_value(&format!("filament-{}-g", f.index));
        let Some(cg) = grams_cg(&text) else {
            continue;
        };
        let per_unit = (cg + i64::from(parts) / 2) / i64::from(parts);
        match matching_filament(f, shop) {
            Some(shop_f) if per_unit > 0 => {
                match needs.iter_mut().find(|(id, _)| *id == shop_f.id.0) {
                    Some(n) => n.1 += per_unit,
                    None => needs.push((shop_f.id.0, per_unit)),
                }
            }
            _ => {
                let what = [f.kind.clone(), f.color.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                let value = if what.is_empty() {
                    format!("{text} g")
                } else {
                    format!("{text} g ({what})")
                };
                settings.insert(format!("filament_{}_g", f.index), Value::String(value));
            }
        }
    }
    let mut fields = Map::new();
    fields.insert("model_id".into(), Value::String(model_id.to_string()));
    fields.insert("name".into(), Value::String(name.clone()));
    fields.insert("parts_per_plate".into(), json!(parts));
    if let Some(t) = filled
        .print_time_s
        .filter(|t| (1..=u64::from(MAX_PRINT_TIME_S)).contains(t))
    {
        fields.insert("print_time_s".into(), json!(t));
    }
    fields.insert("slicer_settings".into(), Value::Object(settings));
    fields.insert(
        "filament_needs".into(),
        Value::Array(
            needs
                .iter()
                .map(|(id, cg)| json!({"filament_id": id, "per_unit_cg": cg}))
                .collect(),
        ),
    );
    let id = Uuid::now_v7();
    ops.push(OpBody::EntitySet(EntitySet {
        entity: EntityKind::Variant,
        id,
        fields,
    }));
    Ok((ops, id, model_id, name))
}

#[function_component(VariantFromFile)]
pub fn variant_from_file() -> Html {
    let local = use_local();
    let status = use_state(|| Status::Idle);
    // "new" or the id of the synced model the variant belongs to.
    let model_choice = use_state(|| "new".to_string());
    let saved = use_state(|| None::<Result<String, String>>);
    let saved_variant = use_state(|| None::<Uuid>);
    let picked = use_state(|| None::<web_sys::File>);
    // Only the latest pick may fill the form.
    let generation = use_mut_ref(|| Rc::new(Cell::new(0u32)));

    // Free the previous picture's blob: URL when it is replaced or the page closes.
    let picture_url = match &*status {
        Status::Ready(filled) => filled.picture.as_ref().map(|p| p.url.clone()),
        _ => None,
    };
    use_effect_with(picture_url, |url| {
        let url = url.clone();
        move || {
            if let Some(url) = url {
                slice_blob::revoke_url(&url);
            }
        }
    });

    let on_pick = {
        let status = status.clone();
        let picked = picked.clone();
        let saved = saved.clone();
        let generation = generation.borrow().clone();
        Callback::from(move |event: Event| {
            let Some(input) = event.target_dyn_into::<HtmlInputElement>() else {
                return;
            };
            let Some(file) = input.files().and_then(|files| files.get(0)) else {
                status.set(Status::Idle);
                picked.set(None);
                return;
            };
            picked.set(Some(file.clone()));
            saved.set(None);
            let ticket = generation.get().wrapping_add(1);
            generation.set(ticket);
            let file_name = file.name();
            status.set(Status::Reading(file_name.clone()));
            let status = status.clone();
            let generation = generation.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let result = slice_blob::inspect_file(&file).await;
                if generation.get() != ticket {
                    return;
                }
                status.set(match result {
                    Ok(parsed) => Status::Ready(Rc::new(fill(&file_name, parsed))),
                    Err(message) => Status::Failed(message),
                });
            });
        })
    };

    // Only a file that was read on this device may be uploaded (the server reads it again).
    let ready_file = match &*status {
        Status::Ready(_) => (*picked).clone(),
        _ => None,
    };
    let body = match &*status {
        Status::Idle => html! {
            <p class="hint">{ "Print time, grams per filament, printer and plates are read from the file on this device, even offline. Nothing is uploaded yet." }</p>
        },
        Status::Reading(name) => html! {
            <p class="hint" role="status">{ format!("Reading {name}…") }</p>
        },
        Status::Failed(message) => html! {
            <p class="form-error" role="alert">{ message.clone() }</p>
        },
        Status::Ready(filled) => {
            let models = model_rows(&local.model.state);
            let on_model = {
                let model_choice = model_choice.clone();
                Callback::from(move |e: Event| {
                    if let Some(select) = e.target_dyn_into::<HtmlSelectElement>() {
                        model_choice.set(select.value());
                    }
                })
            };
            let on_save = {
                let filled = filled.clone();
                let local = local.clone();
                let model_choice = model_choice.clone();
                let saved = saved.clone();
                let saved_variant = saved_variant.clone();
                Callback::from(move |e: SubmitEvent| {
                    e.prevent_default();
                    let shop = Catalog::from_state(&local.model.state).filaments;
                    let (ops, id, model_id, name) = match save_ops(&filled, &model_choice, &shop) {
                        Ok(v) => v,
                        Err(m) => {
                            saved.set(Some(Err(m)));
                            return;
                        }
                    };
                    let (saved, saved_variant) = (saved.clone(), saved_variant.clone());
                    let model_choice = model_choice.clone();
                    local.record(
                        ops,
                        Callback::from(move |r: Result<(), String>| match r {
                            Ok(()) => {
                                // A next variant of the same file goes to the same model.
                                model_choice.set(model_id.to_string());
                                saved_variant.set(Some(id));
                                saved.set(Some(Ok(format!(
                                    "Variant {name} saved on this device; it syncs when there is a connection."
                                ))));
                            }
                            Err(e) => saved.set(Some(Err(format!("Not saved: {e}")))),
                        }),
                    );
                })
            };
            let save = SaveProps {
                models: models.into_iter().map(|m| (m.id, m.name)).collect(),
                choice: (*model_choice).clone(),
                on_model,
                on_save,
                saved: (*saved).clone(),
                can_save: local.store.is_some() && local.has_session(),
            };
            filled_form(filled, &save)
        }
    };

    html! {
        <section class="card variant-from-file" aria-labelledby="variant-from-file-title">
            <h2 id="variant-from-file-title">{ "Add a variant from a sliced file" }</h2>
            <div class="field file-field">
                <label for="slice-file">{ "Sliced file (.gcode, .bgcode, .3mf)" }</label>
                <input id="slice-file" name="slice-file" type="file"
                    accept=".gcode,.bgcode,.3mf" onchange={on_pick} />
            </div>
            { body }
            <FileUploads sliced={ready_file} select={*saved_variant} />
        </section>
    }
}

/// The model picker and the save button's wiring.
struct SaveProps {
    /// The synced models: (id, name).
    models: Vec<(Uuid, String)>,
    choice: String,
    on_model: Callback<Event>,
    on_save: Callback<SubmitEvent>,
    saved: Option<Result<String, String>>,
    can_save: bool,
}

fn filled_form(filled: &Filled, save: &SaveProps) -> Html {
    let onsubmit = save.on_save.clone();
    let new_model = Uuid::parse_str(&save.choice).is_err();
    let picture = match (&filled.picture, &filled.picture_note) {
        (Some(p), _) => html! {
            <figure class="slice-thumb">
                <img src={p.url.clone()} width={p.width.to_string()} height={p.height.to_string()}
                    alt={format!("Thumbnail of {}", filled.file_name)} data-testid="slice-thumbnail" />
                <figcaption>{ if p.drawn {
                    format!("{}×{} drawn from the model on this device", p.width, p.height)
                } else {
                    format!("{}×{} from the file", p.width, p.height)
                } }</figcaption>
            </figure>
        },
        (None, Some(note)) => {
            html! { <p class="hint" data-testid="thumbnail-note">{ note.clone() }</p> }
        }
        (None, None) => html! {},
    };
    html! {
        <form class="variant-form" aria-label="New variant" data-file={filled.file_name.clone()} {onsubmit}>
            { picture }
            <div class="field">
                <label for="variant-model">{ "Model" }</label>
                <select id="variant-model" name="model" onchange={save.on_model.clone()}>
                    <option value="new" selected={new_model}>{ "New model…" }</option>
                    { for save.models.iter().map(|(id, name)| html! {
                        <option value={id.to_string()} selected={save.choice == id.to_string()}>{ name.clone() }</option>
                    }) }
                </select>
            </div>
            if new_model {
                <div class="field">
                    <label for="variant-model-name">{ "New model's name" }</label>
                    <input id="variant-model-name" name="model_name" type="text" required=true value={filled.name.clone()} />
                </div>
                <div class="field-row">
                    <div class="field">
                        <label for="variant-model-licence">{ "Licence" }</label>
                        <input id="variant-model-licence" name="model_licence" type="text" placeholder="CC-BY-4.0" />
                    </div>
                    <div class="field">
                        <label for="variant-model-selling">{ "Selling prints" }</label>
                        <select id="variant-model-selling" name="model_selling">
                            <option value="no" selected=true>{ "Not allowed, or not known" }</option>
                            <option value="yes">{ "Allowed" }</option>
                        </select>
                    </div>
                </div>
            }
            <div class="field">
                <label for="variant-name">{ "Variant name" }</label>
                <input id="variant-name" name="name" type="text" required=true value={filled.name.clone()} />
            </div>
            <div class="field">
                <label for="variant-printer">{ "Printer" }</label>
                <input id="variant-printer" name="printer" type="text" value={filled.printer.clone().unwrap_or_default()} />
            </div>
            <div class="field-row">
                <div class="field">
                    <label for="variant-time">{ "Print time" }</label>
                    <input id="variant-time" name="print_time" type="text" readonly=true
                        value={filled.print_time.clone().unwrap_or_default()}
                        data-seconds={filled.print_time_s.map(|s| s.to_string()).unwrap_or_default()} />
                </div>
                <div class="field">
                    <label for="variant-layer">{ "Layer height (mm)" }</label>
                    <input id="variant-layer" name="layer_height_mm" type="number" step="0.01" min="0"
                        inputmode="decimal" value={number(filled.layer_height)} />
                </div>
                <div class="field">
                    <label for="variant-parts">{ "Units per plate" }</label>
                    <input id="variant-parts" name="parts_per_plate" type="number" step="1" min="1"
                        inputmode="numeric" value="1" />
                </div>
            </div>
            <fieldset class="filaments">
                <legend>{ "Filament per print" }</legend>
                if filled.filaments.is_empty() {
                    <p class="hint">{ "The file does not list its filaments." }</p>
                }
                { for filled.filaments.iter().map(filament_field) }
                if let Some(total) = filled.total_g {
                    <p class="total" data-testid="filament-total">{ format!("Total {total} g") }</p>
                }
            </fieldset>
            if !filled.plates.is_empty() {
                <table class="plates">
                    <caption>{ "Plates" }</caption>
                    <thead><tr><th scope="col">{ "Plate" }</th><th scope="col">{ "Time" }</th><th scope="col">{ "Filament" }</th></tr></thead>
                    <tbody>
                        { for filled.plates.iter().map(|p| html! {
                            <tr>
                                <th scope="row">{ p.index }</th>
                                <td>{ p.time.clone().unwrap_or_else(|| "–".into()) }</td>
                                <td>{ p.grams.map(|g| format!("{g} g")).unwrap_or_else(|| "–".into()) }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            }
            <p class="hint" data-testid="slice-source">
                { filled.slicer.clone().map(|s| format!("Sliced with {s}. ")).unwrap_or_default() }
                { filled.stats.clone() }
            </p>
            if !filled.warnings.is_empty() {
                <ul class="warnings" aria-label="Warnings about the file">
                    { for filled.warnings.iter().map(|w| html! { <li>{ w.clone() }</li> }) }
                </ul>
            }
            <p class="hint">{ "Grams are per print; saved per unit (divided by the units per plate). A filament matches one of your filaments by material and colour; other grams are kept with the slicer settings." }</p>
            <button type="submit" class="primary" disabled={!save.can_save}>{ "Save variant" }</button>
            if !save.can_save {
                <p class="hint">{ "Sign in to save variants." }</p>
            }
            { match &save.saved {
                Some(Ok(m)) => html! { <p class="hint" role="status" data-testid="variant-saved">{ m.clone() }</p> },
                Some(Err(m)) => html! { <p class="form-error" role="alert">{ m.clone() }</p> },
                None => html! {},
            } }
        </form>
    }
}

fn filament_field(f: &FilamentRow) -> Html {
    let id = format!("filament-{}-g", f.index);
    let swatch = f.color.as_ref().map(|c| {
        html! { <Swatch color={c.clone()} /> }
    });
    let color_text = f
        .color
        .as_ref()
        .map(|c| format!(" (colour {c})"))
        .unwrap_or_default();
    html! {
        <div class="field filament" data-color={f.color.clone().unwrap_or_default()}>
            <label for={id.clone()}>
                { for swatch }
                <span>{ format!("{}{color_text}, grams", f.label) }</span>
            </label>
            <input id={id} name={format!("filament_{}_g", f.index)} type="number" step="0.01" min="0"
                inputmode="decimal" value={number(f.grams)} />
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct FileUploadsProps {
    /// The sliced file read above, ready to upload to a variant.
    pub sliced: Option<web_sys::File>,
    /// A variant just saved above: the one to upload to.
    #[prop_or_default]
    pub select: Option<Uuid>,
}

/// A design file picked for the model, with what was read from it on this device.
#[derive(Clone, PartialEq)]
struct DesignPick {
    file: web_sys::File,
    summary: Result<String, String>,
    picture: Option<Picture>,
}

fn describe_design(parsed: &Parsed) -> String {
    match &parsed.info.model {
        Some(m) => {
            let [x, y, z] = m.bounding_box_mm;
            format!(
                "{} object{}, {} triangles, {x} × {y} × {z} mm, {} cm³",
                m.objects,
                if m.objects == 1 { "" } else { "s" },
                m.triangles,
                m.volume_cm3
            )
        }
        None => "The file has no mesh.".into(),
    }
}

/// Uploads of the picked files to a variant (sliced) or its model (design), kept in
/// IndexedDB until they are sent; see [`crate::uploads`].
#[function_component(FileUploads)]
pub fn file_uploads(props: &FileUploadsProps) -> Html {
    let local = use_local();
    let online = use_online();
    let uploader = use_state(|| None::<Rc<Uploader>>);
    // Counters bumped from callbacks made once (a state handle's value would be stale there).
    let tick = use_state(|| 0u32);
    let done = use_state(|| 0u32);
    let ticks = use_mut_ref(|| 0u32);
    let dones = use_mut_ref(|| 0u32);
    let bump = {
        let tick = tick.clone();
        let ticks = ticks.clone();
        Callback::from(move |()| {
            let mut n = ticks.borrow_mut();
            *n = n.wrapping_add(1);
            tick.set(*n);
        })
    };
    let pending = use_state(Vec::<Pending>::new);
    let targets = use_state(|| Err::<Targets, String>("Loading your variants…".into()));
    let selected = use_state(|| None::<Uuid>);
    let files = use_state(|| None::<Result<Vec<(String, i64, bool)>, String>>);
    let design = use_state(|| None::<DesignPick>);
    let message = use_state(|| None::<String>);
    let signed_in = local.has_session() && !local.needs_sign_in();

    // Open the uploads database and start sending what waits from earlier visits.
    {
        let uploader = uploader.clone();
        let bump = bump.clone();
        let done = done.clone();
        let dones = dones.clone();
        use_effect_with(local.store.clone(), move |store| {
            if let Some(store) = store.clone() {
                spawn_local(async move {
                    let db = match UploadDb::open().await {
                        Ok(db) => db,
                        Err(e) => {
                            gloo::console::error!(format!("uploads: {e}"));
                            return;
                        }
                    };
                    let finished = Callback::from(move |_| {
                        let mut n = dones.borrow_mut();
                        *n = n.wrapping_add(1);
                        done.set(*n);
                    });
                    let up = Uploader::new(db, store, bump, finished);
                    up.kick();
                    uploader.set(Some(up));
                });
            }
        });
    }
    // The waiting files, read again after every change.
    {
        let pending = pending.clone();
        use_effect_with((*tick, uploader.is_some()), {
            let uploader = (*uploader).clone();
            move |_| {
                if let Some(up) = uploader {
                    spawn_local(async move {
                        if let Ok(list) = up.db().list().await {
                            pending.set(list);
                        }
                    });
                }
            }
        });
    }
    // A variant saved above becomes the target.
    {
        let selected = selected.clone();
        use_effect_with(props.select, move |select| {
            if let Some(id) = *select {
                selected.set(Some(id));
            }
        });
    }
    // The variants to upload to (needs the network).
    {
        let targets = targets.clone();
        let selected = selected.clone();
        use_effect_with(
            (local.store.clone(), online, signed_in),
            move |(store, online, signed_in)| {
                if let (Some(store), true, true) = (store.clone(), *online, *signed_in) {
                    spawn_local(async move {
                        let loaded = uploads::load_targets(&store).await;
                        if let Ok(t) = &loaded
                            && selected.is_none()
                        {
                            selected.set(t.variants.first().map(|v| v.0));
                        }
                        targets.set(loaded);
                    });
                }
            },
        );
    }
    // The synced variants (offline too), then any the server lists that were made through
    // its REST API only (those are not in the sync state).
    let variants = merged_targets(
        crate::pages::models::upload_targets(&local.model.state),
        (*targets).as_ref().ok(),
    );
    let chosen = (*selected)
        .filter(|id| variants.iter().any(|v| v.0 == *id))
        .or_else(|| variants.first().map(|v| v.0));
    let current = chosen.and_then(|id| variants.iter().find(|v| v.0 == id).cloned());
    // The selected variant's files, again after each completed upload.
    {
        let files = files.clone();
        use_effect_with(
            (local.store.clone(), chosen, *done, online),
            move |(store, selected, _, online)| {
                if let (Some(store), Some(id), true) = (store.clone(), *selected, *online) {
                    spawn_local(async move {
                        files.set(Some(uploads::load_files(&store, Target::Variant(id)).await));
                    });
                }
            },
        );
    }

    let on_select = {
        let selected = selected.clone();
        Callback::from(move |e: Event| {
            if let Some(select) = e.target_dyn_into::<HtmlSelectElement>() {
                selected.set(Uuid::parse_str(&select.value()).ok());
            }
        })
    };

    let enqueue = {
        let uploader = (*uploader).clone();
        let message = message.clone();
        let bump = bump.clone();
        move |file: web_sys::File, target: Target, label: String| {
            let Some(up) = uploader.clone() else {
                message.set(Some("The upload queue is not open yet.".into()));
                return;
            };
            let message = message.clone();
            let bump = bump.clone();
            spawn_local(async move {
                match uploads::enqueue(up.db(), &file, target, label).await {
                    Ok(p) => {
                        bump.emit(());
                        message.set(Some(format!(
                            "{} is kept on this device and uploads when there is a connection.",
                            p.file_name
                        )));
                        up.kick();
                    }
                    Err(e) => message.set(Some(format!("Cannot keep the file for upload: {e}"))),
                }
            });
        }
    };
    let on_upload_sliced = {
        let enqueue = enqueue.clone();
        let file = props.sliced.clone();
        let current = current.clone();
        Callback::from(move |_: MouseEvent| {
            if let (Some(file), Some((id, _, label))) = (file.clone(), current.clone()) {
                enqueue(file, Target::Variant(id), label);
            }
        })
    };
    let on_upload_design = {
        let enqueue = enqueue.clone();
        let design = design.clone();
        let current = current.clone();
        Callback::from(move |_: MouseEvent| {
            if let (Some(pick), Some((_, model_id, label))) = ((*design).clone(), current.clone()) {
                enqueue(pick.file, Target::Model(model_id), label);
            }
        })
    };
    let on_pick_design = {
        let design = design.clone();
        Callback::from(move |event: Event| {
            let Some(file) = event
                .target_dyn_into::<HtmlInputElement>()
                .and_then(|i| i.files())
                .and_then(|f| f.get(0))
            else {
                design.set(None);
                return;
            };
            let design = design.clone();
            spawn_local(async move {
                let parsed = slice_blob::inspect_file(&file).await;
                let (summary, picture) = match &parsed {
                    Ok(p) => (Ok(describe_design(p)), picture(&p.info).0),
                    Err(e) => (Err(e.clone()), None),
                };
                design.set(Some(DesignPick {
                    file,
                    summary,
                    picture,
                }));
            });
        })
    };
    let on_dismiss = {
        let uploader = (*uploader).clone();
        let bump = bump.clone();
        Callback::from(move |id: Uuid| {
            if let Some(up) = uploader.clone() {
                let bump = bump.clone();
                spawn_local(async move {
                    let _ = up.db().remove(id).await;
                    bump.emit(());
                });
            }
        })
    };

    if !signed_in {
        return html! {
            <div class="uploads">
                <h3>{ "Upload" }</h3>
                <p class="hint">{ "Sign in to upload files to your variants and models." }</p>
            </div>
        };
    }
    let progress = (*uploader).as_ref().and_then(|u| u.progress());
    let can_upload = current.is_some() && uploader.is_some();
    html! {
        <div class="uploads" aria-labelledby="uploads-title">
            <h3 id="uploads-title">{ "Upload" }</h3>
            <div class="field">
                <label for="upload-variant">{ "Variant to upload to" }</label>
                <select id="upload-variant" onchange={on_select} disabled={variants.is_empty()}>
                    { for variants.iter().map(|(id, _, label)| html! {
                        <option value={id.to_string()} selected={Some(*id) == chosen}>{ label.clone() }</option>
                    }) }
                </select>
            </div>
            if let (Err(note), true) = (&*targets, variants.is_empty()) {
                <p class="hint" data-testid="targets-note">{ note.clone() }</p>
            }
            if props.sliced.is_some() {
                <button type="button" class="primary" onclick={on_upload_sliced} disabled={!can_upload}>
                    { "Upload the sliced file to this variant" }
                </button>
            }
            <div class="field file-field">
                <label for="design-file">{ "Design file for the model (.stl, .3mf)" }</label>
                <input id="design-file" type="file" accept=".stl,.3mf" onchange={on_pick_design} />
            </div>
            if let Some(pick) = &*design {
                <div class="design-pick" data-file={pick.file.name()}>
                    if let Some(p) = &pick.picture {
                        <img src={p.url.clone()} width={p.width.to_string()} height={p.height.to_string()}
                            alt={format!("Picture of {}", pick.file.name())} data-testid="design-picture" />
                    }
                    { match &pick.summary {
                        Ok(text) => html! { <p class="hint" data-testid="design-summary">{ text.clone() }</p> },
                        Err(e) => html! { <p class="form-error" role="alert">{ e.clone() }</p> },
                    } }
                    if pick.summary.is_ok() {
                        <button type="button" onclick={on_upload_design} disabled={!can_upload}>
                            { "Upload as the model's design file" }
                        </button>
                    }
                </div>
            }
            if let Some(m) = &*message {
                <p class="hint" role="status">{ m.clone() }</p>
            }
            if !pending.is_empty() {
                <ul class="pending-uploads" aria-label="Uploads waiting">
                    { for pending.iter().map(|p| pending_row(p, progress, online, &on_dismiss)) }
                </ul>
            }
            if let Some((_, _, label)) = &current {
                <section class="variant-files" aria-label={format!("Files of {label}")}>
                    <h4>{ "Files of this variant" }</h4>
                    { match &*files {
                        None => html! { <p class="hint">{ "…" }</p> },
                        Some(Err(e)) => html! { <p class="hint">{ e.clone() }</p> },
                        Some(Ok(list)) if list.is_empty() => html! { <p class="hint" data-testid="no-variant-files">{ "No files yet." }</p> },
                        Some(Ok(list)) => html! {
                            <ul data-testid="variant-files">
                                { for list.iter().map(|(name, version, current)| html! {
                                    <li data-testid="variant-file" data-current={current.to_string()}>
                                        { format!("{name} · version {version}{}", if *current { " · current" } else { "" }) }
                                    </li>
                                }) }
                            </ul>
                        },
                    } }
                </section>
            }
        </div>
    }
}

/// The synced targets first, then the server's others (by variant id).
fn merged_targets(
    mut local: Vec<(Uuid, Uuid, String)>,
    rest: Option<&Targets>,
) -> Vec<(Uuid, Uuid, String)> {
    if let Some(t) = rest {
        for v in &t.variants {
            if !local.iter().any(|l| l.0 == v.0) {
                local.push(v.clone());
            }
        }
    }
    local
}

fn pending_row(
    p: &Pending,
    progress: uploads::Progress,
    online: bool,
    on_dismiss: &Callback<Uuid>,
) -> Html {
    let (state, text) = match &p.state {
        PendingState::Failed(m) => ("failed", format!("Refused: {m}")),
        PendingState::Uploading => ("uploading", "Uploading…".to_string()),
        PendingState::Waiting if !online => ("waiting", "Waiting for the connection".to_string()),
        PendingState::Waiting => ("waiting", "Waiting to upload".to_string()),
    };
    let (sent, total) = match progress {
        Some((id, sent, total)) if id == p.id => (sent, total),
        _ => (0, p.size),
    };
    let id = p.id;
    let dismiss = on_dismiss.reform(move |_: MouseEvent| id);
    html! {
        <li class="pending-upload" data-testid="pending-upload" data-state={state} data-file={p.file_name.clone()}>
            <span>{ format!("{} → {}", p.file_name, p.label) }</span>
            <progress max={total.max(1).to_string()} value={sent.to_string()}
                aria-label={format!("Upload of {}", p.file_name)}></progress>
            <span class="hint">{ format!("{text} · {}", progress_text(sent, total)) }</span>
            if state == "failed" {
                <button type="button" onclick={dismiss}>{ "Dismiss" }</button>
            }
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::name_from_file;

    #[test]
    fn names_lose_their_extensions() {
        assert_eq!(name_from_file("benchy.gcode.3mf"), "benchy");
        assert_eq!(name_from_file("Cube_PLA.BGCODE"), "Cube_PLA");
        assert_eq!(name_from_file(".gcode"), ".gcode");
    }
}

#[derive(Properties, PartialEq)]
struct SwatchProps {
    color: String,
}

/// A filament's colour dot. The colour is set through the CSS object model, not a `style`
/// attribute: the server's Content-Security-Policy (`style-src 'self'`) blocks inline styles.
#[function_component(Swatch)]
fn swatch(props: &SwatchProps) -> Html {
    let node = use_node_ref();
    {
        let node = node.clone();
        use_effect_with(props.color.clone(), move |color| {
            use wasm_bindgen::JsCast;
            let style = node
                .get()
                .and_then(|el| js_sys::Reflect::get(el.as_ref(), &"style".into()).ok());
            if let Some(style) = style
                && let Ok(set) = js_sys::Reflect::get(&style, &"setProperty".into())
                && let Ok(set) = set.dyn_into::<js_sys::Function>()
            {
                let _ = set.call2(&style, &"background-color".into(), &color.as_str().into());
            }
        });
    }
    html! { <span ref={node} class="swatch" title={props.color.clone()} aria-hidden="true"></span> }
}

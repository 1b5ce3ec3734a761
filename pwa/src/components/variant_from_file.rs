//! "Add a variant from a sliced file": picking a .gcode, .bgcode or .3mf fills the variant
//! form from the file's own metadata, parsed in wasm by `printstall-core`, offline, before any
//! upload. Shows the best embedded thumbnail.

use std::cell::Cell;
use std::rc::Rc;

use printstall_core::slicefile::thumbnail::decode_qoi_rgba;
use printstall_core::slicefile::{SliceInfo, ThumbnailFormat, format_duration};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::slice_blob::{self, Parsed};

/// The picture shown beside the form.
#[derive(Clone, PartialEq)]
struct Picture {
    url: String,
    width: u32,
    height: u32,
}

#[derive(Clone, PartialEq)]
struct FilamentRow {
    index: u32,
    label: String,
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
        return (None, Some("The file has no thumbnail.".into()));
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
    });
    (picture, None)
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

#[function_component(VariantFromFile)]
pub fn variant_from_file() -> Html {
    let status = use_state(|| Status::Idle);
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
        let generation = generation.borrow().clone();
        Callback::from(move |event: Event| {
            let Some(input) = event.target_dyn_into::<HtmlInputElement>() else {
                return;
            };
            let Some(file) = input.files().and_then(|files| files.get(0)) else {
                status.set(Status::Idle);
                return;
            };
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
        Status::Ready(filled) => filled_form(filled),
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
        </section>
    }
}

fn filled_form(filled: &Filled) -> Html {
    let onsubmit = Callback::from(|e: SubmitEvent| e.prevent_default());
    let picture = match (&filled.picture, &filled.picture_note) {
        (Some(p), _) => html! {
            <figure class="slice-thumb">
                <img src={p.url.clone()} width={p.width.to_string()} height={p.height.to_string()}
                    alt={format!("Thumbnail of {}", filled.file_name)} data-testid="slice-thumbnail" />
                <figcaption>{ format!("{}×{} from the file", p.width, p.height) }</figcaption>
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

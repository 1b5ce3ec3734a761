//! Import: the catalogue from CSV files (products, stock levels, filaments, spools, sales:
//! `POST /api/v1/csv/{kind}`) or from Spoolman (its export files, or a running Spoolman's
//! address: `POST /api/v1/imports/spoolman`). Every import is previewed first (what would
//! be created, updated or left as is, and each rejected row with its reason) and applied
//! only on a second tap; the server applies it whole or not at all. Imports need the server,
//! so they are online only; once applied, the app syncs so this device gets the new rows.

use printstall_core::domain::csv_rows::CsvKind;
use serde_json::{Value, json};
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::api::api;
use crate::components::sign_in::SignIn;
use crate::hooks::use_online::use_online;
use crate::local::use_local;
use crate::sync::http::error_message;

const KINDS: [(&str, &str); 5] = [
    ("products", "Products"),
    ("stock", "Stock levels"),
    ("filaments", "Filaments"),
    ("spools", "Spools"),
    ("sales", "Sales"),
];

/// Standard base64 (with padding) of `bytes`: the file as saved goes to the server, which
/// checks its encoding itself.
pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A picked file: its name and its bytes.
#[derive(Clone, PartialEq)]
struct Picked {
    name: String,
    bytes: Vec<u8>,
}

/// The first file of an `<input type=file>` change, read whole.
fn read_picked(e: &Event, done: Callback<Option<Picked>>) {
    let file = e
        .target_dyn_into::<HtmlInputElement>()
        .and_then(|i| i.files())
        .and_then(|f| f.get(0));
    let Some(file) = file else {
        done.emit(None);
        return;
    };
    spawn_local(async move {
        let bytes = match JsFuture::from(file.array_buffer()).await {
            Ok(buf) => js_sys::Uint8Array::new(&buf).to_vec(),
            Err(_) => {
                done.emit(None);
                return;
            }
        };
        done.emit(Some(Picked {
            name: file.name(),
            bytes,
        }));
    });
}

/// What the server said of a preview or an import.
#[derive(Clone, PartialEq)]
struct Outcome {
    /// A preview (nothing changed) or the import itself.
    dry_run: bool,
    /// 200: can be (or was) applied; otherwise rejected, with `message`.
    ok: bool,
    message: Option<String>,
    /// The report (`null` when the request itself was refused).
    report: Value,
}

impl Outcome {
    fn from_answer(dry_run: bool, r: Result<(u16, Value), String>) -> Outcome {
        match r {
            Ok((200, report)) => Outcome {
                dry_run,
                ok: true,
                message: None,
                report,
            },
            Ok((_, body)) => Outcome {
                dry_run,
                ok: false,
                message: Some(error_message(&body)),
                report: body.get("report").cloned().unwrap_or(Value::Null),
            },
            Err(e) => Outcome {
                dry_run,
                ok: false,
                message: Some(e),
                report: Value::Null,
            },
        }
    }
}

fn n(v: &Value, k: &str) -> u64 {
    v.get(k).and_then(Value::as_u64).unwrap_or(0)
}

fn plural(n: u64, one: &str) -> String {
    format!("{n} {one}{}", if n == 1 { "" } else { "s" })
}

/// The summary of a CSV import's report and its rejected rows.
fn csv_summary(o: &Outcome) -> Html {
    let r = &o.report;
    let rejected: Vec<Value> = r
        .get("rejected")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let verb = if o.dry_run {
        ("to create", "to update")
    } else {
        ("created", "updated")
    };
    html! {
        <>
            if !r.is_null() {
                <p class="import-counts">
                    <strong data-testid="csv-created">{ n(r, "created") }</strong>{ format!(" {} · ", verb.0) }
                    <strong data-testid="csv-updated">{ n(r, "updated") }</strong>{ format!(" {} · ", verb.1) }
                    <strong data-testid="csv-unchanged">{ n(r, "unchanged") }</strong>{ " unchanged · " }
                    <strong data-testid="csv-rejected-count">{ rejected.len() }</strong>{ " rejected" }
                    { format!(" (of {})", plural(n(r, "rows"), "row")) }
                </p>
            }
            if !rejected.is_empty() {
                <ul class="rejected-list" data-testid="csv-rejected">
                    { for rejected.iter().map(|x| {
                        let line = n(x, "line");
                        let column = x.get("column").and_then(Value::as_str).map(|c| format!(", {c}")).unwrap_or_default();
                        html! { <li>{ format!("Line {line}{column}: {}", x.get("message").and_then(Value::as_str).unwrap_or_default()) }</li> }
                    }) }
                </ul>
            }
        </>
    }
}

/// The summary of a Spoolman import's report and its refused records.
fn spoolman_summary(o: &Outcome) -> Html {
    let r = &o.report;
    let errors: Vec<Value> = r
        .get("errors")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let (new, changed) = if o.dry_run {
        ("to create", "to update")
    } else {
        ("created", "updated")
    };
    html! {
        <>
            if !r.is_null() {
                <p class="import-counts">
                    { "Filaments: " }<strong data-testid="sm-filaments-created">{ n(r, "filaments_created") }</strong>{ format!(" {new}, ") }
                    <strong>{ n(r, "filaments_updated") }</strong>{ format!(" {changed} · Spools: ") }
                    <strong data-testid="sm-spools-created">{ n(r, "spools_created") }</strong>{ format!(" {new}, ") }
                    <strong>{ n(r, "spools_updated") }</strong>{ format!(" {changed} · ") }
                    <strong>{ errors.len() }</strong>{ " rejected" }
                </p>
            }
            if !errors.is_empty() {
                <ul class="rejected-list" data-testid="sm-rejected">
                    { for errors.iter().map(|x| {
                        let res = x.get("resource").and_then(Value::as_str).unwrap_or("record");
                        let id = x.get("id").and_then(Value::as_i64).map(|i| format!(" (Spoolman id {i})")).unwrap_or_default();
                        html! { <li>{ format!("{res} #{}{id}: {}", n(x, "row") + 1, x.get("message").and_then(Value::as_str).unwrap_or_default()) }</li> }
                    }) }
                </ul>
            }
        </>
    }
}

fn outcome_view(o: &Outcome, testid: &'static str, summary: fn(&Outcome) -> Html) -> Html {
    let state = match (o.ok, o.dry_run) {
        (true, true) => "preview",
        (true, false) => "applied",
        (false, _) => "rejected",
    };
    let head = match (o.ok, o.dry_run) {
        (true, true) => "Preview: nothing has changed yet.".to_owned(),
        (true, false) => "Imported. This device is syncing the new rows.".to_owned(),
        (false, _) => format!(
            "Not imported: {}",
            o.message
                .clone()
                .unwrap_or_else(|| "the server refused it".into())
        ),
    };
    html! {
        <div class={classes!("import-outcome", (!o.ok).then_some("refused"))} data-testid={testid} data-state={state}
            role={if o.ok { "status" } else { "alert" }}>
            <p class={if o.ok { "notice" } else { "form-error" }}>{ head }</p>
            { summary(o) }
        </div>
    }
}

#[function_component(Import)]
pub fn import() -> Html {
    let local = use_local();
    let online = use_online();
    let kind = use_state(|| "products".to_owned());
    let csv_file = use_state(|| None::<Picked>);
    let csv_outcome = use_state(|| None::<Outcome>);
    let sm_files = use_state(|| [None::<Picked>, None, None]);
    let sm_url = use_node_ref();
    let sm_outcome = use_state(|| None::<Outcome>);
    let busy = use_state(|| false);
    let model = local.model.clone();

    if !model.ready {
        return html! { <section class="import"><h1>{ "Import" }</h1><p>{ "Opening…" }</p></section> };
    }
    if !local.has_session() {
        return html! { <section class="import"><h1>{ "Import" }</h1><SignIn /></section> };
    }
    let owner = model
        .snap
        .session
        .as_ref()
        .is_some_and(|s| s.role == "owner");
    let can = online && owner && !*busy;

    let on_kind = {
        let (kind, csv_outcome) = (kind.clone(), csv_outcome.clone());
        Callback::from(move |e: Event| {
            if let Some(s) = e.target_dyn_into::<HtmlSelectElement>() {
                kind.set(s.value());
                csv_outcome.set(None);
            }
        })
    };
    let on_csv_file = {
        let (csv_file, csv_outcome) = (csv_file.clone(), csv_outcome.clone());
        Callback::from(move |e: Event| {
            let (csv_file, csv_outcome) = (csv_file.clone(), csv_outcome.clone());
            read_picked(
                &e,
                Callback::from(move |p| {
                    csv_file.set(p);
                    csv_outcome.set(None);
                }),
            );
        })
    };
    let send_csv = |dry_run: bool| {
        let (local, kind, csv_file, csv_outcome, busy) = (
            local.clone(),
            kind.clone(),
            csv_file.clone(),
            csv_outcome.clone(),
            busy.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let Some(file) = (*csv_file).clone() else {
                csv_outcome.set(Some(Outcome::from_answer(
                    dry_run,
                    Err("choose a CSV file first".into()),
                )));
                return;
            };
            let (local, csv_outcome, busy) = (local.clone(), csv_outcome.clone(), busy.clone());
            let path = format!("/api/v1/csv/{}", *kind);
            let body = json!({"csv_base64": base64(&file.bytes), "dry_run": dry_run});
            busy.set(true);
            spawn_local(async move {
                let r = api(&local, "POST", &path, Some(&body)).await;
                let o = Outcome::from_answer(dry_run, r);
                if o.ok && !dry_run {
                    local.sync_now();
                }
                busy.set(false);
                csv_outcome.set(Some(o));
            });
        })
    };

    let on_sm_file = |i: usize| {
        let (sm_files, sm_outcome) = (sm_files.clone(), sm_outcome.clone());
        Callback::from(move |e: Event| {
            let (sm_files, sm_outcome) = (sm_files.clone(), sm_outcome.clone());
            read_picked(
                &e,
                Callback::from(move |p| {
                    let mut files = (*sm_files).clone();
                    files[i] = p;
                    sm_files.set(files);
                    sm_outcome.set(None);
                }),
            );
        })
    };
    let send_spoolman = |dry_run: bool| {
        let (local, sm_files, sm_url, sm_outcome, busy) = (
            local.clone(),
            sm_files.clone(),
            sm_url.clone(),
            sm_outcome.clone(),
            busy.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let url = sm_url
                .cast::<HtmlInputElement>()
                .map(|i| i.value().trim().to_owned())
                .unwrap_or_default();
            let text = |p: &Option<Picked>| {
                p.as_ref()
                    .map(|p| Value::String(String::from_utf8_lossy(&p.bytes).into_owned()))
                    .unwrap_or(Value::Null)
            };
            let body = if url.is_empty() {
                if sm_files.iter().all(Option::is_none) {
                    sm_outcome.set(Some(Outcome::from_answer(
                        dry_run,
                        Err("enter Spoolman's address or choose its export files".into()),
                    )));
                    return;
                }
                json!({"vendors": text(&sm_files[0]), "filaments": text(&sm_files[1]), "spools": text(&sm_files[2]), "dry_run": dry_run})
            } else {
                json!({"url": url, "dry_run": dry_run})
            };
            let (local, sm_outcome, busy) = (local.clone(), sm_outcome.clone(), busy.clone());
            busy.set(true);
            spawn_local(async move {
                let r = api(&local, "POST", "/api/v1/imports/spoolman", Some(&body)).await;
                let o = Outcome::from_answer(dry_run, r);
                if o.ok && !dry_run {
                    local.sync_now();
                }
                busy.set(false);
                sm_outcome.set(Some(o));
            });
        })
    };

    let columns = CsvKind::from_name(&kind)
        .map(|k| {
            let required = k.required();
            k.columns()
                .iter()
                .map(|c| {
                    if required.contains(c) {
                        format!("{c}*")
                    } else {
                        (*c).to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let csv_previewed = csv_outcome.as_ref().is_some_and(|o| o.ok && o.dry_run);
    let sm_previewed = sm_outcome.as_ref().is_some_and(|o| o.ok && o.dry_run);
    let sm_labels = ["Vendors export", "Filaments export", "Spools export"];

    html! {
        <section class="import work">
            <div class="page-head">
                <h1>{ "Import" }</h1>
                <p class="summary">{ "Bring a catalogue in from a spreadsheet or from Spoolman. You see what would change before anything does." }</p>
            </div>
            if !online {
                <p class="form-error" role="alert" data-testid="import-offline">
                    { "You are offline. Importing needs the server: connect, then try again. Everything else keeps working offline." }
                </p>
            }
            if !owner {
                <p class="hint" data-testid="import-owner-only">{ "Only the shop's owner can import a catalogue." }</p>
            }
            <div class="work-grid">
                <section class="card" aria-labelledby="csv-title">
                    <h2 id="csv-title">{ "CSV file" }</h2>
                    <div class="field">
                        <label for="csv-kind">{ "What the file holds" }</label>
                        <select id="csv-kind" data-testid="csv-kind" onchange={on_kind}>
                            { for KINDS.iter().map(|(v, l)| html! { <option value={*v} selected={*kind == *v}>{ *l }</option> }) }
                        </select>
                    </div>
                    <p class="hint" data-testid="csv-columns">{ format!("Columns (* required): {columns}. UTF-8, comma or semicolon separated.") }</p>
                    <div class="field">
                        <label for="csv-file">{ "CSV file" }</label>
                        <input id="csv-file" type="file" accept=".csv,text/csv,text/plain" data-testid="csv-file" onchange={on_csv_file} />
                    </div>
                    if let Some(f) = &*csv_file {
                        <p class="hint">{ format!("{} ({} bytes)", f.name, f.bytes.len()) }</p>
                    }
                    <div class="actions">
                        <button type="button" class="secondary" data-testid="csv-preview-button" disabled={!can || csv_file.is_none()}
                            onclick={send_csv(true)}>{ "Preview" }</button>
                        <button type="button" class="primary" data-testid="csv-apply" disabled={!can || !csv_previewed}
                            onclick={send_csv(false)}>{ "Apply" }</button>
                    </div>
                    if let Some(o) = &*csv_outcome {
                        { outcome_view(o, "csv-outcome", csv_summary) }
                    }
                </section>
                <section class="card" aria-labelledby="sm-title">
                    <h2 id="sm-title">{ "Spoolman" }</h2>
                    <p class="hint">{ "Vendors, filaments and spools from a running Spoolman, or from its export files (JSON or CSV). A second import of the same spools updates them." }</p>
                    <div class="field">
                        <label for="sm-url">{ "Spoolman's address" }</label>
                        <input id="sm-url" ref={sm_url.clone()} type="url" placeholder="http://spoolman.local:7912" data-testid="sm-url" />
                    </div>
                    <p class="hint">{ "or its exports:" }</p>
                    { for sm_labels.iter().enumerate().map(|(i, label)| {
                        let id = format!("sm-file-{i}");
                        html! {
                            <div class="field">
                                <label for={id.clone()}>{ *label }</label>
                                <input id={id} type="file" accept=".json,.csv,application/json,text/csv" onchange={on_sm_file(i)} />
                            </div>
                        }
                    }) }
                    <div class="actions">
                        <button type="button" class="secondary" data-testid="sm-preview-button" disabled={!can}
                            onclick={send_spoolman(true)}>{ "Preview" }</button>
                        <button type="button" class="primary" data-testid="sm-apply" disabled={!can || !sm_previewed}
                            onclick={send_spoolman(false)}>{ "Apply" }</button>
                    </div>
                    if let Some(o) = &*sm_outcome {
                        { outcome_view(o, "sm-outcome", spoolman_summary) }
                    }
                </section>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_matches_the_standard_alphabet_and_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"\xEF\xBB\xBFsku;name"), "77u/c2t1O25hbWU=");
        assert_eq!(base64(&[0xff, 0xfe]), "//4=");
    }
}

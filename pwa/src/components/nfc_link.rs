//! Web NFC (Chrome on Android): write an item's link (a spool or product page) to an NFC
//! tag, and read a tag back to open the link it holds, as the scanner does for QR codes.
//! Browsers without `NDEFReader` say so; nothing else changes.
//!
//! Web NFC is reached through `js_sys::Reflect` (web-sys only has it behind unstable APIs).

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use yew::prelude::*;

/// Whether this browser can read and write NFC tags.
pub fn supported() -> bool {
    web_sys::window()
        .and_then(|w| Reflect::has(&w, &JsValue::from_str("NDEFReader")).ok())
        .unwrap_or(false)
}

fn message(e: JsValue) -> String {
    Reflect::get(&e, &JsValue::from_str("message"))
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "the NFC tag could not be used".into())
}

fn method(target: &JsValue, name: &str) -> Result<Function, String> {
    Reflect::get(target, &JsValue::from_str(name))
        .map_err(message)?
        .dyn_into::<Function>()
        .map_err(|_| format!("{name} is not available in this browser"))
}

fn reader() -> Result<JsValue, String> {
    let window = web_sys::window().ok_or("no window")?;
    let ctor =
        method(&window, "NDEFReader").map_err(|_| "this browser cannot use NFC tags".to_owned())?;
    Reflect::construct(&ctor, &Array::new()).map_err(message)
}

/// Writes `url` to the next tag held to the phone, as one URL record.
pub async fn write_url(url: &str) -> Result<(), String> {
    let r = reader()?;
    let record = Object::new();
    let set = |o: &Object, k: &str, v: &JsValue| {
        Reflect::set(o, &JsValue::from_str(k), v)
            .map(|_| ())
            .map_err(message)
    };
    set(&record, "recordType", &JsValue::from_str("url"))?;
    set(&record, "data", &JsValue::from_str(url))?;
    let msg = Object::new();
    set(&msg, "records", &Array::of1(&record))?;
    let promise: Promise = method(&r, "write")?
        .call1(&r, &msg)
        .map_err(message)?
        .dyn_into()
        .map_err(|_| "write did not start".to_owned())?;
    JsFuture::from(promise).await.map_err(message)?;
    Ok(())
}

/// The first URL (or text) record of a `reading` event, decoded.
fn first_url(event: &JsValue) -> Option<String> {
    let msg = Reflect::get(event, &JsValue::from_str("message")).ok()?;
    let records: Array = Reflect::get(&msg, &JsValue::from_str("records"))
        .ok()?
        .dyn_into()
        .ok()?;
    let window = web_sys::window()?;
    let decoder_ctor = method(&window, "TextDecoder").ok()?;
    let decoder = Reflect::construct(&decoder_ctor, &Array::new()).ok()?;
    let decode = method(&decoder, "decode").ok()?;
    records.iter().find_map(|rec| {
        let kind = Reflect::get(&rec, &JsValue::from_str("recordType"))
            .ok()?
            .as_string()?;
        if !matches!(kind.as_str(), "url" | "absolute-url" | "text") {
            return None;
        }
        let data = Reflect::get(&rec, &JsValue::from_str("data")).ok()?;
        decode.call1(&decoder, &data).ok()?.as_string()
    })
}

/// Where a read link leads in this app: its path when it is on this origin.
fn local_path(url: &str) -> Option<String> {
    let origin = web_sys::window()?.location().origin().ok()?;
    let rest = url.strip_prefix(&origin)?;
    rest.starts_with('/').then(|| rest.to_owned())
}

#[derive(Properties, PartialEq)]
pub struct NfcLinkProps {
    /// The path of the item to write (`/spools/<id>`); without it only reading is offered.
    #[prop_or_default]
    pub path: Option<AttrValue>,
}

/// Buttons to write `path` to a tag and to read a tag and open its link.
#[function_component(NfcLink)]
pub fn nfc_link(props: &NfcLinkProps) -> Html {
    let status = use_state(String::new);
    // The reading callback lives as long as the component.
    let holder = use_mut_ref(|| None::<Closure<dyn FnMut(JsValue)>>);
    if !supported() {
        return html! {
            <p class="nfc-unsupported">{ "This browser cannot use NFC tags (Web NFC works in Chrome on Android)." }</p>
        };
    }
    let write = props.path.clone().map(|path| {
        let status = status.clone();
        Callback::from(move |_: MouseEvent| {
            let status = status.clone();
            let Some(origin) = web_sys::window().and_then(|w| w.location().origin().ok()) else {
                return;
            };
            let url = format!("{origin}{path}");
            status.set("Hold a tag to the back of the phone…".into());
            spawn_local(async move {
                match write_url(&url).await {
                    Ok(()) => status.set(format!("Written: {url}")),
                    Err(e) => status.set(format!("Not written: {e}")),
                }
            });
        })
    });
    let read = {
        let status = status.clone();
        let holder = holder.clone();
        Callback::from(move |_: MouseEvent| {
            let status = status.clone();
            let holder = holder.clone();
            status.set("Hold a tag to the back of the phone…".into());
            spawn_local(async move {
                let r = match reader() {
                    Ok(r) => r,
                    Err(e) => return status.set(e),
                };
                let found = status.clone();
                let on_reading = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
                    match first_url(&event) {
                        Some(url) => match local_path(&url) {
                            Some(path) => {
                                found.set(format!("Opening {path}"));
                                if let Some(w) = web_sys::window() {
                                    let _ = w.location().set_href(&path);
                                }
                            }
                            None => found.set(format!("The tag holds {url}")),
                        },
                        None => found.set("The tag holds no link".into()),
                    }
                });
                let started = match method(&r, "scan").and_then(|scan| {
                    scan.call0(&r)
                        .map_err(message)?
                        .dyn_into::<Promise>()
                        .map_err(|_| "scan did not start".to_owned())
                }) {
                    Ok(p) => JsFuture::from(p).await.map_err(message),
                    Err(e) => Err(e),
                };
                if let Err(e) = started {
                    return status.set(format!("Cannot read tags: {e}"));
                }
                if Reflect::set(&r, &JsValue::from_str("onreading"), on_reading.as_ref()).is_err() {
                    return status.set("Cannot read tags".into());
                }
                *holder.borrow_mut() = Some(on_reading);
            });
        })
    };
    html! {
        <div class="nfc-link">
            if let Some(write) = write {
                <button type="button" onclick={write}>{ "Write link to NFC tag" }</button>
            }
            <button type="button" onclick={read}>{ "Read NFC tag" }</button>
            <p class="nfc-status" role="status">{ (*status).clone() }</p>
        </div>
    }
}

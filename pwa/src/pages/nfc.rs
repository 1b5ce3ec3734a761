//! NFC tags: read a tag to open the spool or product it names; with `?link=/path`, write
//! that link to a tag (the item pages link here).

use yew::prelude::*;

use crate::components::nfc_link::NfcLink;

/// The `link` query parameter, when it is a path of this app.
fn link_to_write() -> Option<AttrValue> {
    let search = web_sys::window()?.location().search().ok()?;
    let raw = search
        .trim_start_matches('?')
        .split('&')
        .find_map(|kv| kv.strip_prefix("link="))?;
    let path = js_sys::decode_uri_component(raw).ok()?.as_string()?;
    (path.starts_with('/') && !path.starts_with("//")).then(|| AttrValue::from(path))
}

#[function_component(Nfc)]
pub fn nfc() -> Html {
    let path = link_to_write();
    html! {
        <section class="nfc" aria-labelledby="page-title">
            <h1 id="page-title">{ "NFC tags" }</h1>
            if let Some(p) = &path {
                <p>{ format!("Link to write: {p}") }</p>
            }
            <NfcLink path={path.clone()} />
        </section>
    }
}

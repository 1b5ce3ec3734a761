//! Labels: QR labels for products and spools, and price tags, at exact sizes for label
//! printers (50x25 mm, 40x30 mm, 62 mm tape) and on A4/Letter sheets; previewed as SVG and
//! downloaded as SVG or PDF. Made on the device by core ([`printstall_core::labels`]), so
//! it works offline.

use std::collections::BTreeSet;

use printstall_core::domain::{ProductId, SpoolId};
use printstall_core::labels::{self, LabelItem, Media, Style};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use wasm_bindgen::JsCast;
use web_sys::HtmlSelectElement;
use yew::prelude::*;
use yew_router::prelude::*;

use super::scan::items;
use crate::components::sign_in::SignIn;
use crate::local::{Model, use_local};

/// Something to print a label for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Pick {
    Product(ProductId),
    Spool(SpoolId),
}

impl Pick {
    fn key(self) -> String {
        match self {
            Pick::Product(p) => format!("p-{}", p.0),
            Pick::Spool(s) => format!("s-{}", s.0),
        }
    }
}

/// `/labels?product=<id>` or `/labels?spool=<id>`: that one is chosen when the screen opens
/// (the Scan screen links here).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LabelQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spool: Option<String>,
}

fn media_key(m: Media) -> &'static str {
    match m {
        Media::Label50x25 => "50x25",
        Media::Label40x30 => "40x30",
        Media::Tape62 => "tape62",
        Media::SheetA4 => "a4",
        Media::SheetLetter => "letter",
    }
}

fn item_of(model: &Model, p: Pick) -> Option<LabelItem> {
    match p {
        Pick::Product(id) => items::product_label(model, id),
        Pick::Spool(id) => items::spool_label(model, id),
    }
}

/// Offers `bytes` as a download named `name`.
fn download(bytes: &[u8], mime: &str, name: &str) -> Result<(), String> {
    let err = |e: wasm_bindgen::JsValue| format!("{e:?}");
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts).map_err(err)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(err)?;
    let doc = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = doc
        .create_element("a")
        .map_err(err)?
        .dyn_into()
        .map_err(|_| "no link element".to_string())?;
    a.set_href(&url);
    a.set_download(name);
    if let Some(body) = doc.body() {
        let _ = body.append_child(&a);
        a.click();
        let _ = body.remove_child(&a);
    }
    // Revoked later: some browsers start the download after this handler returns.
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    if let Some(w) = web_sys::window() {
        let _ =
            w.set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 30_000);
    }
    Ok(())
}

#[function_component(Labels)]
pub fn labels_page() -> Html {
    let local = use_local();
    let model = local.model.clone();
    let query: LabelQuery = use_location()
        .and_then(|l| l.query::<LabelQuery>().ok())
        .unwrap_or_default();
    let parse = |s: &Option<String>| s.as_deref().and_then(|s| Uuid::parse_str(s).ok());
    let initial = parse(&query.product)
        .map(|id| Pick::Product(ProductId(id)))
        .or_else(|| parse(&query.spool).map(|id| Pick::Spool(SpoolId(id))));
    let chosen = use_state(move || initial.into_iter().collect::<BTreeSet<Pick>>());
    let media = use_state(|| Media::Label50x25);
    let style = use_state(|| Style::Qr);
    let message = use_state(|| None::<String>);

    if !model.ready {
        return html! { <section class="labels"><h1>{ "Labels" }</h1><p>{ "Opening…" }</p></section> };
    }
    if !local.has_session() {
        return html! { <section class="labels"><h1>{ "Labels" }</h1><SignIn /></section> };
    }

    let products = model.products();
    let spools = items::spools(&model);
    let picked: Vec<LabelItem> = chosen.iter().filter_map(|p| item_of(&model, *p)).collect();
    let pages = if picked.is_empty() {
        None
    } else {
        Some(labels::layout(&picked, *media, *style))
    };

    let toggle = |p: Pick| {
        let chosen = chosen.clone();
        Callback::from(move |_| {
            let mut c = (*chosen).clone();
            if !c.remove(&p) {
                c.insert(p);
            }
            chosen.set(c);
        })
    };
    let on_media = {
        let media = media.clone();
        Callback::from(move |e: Event| {
            if let Some(s) = e.target_dyn_into::<HtmlSelectElement>()
                && let Some(m) = Media::ALL.into_iter().find(|m| media_key(*m) == s.value())
            {
                media.set(m);
            }
        })
    };
    let on_style = {
        let style = style.clone();
        Callback::from(move |e: Event| {
            if let Some(s) = e.target_dyn_into::<HtmlSelectElement>() {
                style.set(if s.value() == "price_tag" {
                    Style::PriceTag
                } else {
                    Style::Qr
                });
            }
        })
    };
    let base_name = format!("labels-{}", media_key(*media));
    let (svg_click, pdf_click) = match &pages {
        Some(Ok(pages)) => {
            let (p1, p2) = (pages.clone(), pages.clone());
            let (m1, m2) = (message.clone(), message.clone());
            let (n1, n2) = (base_name.clone(), base_name.clone());
            (
                Callback::from(move |_| {
                    let svg = labels::svg(&p1, false);
                    if let Err(e) = download(svg.as_bytes(), "image/svg+xml", &format!("{n1}.svg"))
                    {
                        m1.set(Some(format!("Not downloaded: {e}")));
                    }
                }),
                Callback::from(move |_| {
                    let pdf = labels::pdf(&p2);
                    if let Err(e) = download(&pdf, "application/pdf", &format!("{n2}.pdf")) {
                        m2.set(Some(format!("Not downloaded: {e}")));
                    }
                }),
            )
        }
        _ => (Callback::noop(), Callback::noop()),
    };
    let ready = matches!(pages, Some(Ok(_)));

    html! {
        <section class="labels">
            <h1>{ "Labels" }</h1>
            <div class="label-options card">
                <div class="field">
                    <label for="label-media">{ "Print on" }</label>
                    <select id="label-media" data-testid="label-media" onchange={on_media}>
                        { for Media::ALL.iter().map(|m| html! {
                            <option value={media_key(*m)} selected={*m == *media}>{ m.label() }</option>
                        }) }
                    </select>
                </div>
                <div class="field">
                    <label for="label-style">{ "Design" }</label>
                    <select id="label-style" data-testid="label-style" onchange={on_style}>
                        <option value="qr" selected={*style == Style::Qr}>{ "QR label" }</option>
                        <option value="price_tag" selected={*style == Style::PriceTag}>{ "Price tag" }</option>
                    </select>
                </div>
                <div class="label-downloads">
                    <button type="button" class="primary" data-testid="label-pdf" disabled={!ready} onclick={pdf_click}>{ "Download PDF" }</button>
                    <button type="button" data-testid="label-svg" disabled={!ready} onclick={svg_click}>{ "Download SVG" }</button>
                </div>
                if let Some(m) = &*message {
                    <p class="notice" role="status">{ m.clone() }</p>
                }
            </div>
            <div class="label-preview" data-testid="label-preview" aria-label="Preview">
                { match &pages {
                    None => html! { <p class="hint">{ "Choose products or spools below to see their labels." }</p> },
                    Some(Err(e)) => html! { <p class="form-error" role="alert">{ e.to_string() }</p> },
                    Some(Ok(pages)) => html! {
                        <>
                            <p class="hint">{ format!("{} label{} on {} page{} · {}", picked.len(), if picked.len() == 1 { "" } else { "s" }, pages.len(), if pages.len() == 1 { "" } else { "s" }, media.label()) }</p>
                            { for pages.iter().take(4).map(|p| html! {
                                <div class="label-page">{ Html::from_html_unchecked(AttrValue::from(labels::svg_page(p, true))) }</div>
                            }) }
                            if pages.len() > 4 { <p class="hint">{ format!("and {} more pages in the download", pages.len() - 4) }</p> }
                        </>
                    },
                } }
            </div>
            <fieldset class="label-picks">
                <legend>{ "Products" }</legend>
                if products.is_empty() { <p class="hint">{ "No products yet." }</p> }
                { for products.iter().map(|p| {
                    let pick = Pick::Product(p.id);
                    html! {
                        <label class="pick" key={pick.key()}>
                            <input type="checkbox" data-testid="label-pick" data-id={p.id.0.to_string()} checked={chosen.contains(&pick)} onchange={toggle(pick)} />
                            <span>{ &p.name }</span><small>{ format!(" {} · {}", p.sku, model.money(p.price)) }</small>
                        </label>
                    }
                }) }
            </fieldset>
            <fieldset class="label-picks">
                <legend>{ "Spools" }</legend>
                if spools.is_empty() { <p class="hint">{ "No spools yet." }</p> }
                { for spools.iter().map(|s| {
                    let pick = Pick::Spool(s.id);
                    html! {
                        <label class="pick" key={pick.key()}>
                            <input type="checkbox" data-testid="label-pick" data-id={s.id.0.to_string()} checked={chosen.contains(&pick)} onchange={toggle(pick)} />
                            if let Some(hex) = &s.colour_hex { <span class="swatch" style={format!("background:{hex}")} aria-hidden="true"></span> }
                            <span>{ &s.name }</span><small>{ format!(" {} left", items::grams(s.left_cg)) }</small>
                        </label>
                    }
                }) }
            </fieldset>
        </section>
    }
}

//! Scan: point the rear camera at a product's or spool's code (QR, EAN-13, UPC-A, Code 128),
//! or type it, and act on what it names: sell one, adjust or count stock, weigh a spool,
//! record filament use. Codes are resolved by core ([`printstall_core::codes`]) against the
//! local state, and every action is an op in the local store, so all of it works offline.

pub mod camera;
pub mod items;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use printstall_core::codes::{self, Resolution, Target};
use printstall_core::domain::product::StockReason;
use printstall_core::domain::sale::{Discount, NewSale, PaymentMethod, SaleLine};
use printstall_core::domain::spool::UsageReason;
use printstall_core::domain::{Centigrams, ProductId, SaleId, SpoolId};
use printstall_core::sync::OpBody;
use printstall_core::sync::op::{
    EntityKind, EntitySet, SpoolUse, SpoolWeigh, StockAdjust, StockCount,
};
use serde_json::{Map, Value};
use uuid::Uuid;
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlVideoElement};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::hooks::use_sell_event::{resolve, use_sell_event};
use crate::store::queries::{event_rows, today};

use super::labels::LabelQuery;
use crate::components::sign_in::SignIn;
use crate::local::{Local, use_local};
use crate::route::Route;

fn now() -> time::OffsetDateTime {
    let ns = (js_sys::Date::now() as i128) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(ns).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

fn input_value(r: &NodeRef) -> String {
    r.cast::<HtmlInputElement>()
        .map(|i| i.value())
        .unwrap_or_default()
}

fn clear(r: &NodeRef) {
    if let Some(i) = r.cast::<HtmlInputElement>() {
        i.set_value("");
    }
}

/// The last code read or typed; resolved against the current local data when shown.
#[derive(Clone, PartialEq)]
struct Hit {
    code: String,
    /// `qr_code`, `ean_13`, ... or `typed`.
    format: String,
}

#[function_component(Scan)]
pub fn scan() -> Html {
    let local = use_local();
    let model = local.model.clone();
    let scanning = use_state(|| false);
    let decoder = use_state(|| None::<&'static str>);
    let camera_error = use_state(|| None::<String>);
    let hit = use_state(|| None::<Hit>);
    let message = use_state(|| None::<String>);
    let video = use_node_ref();
    let typed = use_node_ref();
    let running = use_mut_ref(|| None::<camera::Camera>);

    // Fetch the decoder as soon as Scan opens (once per app start; boot.js keeps it), so the
    // camera reads from its first frames.
    use_effect_with((), |_| {
        wasm_bindgen_futures::spawn_local(async {
            let _ = camera::decoder().await;
        });
    });

    // The camera runs while `scanning`; it stops when a code is read, when Scan is left,
    // and when the user stops it.
    {
        let video = video.clone();
        let running = running.clone();
        let scanning_h = scanning.clone();
        let decoder_h = decoder.clone();
        let camera_error = camera_error.clone();
        let hit = hit.clone();
        let message = message.clone();
        use_effect_with(*scanning, move |on: &bool| {
            let cancelled = Rc::new(Cell::new(false));
            if *on {
                start_camera(Starting {
                    video,
                    running: running.clone(),
                    cancelled: cancelled.clone(),
                    scanning: scanning_h,
                    decoder: decoder_h,
                    camera_error,
                    hit,
                    message,
                });
            }
            move || {
                cancelled.set(true);
                if let Some(c) = running.borrow_mut().take() {
                    c.stop();
                }
            }
        });
    }

    if !model.ready {
        return html! { <section class="scan"><h1>{ "Scan" }</h1><p>{ "Opening…" }</p></section> };
    }
    if !local.has_session() {
        return html! { <section class="scan"><h1>{ "Scan" }</h1><SignIn /></section> };
    }

    let on_typed = {
        let typed = typed.clone();
        let hit = hit.clone();
        let message = message.clone();
        let scanning = scanning.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let code = input_value(&typed);
            scanning.set(false);
            message.set(None);
            hit.set(Some(Hit {
                code,
                format: "typed".into(),
            }));
        })
    };
    let toggle = {
        let scanning = scanning.clone();
        let camera_error = camera_error.clone();
        Callback::from(move |_| {
            camera_error.set(None);
            scanning.set(!*scanning);
        })
    };

    html! {
        <section class="scan">
            <h1>{ "Scan" }</h1>
            if local.needs_sign_in() {
                <SignIn />
            }
            <div class={classes!("viewfinder", scanning.then_some("live"))}>
                <video ref={video} data-testid="scan-video" playsinline=true muted=true autoplay=true
                    aria-label="Camera picture" hidden={!*scanning}></video>
                if !*scanning {
                    <p class="hint">{ "Aim the rear camera at a QR code or barcode on a product or spool." }</p>
                }
            </div>
            <p class="scan-state" data-testid="scan-state" data-decoder={decoder.unwrap_or("")} aria-live="polite">
                { match (*scanning, *decoder) {
                    (true, Some(d)) => format!("Looking for a code… ({})", if d == "rxing" { "built-in decoder" } else { "browser decoder" }),
                    (true, None) => "Starting the camera…".to_string(),
                    (false, _) => String::new(),
                } }
            </p>
            <button type="button" class="primary scan-toggle" data-testid="scan-start" onclick={toggle}>
                { if *scanning { "Stop camera" } else { "Scan with camera" } }
            </button>
            if let Some(e) = &*camera_error {
                <p class="form-error" role="alert" data-testid="scan-error">{ e.clone() }</p>
            }
            <form class="field-row typed-code" onsubmit={on_typed}>
                <div class="field">
                    <label for="scan-code">{ "Or type a code" }</label>
                    <input id="scan-code" ref={typed} type="text" autocomplete="off" autocapitalize="characters"
                        placeholder="SKU, barcode or label code" data-testid="scan-code-input" />
                </div>
                <button type="submit" data-testid="scan-lookup">{ "Look up" }</button>
            </form>
            if let Some(h) = &*hit {
                { render_hit(h, &local, message.clone()) }
            }
            if let Some(m) = &*message {
                <p class="notice" role="status" data-testid="scan-message">{ m.clone() }</p>
            }
        </section>
    }
}

/// What starting the camera needs.
struct Starting {
    video: NodeRef,
    running: Rc<RefCell<Option<camera::Camera>>>,
    /// Set when Scan is left or the camera stopped before it finished starting.
    cancelled: Rc<Cell<bool>>,
    scanning: UseStateHandle<bool>,
    decoder: UseStateHandle<Option<&'static str>>,
    camera_error: UseStateHandle<Option<String>>,
    hit: UseStateHandle<Option<Hit>>,
    message: UseStateHandle<Option<String>>,
}

fn start_camera(s: Starting) {
    wasm_bindgen_futures::spawn_local(async move {
        let Some(v) = s.video.cast::<HtmlVideoElement>() else {
            return;
        };
        let decoder = match camera::decoder().await {
            Ok(d) => d,
            Err(e) => {
                s.camera_error.set(Some(e));
                s.scanning.set(false);
                return;
            }
        };
        s.decoder.set(Some(decoder.name()));
        let cam = match camera::open(&v).await {
            Ok(c) => c,
            Err(e) => {
                s.camera_error.set(Some(e));
                s.scanning.set(false);
                return;
            }
        };
        if s.cancelled.get() {
            cam.stop();
            return;
        }
        let on_code = {
            let (scanning, hit, message) = (s.scanning.clone(), s.hit.clone(), s.message.clone());
            Callback::from(move |(format, code): (String, String)| {
                message.set(None);
                hit.set(Some(Hit { code, format }));
                scanning.set(false);
            })
        };
        let on_error = {
            let (scanning, camera_error) = (s.scanning.clone(), s.camera_error.clone());
            Callback::from(move |e: String| {
                camera_error.set(Some(e));
                scanning.set(false);
            })
        };
        camera::read_frames(&cam, v, decoder, on_code, on_error);
        if let Some(old) = s.running.borrow_mut().replace(cam) {
            old.stop();
        }
    });
}

fn render_hit(h: &Hit, local: &Local, message: UseStateHandle<Option<String>>) -> Html {
    let model = &local.model;
    let head = html! {
        <p class="scanned" data-testid="scan-code">
            { "Code " }<code>{ &h.code }</code>
            if h.format != "typed" { <small>{ format!(" ({})", h.format.replace('_', " ")) }</small> }
        </p>
    };
    let answer = codes::resolve_in(&h.code, &model.state).map_err(|e| e.to_string());
    match &answer {
        Err(e) => {
            html! { <div class="card scan-result">{ head }<p class="form-error" role="alert" data-testid="scan-not-found">{ e.clone() }</p></div> }
        }
        Ok(Resolution::NotFound(m)) => html! {
            <div class="card scan-result">{ head }<p class="form-error" role="alert" data-testid="scan-not-found">{ m.clone() }</p></div>
        },
        Ok(Resolution::Ambiguous(list)) => html! {
            <div class="card scan-result">{ head }
                <p class="form-error" role="alert" data-testid="scan-not-found">
                    { format!("{} items carry this code; give each its own barcode.", list.len()) }
                </p>
            </div>
        },
        Ok(Resolution::Found(Target::Product(id))) => html! {
            <ProductActions id={*id} {message} head={head} key={id.0.to_string()} />
        },
        Ok(Resolution::Found(Target::Spool(id))) => html! {
            <SpoolActions id={*id} {message} head={head} key={id.0.to_string()} />
        },
    }
}

#[derive(Properties, PartialEq)]
struct ActionProps<I: PartialEq> {
    id: I,
    message: UseStateHandle<Option<String>>,
    head: Html,
}

fn done(message: UseStateHandle<Option<String>>, ok: String) -> Callback<Result<(), String>> {
    Callback::from(move |r: Result<(), String>| {
        message.set(Some(match r {
            Ok(()) => ok.clone(),
            Err(e) => format!("Not saved: {e}"),
        }))
    })
}

#[function_component(ProductActions)]
fn product_actions(props: &ActionProps<ProductId>) -> Html {
    let local = use_local();
    let model = local.model.clone();
    let delta = use_node_ref();
    let counted = use_node_ref();
    let (choice, _) = use_sell_event();
    let id = props.id;
    let Some(p) = model.products().into_iter().find(|p| p.id == id) else {
        return html! { <div class="card scan-result">{ props.head.clone() }<p class="form-error">{ "This product was deleted." }</p></div> };
    };
    let barcode = items::product_barcode(&model, id);
    let (tax_rate_bp, incl) = model
        .snap
        .shop
        .as_ref()
        .map_or((0, true), |s| (s.tax_rate_bp, s.prices_include_tax));

    // Sold for the market the till takes sales for (Sell's choice, else today's market).
    let events = event_rows(&model.state);
    let event = resolve(choice, &events, today());
    let sell_one = {
        let local = local.clone();
        let message = props.message.clone();
        let (name, price) = (p.name.clone(), p.price);
        let at = event.map(|e| format!(" at {}", e.name)).unwrap_or_default();
        let total = format!("{}{at}", model.money(price));
        let event_id = event.map(|e| e.id);
        Callback::from(move |_| {
            let sale = NewSale {
                sale_id: SaleId(Uuid::now_v7()),
                event_id,
                lines: vec![SaleLine {
                    product_id: id,
                    quantity: 1,
                    unit_price: price,
                }],
                discount: Discount::None,
                payment_method: PaymentMethod::Cash,
                tax_rate_bp,
                prices_include_tax: incl,
                taken_at: now(),
            };
            local.record(
                vec![OpBody::SaleRecord(sale)],
                done(message.clone(), format!("Sold one {name} for {total}")),
            );
        })
    };
    let adjust = {
        let local = local.clone();
        let message = props.message.clone();
        let delta = delta.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Ok(d) = input_value(&delta)
                .trim()
                .trim_start_matches('+')
                .parse::<i64>()
            else {
                message.set(Some("Adjust: enter a whole number like 5 or -2".into()));
                return;
            };
            clear(&delta);
            local.record(
                vec![OpBody::StockAdjust(StockAdjust {
                    product_id: id,
                    delta: d,
                    reason: StockReason::Adjusted,
                    job_id: None,
                    event_id: None,
                    note: Some("adjusted at Scan".into()),
                })],
                done(message.clone(), format!("Stock adjusted by {d:+}")),
            );
        })
    };
    let count = {
        let local = local.clone();
        let message = props.message.clone();
        let counted = counted.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Ok(n) = input_value(&counted).trim().parse::<i64>() else {
                message.set(Some("Count: enter how many you counted, like 12".into()));
                return;
            };
            clear(&counted);
            local.record(
                vec![OpBody::StockCount(StockCount {
                    product_id: id,
                    counted: n,
                    event_id: None,
                    note: Some("counted at Scan".into()),
                })],
                done(message.clone(), format!("Counted {n}")),
            );
        })
    };

    html! {
        <div class="card scan-result" data-testid="scan-result" data-kind="product" data-id={id.0.to_string()}>
            { props.head.clone() }
            <h2 data-testid="scan-name">{ &p.name }</h2>
            <p class="scan-facts">
                <span>{ format!("SKU {}", p.sku) }</span>
                if let Some(b) = &barcode { <span>{ format!(" · {b}") }</span> }
                <span>{ format!(" · {}", model.money(p.price)) }</span>
            </p>
            <p class={classes!("scan-level", p.level.negative.then_some("negative"), p.level.low.then_some("low"))}>
                <strong data-testid="scan-on-hand">{ p.level.on_hand }</strong>{ " on hand" }
                if p.level.negative { <span class="flag negative-flag">{ " below zero: count it" }</span> }
            </p>
            <div class="quick-actions">
                <button type="button" class="primary" data-testid="scan-sell-one" onclick={sell_one}>
                    { format!("Sell one · {}", model.money(p.price)) }
                </button>
                <form class="field-row" onsubmit={adjust}>
                    <div class="field">
                        <label for="scan-adjust">{ "Add or remove" }</label>
                        <input id="scan-adjust" ref={delta} type="number" inputmode="numeric" step="1" placeholder="+5 or -2" data-testid="scan-adjust-input" />
                    </div>
                    <button type="submit" data-testid="scan-adjust">{ "Adjust" }</button>
                </form>
                <form class="field-row" onsubmit={count}>
                    <div class="field">
                        <label for="scan-count">{ "Counted on hand" }</label>
                        <input id="scan-count" ref={counted} type="number" inputmode="numeric" min="0" step="1" data-testid="scan-count-input" />
                    </div>
                    <button type="submit" data-testid="scan-count">{ "Count" }</button>
                </form>
                <Link<Route, LabelQuery> to={Route::Labels} query={Some(LabelQuery { product: Some(id.0.to_string()), spool: None })} classes="link-button">{ "Print its label" }</Link<Route, LabelQuery>>
            </div>
        </div>
    }
}

#[function_component(SpoolActions)]
fn spool_actions(props: &ActionProps<SpoolId>) -> Html {
    let local = use_local();
    let model = local.model.clone();
    let gross = use_node_ref();
    let used = use_node_ref();
    let reason = use_node_ref();
    let id = props.id;
    let Some(s) = items::spool(&model, id) else {
        return html! { <div class="card scan-result">{ props.head.clone() }<p class="form-error">{ "This spool was deleted." }</p></div> };
    };
    let empty = s.empty_spool_cg.unwrap_or(Centigrams::ZERO);

    let weigh = {
        let local = local.clone();
        let message = props.message.clone();
        let gross = gross.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(g) = Centigrams::parse_grams(&input_value(&gross)) else {
                message.set(Some(
                    "Weigh: enter the scale's reading in grams, like 1034".into(),
                ));
                return;
            };
            clear(&gross);
            local.record(
                vec![OpBody::SpoolWeigh(SpoolWeigh {
                    spool_id: id,
                    gross_cg: g,
                    empty_spool_cg: empty,
                    note: Some("weighed at Scan".into()),
                })],
                done(
                    message.clone(),
                    format!(
                        "Weighed: {} left",
                        items::grams(Centigrams((g.0 - empty.0).max(0)))
                    ),
                ),
            );
        })
    };
    let use_grams = {
        let local = local.clone();
        let message = props.message.clone();
        let used = used.clone();
        let reason = reason.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(g) = Centigrams::parse_grams(&input_value(&used)) else {
                message.set(Some("Use: enter the grams used, like 35".into()));
                return;
            };
            let why = match reason
                .cast::<HtmlSelectElement>()
                .map(|s| s.value())
                .as_deref()
            {
                Some("test") => UsageReason::Test,
                Some("failed_print") => UsageReason::FailedPrint,
                _ => UsageReason::Print,
            };
            clear(&used);
            local.record(
                vec![OpBody::SpoolUse(SpoolUse {
                    spool_id: id,
                    used_cg: g,
                    reason: why,
                    job_id: None,
                    note: Some("marked used at Scan".into()),
                })],
                done(message.clone(), format!("{} marked used", items::grams(g))),
            );
        })
    };
    let used_up = {
        let local = local.clone();
        let message = props.message.clone();
        let archived = s.archived;
        Callback::from(move |_| {
            let mut fields = Map::new();
            fields.insert("archived".into(), Value::Bool(!archived));
            local.record(
                vec![OpBody::EntitySet(EntitySet {
                    entity: EntityKind::Spool,
                    id: id.0,
                    fields,
                })],
                done(
                    message.clone(),
                    if archived {
                        "Spool back in use".into()
                    } else {
                        "Spool put away as used up".into()
                    },
                ),
            );
        })
    };

    html! {
        <div class="card scan-result" data-testid="scan-result" data-kind="spool" data-id={id.0.to_string()}>
            { props.head.clone() }
            <h2 data-testid="scan-name">
                if let Some(hex) = &s.colour_hex {
                    <span class="swatch" style={format!("background:{hex}")} aria-hidden="true"></span>
                }
                { &s.name }
            </h2>
            <p class="scan-facts">
                if let Some(l) = &s.location { <span>{ format!("{l} · ") }</span> }
                if let Some(l) = &s.lot_number { <span>{ format!("lot {l} · ") }</span> }
                <span>{ format!("empty spool {}", items::grams(empty)) }</span>
                if s.archived { <span class="flag">{ " · used up" }</span> }
            </p>
            <p class="scan-level"><strong data-testid="scan-grams-left">{ items::grams(s.left_cg) }</strong>{ " left" }</p>
            <div class="quick-actions">
                <form class="field-row" onsubmit={weigh}>
                    <div class="field">
                        <label for="scan-gross">{ "Scale reading with the spool (g)" }</label>
                        <input id="scan-gross" ref={gross} type="text" inputmode="decimal" placeholder="1034" data-testid="scan-weigh-input" />
                    </div>
                    <button type="submit" class="primary" data-testid="scan-weigh">{ "Weigh" }</button>
                </form>
                <form class="field-row" onsubmit={use_grams}>
                    <div class="field">
                        <label for="scan-used">{ "Grams used" }</label>
                        <input id="scan-used" ref={used} type="text" inputmode="decimal" placeholder="35" data-testid="scan-use-input" />
                    </div>
                    <div class="field">
                        <label for="scan-reason">{ "For" }</label>
                        <select id="scan-reason" ref={reason}>
                            <option value="print" selected=true>{ "A print" }</option>
                            <option value="test">{ "A test print" }</option>
                            <option value="failed_print">{ "A failed print" }</option>
                        </select>
                    </div>
                    <button type="submit" data-testid="scan-use">{ "Mark used" }</button>
                </form>
                <button type="button" data-testid="scan-used-up" onclick={used_up}>
                    { if s.archived { "Back in use" } else { "Used up: put away" } }
                </button>
                <Link<Route, LabelQuery> to={Route::Labels} query={Some(LabelQuery { product: None, spool: Some(id.0.to_string()) })} classes="link-button">{ "Print its label" }</Link<Route, LabelQuery>>
            </div>
        </div>
    }
}

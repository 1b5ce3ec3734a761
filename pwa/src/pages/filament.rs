//! Filament: every filament kind with its colour, its spools with the grams left as a bar
//! and where they are, warnings for colours running low (all spools of a material and
//! colour together), each spool's ledger, weighing a spool, and adding filaments and
//! spools, either by hand or picked from the bundled catalogue (brand, material, colour:
//! the rest comes filled in, offline). Written as ops, so it works offline.

use std::collections::BTreeSet;

use printstall_core::domain::catalogue::Entry;
use printstall_core::domain::filament::Material;
use printstall_core::domain::planning::{LOW_FILAMENT, filament_stock, material_label};
use printstall_core::domain::spool::UsageReason;
use printstall_core::domain::{Centigrams, FilamentId, SpoolId};
use printstall_core::sync::OpBody;
use printstall_core::sync::op::{EntityKind, EntitySet};
use serde_json::{Map, Value, json};
use uuid::Uuid;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::components::bar_chart::{Bar, BarChart};
use crate::components::catalogue_pick::CataloguePick;
use crate::components::grams_bar::{GramsBar, grams};
use crate::components::sign_in::SignIn;
use crate::components::spool_weigh::SpoolWeighForm;
use crate::components::stock_tabs::StockTabs;
use crate::components::swatch::Swatch;
use crate::local::use_local;
use crate::pages::stock::parse_amount;
use crate::store::queries::{Catalog, spool_ledger};

fn value(r: &NodeRef) -> String {
    r.cast::<HtmlInputElement>()
        .map(|i| i.value())
        .or_else(|| r.cast::<HtmlSelectElement>().map(|s| s.value()))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// Sets a form input's (or select's) value.
fn set_value(r: &NodeRef, v: &str) {
    if let Some(i) = r.cast::<HtmlInputElement>() {
        i.set_value(v);
    } else if let Some(s) = r.cast::<HtmlSelectElement>() {
        s.set_value(v);
    }
}

/// Grams as the forms show them: `1000`, `193`, `12.5`.
fn grams_text(cg: i64) -> String {
    if cg % 100 == 0 {
        (cg / 100).to_string()
    } else {
        format!("{}.{:02}", cg / 100, cg % 100)
    }
}

/// The `entity.set.v1` fields of a new filament made from a catalogue entry.
fn catalogue_fields(e: &Entry) -> Map<String, Value> {
    let mut fields = serde_json::to_value(e.to_filament(FilamentId(Uuid::nil())))
        .ok()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    fields.remove("id");
    fields.retain(|_, v| !v.is_null());
    fields
}

/// Whether the form still names the picked entry (brand, material, colour unchanged).
fn still_picked(e: &Entry, brand: &str, material: &str, colour: &str) -> bool {
    e.brand.eq_ignore_ascii_case(brand.trim())
        && serde_json::from_value::<Material>(Value::String(material.to_owned())).ok()
            == Some(e.material)
        && e.colour.eq_ignore_ascii_case(colour.trim())
}

fn reason_text(r: Option<UsageReason>) -> &'static str {
    match r {
        Some(UsageReason::Print) => "Print",
        Some(UsageReason::Test) => "Test",
        Some(UsageReason::FailedPrint) => "Failed print",
        Some(UsageReason::Measurement) => "Weighing difference",
        Some(UsageReason::Correction) => "Correction",
        None => "Weighed",
    }
}

fn when(ms: u64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!(
        "{:02}.{:02}. {:02}:{:02}",
        d.get_date(),
        d.get_month() + 1,
        d.get_hours(),
        d.get_minutes()
    )
}

#[function_component(Filament)]
pub fn filament() -> Html {
    let local = use_local();
    let model = local.model.clone();
    let weighing = use_state(|| None::<SpoolId>);
    let ledger = use_state(BTreeSet::<SpoolId>::new);
    let message = use_state(|| None::<String>);
    // Catalogue entries picked in the add forms.
    let nf_pick = use_state(|| None::<&'static Entry>);
    let ns_pick = use_state(|| None::<&'static Entry>);
    let (f_brand, f_material, f_colour, f_hex, f_price, f_net, f_empty) = (
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
    );
    let (s_filament, s_net, s_price, s_location) = (
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
    );

    if !model.ready {
        return html! { <section class="filament-page"><h1>{ "Filament" }</h1><p>{ "Opening…" }</p></section> };
    }
    if !local.has_session() {
        return html! { <section class="filament-page"><h1>{ "Filament" }</h1><SignIn /></section> };
    }
    let c = Catalog::from_state(&model.state);
    let exponent = model.currency().exponent();
    let stock = filament_stock(&c.filament_infos(), &c.spool_stocks());
    let low: Vec<_> = stock.iter().filter(|l| l.low).collect();

    let close = {
        let (weighing, message) = (weighing.clone(), message.clone());
        Callback::from(move |m: Option<String>| {
            weighing.set(None);
            if m.is_some() {
                message.set(m);
            }
        })
    };
    let toggle_ledger = |id: SpoolId| {
        let ledger = ledger.clone();
        Callback::from(move |_| {
            let mut s = (*ledger).clone();
            if !s.remove(&id) {
                s.insert(id);
            }
            ledger.set(s);
        })
    };
    let open_weigh = |id: SpoolId| {
        let weighing = weighing.clone();
        Callback::from(move |_| weighing.set(Some(id)))
    };

    let fill_filament = {
        let refs = (
            f_brand.clone(),
            f_material.clone(),
            f_colour.clone(),
            f_hex.clone(),
            f_net.clone(),
            f_empty.clone(),
        );
        let nf_pick = nf_pick.clone();
        Callback::from(move |e: &'static Entry| {
            let (brand, material, colour, hex, net, empty) = &refs;
            set_value(brand, e.brand);
            if let Some(m) = serde_json::to_value(e.material)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
            {
                set_value(material, &m);
            }
            set_value(colour, e.colour);
            set_value(hex, e.hex);
            set_value(net, &grams_text(e.net_weight_cg));
            set_value(empty, &e.empty_spool_cg.map(grams_text).unwrap_or_default());
            nf_pick.set(Some(e));
        })
    };
    let pick_spool_filament = {
        let (s_filament, s_net, ns_pick) = (s_filament.clone(), s_net.clone(), ns_pick.clone());
        let known: Vec<(FilamentId, String, Material, String)> = c
            .filaments
            .iter()
            .map(|f| (f.id, f.brand.clone(), f.material, f.colour_name.clone()))
            .collect();
        Callback::from(move |e: &'static Entry| {
            // The shop's own filament of that brand, material and colour, else a new one
            // made from the entry when the spool is added.
            let same = known.iter().find(|(_, b, m, col)| {
                b.eq_ignore_ascii_case(e.brand)
                    && *m == e.material
                    && col.eq_ignore_ascii_case(e.colour)
            });
            set_value(
                &s_filament,
                &same.map(|f| f.0.0.to_string()).unwrap_or_default(),
            );
            set_value(&s_net, &grams_text(e.net_weight_cg));
            ns_pick.set(if same.is_some() { None } else { Some(e) });
        })
    };
    let add_filament = {
        let nf_pick = nf_pick.clone();
        let refs = (
            f_brand.clone(),
            f_material.clone(),
            f_colour.clone(),
            f_hex.clone(),
            f_price.clone(),
            f_net.clone(),
            f_empty.clone(),
        );
        let (local, message) = (local.clone(), message.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (brand, material, colour, hex, price, net, empty) = &refs;
            let Some(net_cg) = Centigrams::parse_grams(&value(net)).filter(|g| g.0 > 0) else {
                message.set(Some("Net weight: enter grams, like 1000".into()));
                return;
            };
            let mut fields = Map::new();
            fields.insert("brand".into(), Value::String(value(brand)));
            fields.insert("material".into(), Value::String(value(material)));
            fields.insert(
                "colour".into(),
                json!({"name": value(colour), "hex": value(hex)}),
            );
            // Density, diameter and temperatures from the catalogue entry the form was
            // filled from (while it still names it), else the material's typical density.
            let picked = (*nf_pick)
                .filter(|p| still_picked(p, &value(brand), &value(material), &value(colour)));
            match picked {
                Some(p) => {
                    let f = catalogue_fields(p);
                    for k in ["diameter", "density_mg_cm3", "nozzle_temp_c", "bed_temp_c"] {
                        if let Some(v) = f.get(k) {
                            fields.insert(k.into(), v.clone());
                        }
                    }
                }
                None => {
                    let m = serde_json::from_value::<Material>(Value::String(value(material)))
                        .unwrap_or(Material::Other);
                    fields.insert("diameter".into(), json!("1.75"));
                    fields.insert("density_mg_cm3".into(), json!(m.typical_density()));
                }
            }
            fields.insert("net_weight_cg".into(), json!(net_cg.0));
            if !value(price).is_empty() {
                let Some(p) = parse_amount(&value(price), exponent) else {
                    message.set(Some("Price per spool: enter an amount like 24.99".into()));
                    return;
                };
                fields.insert("price_per_spool".into(), json!(p));
            }
            if let Some(g) = Centigrams::parse_grams(&value(empty)) {
                fields.insert("empty_spool_cg".into(), json!(g.0));
            }
            let message = message.clone();
            local.record(
                vec![OpBody::EntitySet(EntitySet {
                    entity: EntityKind::Filament,
                    id: Uuid::now_v7(),
                    fields,
                })],
                Callback::from(move |r: Result<(), String>| {
                    message.set(Some(match r {
                        Ok(()) => "Filament added".into(),
                        Err(e) => format!("Not added: {e}"),
                    }))
                }),
            );
        })
    };
    let add_spool = {
        let ns_pick = ns_pick.clone();
        let refs = (
            s_filament.clone(),
            s_net.clone(),
            s_price.clone(),
            s_location.clone(),
        );
        let (local, message) = (local.clone(), message.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (filament, net, price, location) = &refs;
            let mut ops = Vec::new();
            let fid = match (Uuid::parse_str(&value(filament)).ok(), *ns_pick) {
                (Some(id), _) => FilamentId(id),
                // A catalogue filament the shop does not have yet: added with the spool.
                (None, Some(entry)) => {
                    let id = Uuid::now_v7();
                    ops.push(OpBody::EntitySet(EntitySet {
                        entity: EntityKind::Filament,
                        id,
                        fields: catalogue_fields(entry),
                    }));
                    FilamentId(id)
                }
                (None, None) => {
                    message.set(Some("Choose the spool's filament".into()));
                    return;
                }
            };
            let Some(net_cg) = Centigrams::parse_grams(&value(net)).filter(|g| g.0 > 0) else {
                message.set(Some("Filament on the spool: enter grams, like 1000".into()));
                return;
            };
            let mut fields = Map::new();
            fields.insert("filament_id".into(), json!(fid));
            fields.insert("initial_net_cg".into(), json!(net_cg.0));
            if !value(price).is_empty() {
                let Some(p) = parse_amount(&value(price), exponent) else {
                    message.set(Some("Price paid: enter an amount like 21.99".into()));
                    return;
                };
                fields.insert("price_paid".into(), json!(p));
            }
            if !value(location).is_empty() {
                fields.insert("location".into(), Value::String(value(location)));
            }
            let (message, ns_pick) = (message.clone(), ns_pick.clone());
            ops.push(OpBody::EntitySet(EntitySet {
                entity: EntityKind::Spool,
                id: Uuid::now_v7(),
                fields,
            }));
            local.record(
                ops,
                Callback::from(move |r: Result<(), String>| {
                    if r.is_ok() {
                        ns_pick.set(None);
                    }
                    message.set(Some(match r {
                        Ok(()) => "Spool added".into(),
                        Err(e) => format!("Not added: {e}"),
                    }))
                }),
            );
        })
    };

    let bars: Vec<Bar> = stock
        .iter()
        .map(|l| Bar {
            label: format!("{} {}", material_label(l.material), l.colour_name),
            value: l.on_hand.0,
            text: grams(l.on_hand),
            warn: l.low,
        })
        .collect();

    html! {
        <section class="filament-page work">
            <StockTabs />
            <div class="page-head">
                <h1>{ "Filament" }</h1>
                <p class="summary">{ format!("{} filament{} · {} spool{}", c.filaments.len(), if c.filaments.len() == 1 { "" } else { "s" }, c.spools.len(), if c.spools.len() == 1 { "" } else { "s" }) }</p>
            </div>
            if let Some(m) = &*message {
                <p class="notice" role="status" data-testid="filament-message">{ m.clone() }</p>
            }
            <div class="work-grid">
                <div>
                    <section class="card low-filament" aria-labelledby="low-title" data-testid="low-filament">
                        <h2 id="low-title">{ "Running low" }</h2>
                        if low.is_empty() {
                            <p class="ok-line">{ format!("Every colour has at least {} on hand.", grams(LOW_FILAMENT)) }</p>
                        }
                        <ul class="plain-list">
                            { for low.iter().map(|l| html! {
                                <li class="warn-line" data-testid="low-colour">
                                    <Swatch hex={l.hex.clone()} />
                                    { format!("{} {}: {} left on {} spool{}", material_label(l.material), l.colour_name, grams(l.on_hand), l.spools, if l.spools == 1 { "" } else { "s" }) }
                                </li>
                            }) }
                        </ul>
                    </section>
                    <section class="card">
                        <BarChart title="Filament on hand per material and colour" bars={bars} testid="filament-chart" />
                    </section>
                    // Filament used per week (self-contained: reads the local state itself).
                    <section class="card" aria-label="Filament used per week">
                        <crate::components::filament_use::FilamentUse />
                    </section>
                </div>
                <section class="card" aria-labelledby="spools-title">
                    <h2 id="spools-title">{ "Filaments and spools" }</h2>
                    if c.filaments.is_empty() {
                        <p class="hint">{ "No filament yet: add one below." }</p>
                    }
                    { for c.filaments.iter().map(|f| {
                        let spools: Vec<_> = c.spools.iter().filter(|s| s.filament_id == f.id).collect();
                        html! {
                            <article class="filament-card" data-testid="filament" data-filament-id={f.id.0.to_string()}>
                                <h3><Swatch hex={f.hex.clone()} />{ f.label() }</h3>
                                <p class="hint">
                                    { format!("{} per spool", grams(f.net_weight)) }
                                    if let Some(p) = f.price_per_spool { { format!(" · {} a spool", model.money(p)) } }
                                    if let Some(r) = c.filament_rate(f.id) { { format!(" · {} per kg", model.money(r.cost_of(Centigrams::KG))) } }
                                </p>
                                if spools.is_empty() {
                                    <p class="hint">{ "No spools." }</p>
                                }
                                <ul class="spool-list">
                                    { for spools.iter().map(|s| {
                                        let label = format!("{} spool{}", f.label(), s.location.as_deref().map(|l| format!(" at {l}")).unwrap_or_default());
                                        let full = if s.initial_net.0 > 0 { s.initial_net } else { f.net_weight };
                                        let open_ledger = ledger.contains(&s.id);
                                        html! {
                                            <li class="spool-row" data-testid="spool-row" data-spool-id={s.id.0.to_string()}>
                                                <div class="spool-head">
                                                    <span class="spool-where">{ s.location.clone().unwrap_or_else(|| "No location".into()) }</span>
                                                    <GramsBar left={s.left} full={full} low={s.left < LOW_FILAMENT} label={format!("Grams left on {label}")} />
                                                </div>
                                                if s.overshoot.0 > 0 {
                                                    <p class="warn-line">{ format!("{} more was used than the spool had: weigh it", grams(s.overshoot)) }</p>
                                                }
                                                <div class="actions">
                                                    <button type="button" class="secondary" onclick={open_weigh(s.id)} aria-label={format!("Weigh {label}")}>{ "Weigh" }</button>
                                                    <button type="button" class="secondary" aria-expanded={open_ledger.to_string()} onclick={toggle_ledger(s.id)} aria-label={format!("Ledger of {label}")}>{ "Ledger" }</button>
                                                </div>
                                                if *weighing == Some(s.id) {
                                                    <SpoolWeighForm spool_id={s.id} label={label.clone()} empty={s.empty_spool.or(f.empty_spool)} on_close={close.clone()} />
                                                }
                                                if open_ledger {
                                                    <table class="ledger" data-testid="spool-ledger">
                                                        <caption>{ "Since the last weighing" }</caption>
                                                        <thead><tr><th scope="col">{ "When" }</th><th scope="col">{ "What" }</th><th scope="col">{ "Grams" }</th></tr></thead>
                                                        <tbody>
                                                            { for spool_ledger(&model.state, s.id).iter().map(|e| html! {
                                                                <tr>
                                                                    <td>{ when(e.at_ms) }</td>
                                                                    <td>{ reason_text(e.reason) }</td>
                                                                    <td>{ match e.weighed { Some(l) => format!("{} left", grams(l)), None => format!("−{}", grams(e.used)) } }</td>
                                                                </tr>
                                                            }) }
                                                            <tr><td>{ "Start" }</td><td>{ "Added" }</td><td>{ format!("{} net", grams(s.initial_net)) }</td></tr>
                                                        </tbody>
                                                    </table>
                                                }
                                            </li>
                                        }
                                    }) }
                                </ul>
                            </article>
                        }
                    }) }
                </section>
            </div>
            <div class="work-grid">
                <form class="card" onsubmit={add_filament} aria-labelledby="nf-title">
                    <h2 id="nf-title">{ "Add a filament" }</h2>
                    <CataloguePick id_prefix="nf-cat" on_pick={fill_filament} />
                    <div class="field"><label for="nf-brand">{ "Brand" }</label><input id="nf-brand" ref={f_brand} type="text" required=true /></div>
                    <div class="field-row">
                        <div class="field"><label for="nf-material">{ "Material" }</label>
                            <select id="nf-material" ref={f_material}>
                                { for [("pla", "PLA"), ("petg", "PETG"), ("abs", "ABS"), ("asa", "ASA"), ("tpu", "TPU"), ("pa", "PA"), ("pc", "PC"), ("other", "Other")].iter().map(|(v, l)| html! { <option value={*v}>{ *l }</option> }) }
                            </select>
                        </div>
                        <div class="field"><label for="nf-hex">{ "Colour" }</label><input id="nf-hex" ref={f_hex} type="color" value="#c0392b" /></div>
                    </div>
                    <div class="field"><label for="nf-colour">{ "Colour name" }</label><input id="nf-colour" ref={f_colour} type="text" required=true placeholder="Signal red" /></div>
                    <div class="field-row">
                        <div class="field"><label for="nf-net">{ "Net weight (g)" }</label><input id="nf-net" ref={f_net} type="text" inputmode="decimal" value="1000" /></div>
                        <div class="field"><label for="nf-empty">{ "Empty spool (g)" }</label><input id="nf-empty" ref={f_empty} type="text" inputmode="decimal" placeholder="200" /></div>
                    </div>
                    <div class="field"><label for="nf-price">{ "Price per spool" }</label><input id="nf-price" ref={f_price} type="text" inputmode="decimal" placeholder="24.99" /></div>
                    <button type="submit" class="primary">{ "Add filament" }</button>
                </form>
                <form class="card" onsubmit={add_spool} aria-labelledby="ns-title">
                    <h2 id="ns-title">{ "Add a spool" }</h2>
                    <CataloguePick id_prefix="ns-cat" on_pick={pick_spool_filament} />
                    <div class="field"><label for="ns-filament">{ "Filament" }</label>
                        <select id="ns-filament" ref={s_filament}>
                            <option value="">{ "Choose a filament" }</option>
                            { for c.filaments.iter().map(|f| html! { <option value={f.id.0.to_string()}>{ f.label() }</option> }) }
                        </select>
                    </div>
                    if let Some(e) = *ns_pick {
                        <p class="hint" data-testid="spool-new-filament">{ format!("New filament {} {} {} from the catalogue, added with the spool (unless you choose one above).", e.brand, material_label(e.material), e.colour) }</p>
                    }
                    <div class="field-row">
                        <div class="field"><label for="ns-net">{ "Filament on it (g)" }</label><input id="ns-net" ref={s_net} type="text" inputmode="decimal" value="1000" /></div>
                        <div class="field"><label for="ns-price">{ "Price paid" }</label><input id="ns-price" ref={s_price} type="text" inputmode="decimal" placeholder="21.99" /></div>
                    </div>
                    <div class="field"><label for="ns-location">{ "Location" }</label><input id="ns-location" ref={s_location} type="text" placeholder="Shelf B" /></div>
                    <button type="submit" class="primary">{ "Add spool" }</button>
                </form>
            </div>
        </section>
    }
}

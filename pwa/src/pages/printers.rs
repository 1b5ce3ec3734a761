//! Printers: what each printer reported through the Spoolman-compatible API (spool, grams,
//! when). The printers themselves come from the local store (they are synced); their
//! reports are spool ledger rows, which devices do not sync, so they are read from the
//! server (`GET /api/v1/printer-history`) and the page says so when offline.

use std::collections::BTreeMap;

use printstall_core::domain::Centigrams;
use printstall_core::sync::op::EntityKind;
use serde_json::Value;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::components::grams_bar::grams;
use crate::components::sign_in::SignIn;
use crate::components::swatch::Swatch;
use crate::hooks::use_online::use_online;
use crate::local::use_local;
use crate::sync::http::{Net, call, error_message};

/// Most reports read at once (the newest).
const LIMIT: u32 = 200;

/// One report as the server answers it.
#[derive(Clone, PartialEq)]
struct Report {
    printer: String,
    spool: String,
    hex: String,
    used: Centigrams,
    reason: String,
    at: String,
}

fn report_of(v: &Value) -> Report {
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    Report {
        printer: s("printer_name"),
        spool: format!(
            "{} {} {}",
            s("brand"),
            s("material").to_uppercase(),
            s("colour_name")
        ),
        hex: s("colour_hex"),
        used: Centigrams(v["used_cg"].as_i64().unwrap_or(0)),
        reason: s("reason"),
        // "2026-11-25T05:12:40.49Z" -> "2026-11-25 05:12"
        at: s("at").replace('T', " ").chars().take(16).collect(),
    }
}

#[function_component(Printers)]
pub fn printers() -> Html {
    let local = use_local();
    let online = use_online();
    let token = local.access_token();
    let reports = use_state(|| None::<Result<Vec<Report>, String>>);
    {
        let (reports, token) = (reports.clone(), token.clone());
        use_effect_with((token.clone(), online), move |(token, online)| {
            if let (Some(token), true) = (token.clone(), *online) {
                spawn_local(async move {
                    let path = format!("/api/v1/printer-history?limit={LIMIT}");
                    let got = match call("GET", &path, Some(&token), None).await {
                        Net::Answer(200, body) => Ok(body["items"]
                            .as_array()
                            .map(|a| a.iter().map(report_of).collect())
                            .unwrap_or_default()),
                        Net::Answer(_, body) => Err(error_message(&body)),
                        Net::Unreachable(_) => Err(OFFLINE.into()),
                    };
                    reports.set(Some(got));
                });
            }
        });
    }
    let model = local.model.clone();
    if !model.ready {
        return html! { <section class="printers-page"><h1>{ "Printers" }</h1><p>{ "Opening…" }</p></section> };
    }
    if !local.has_session() {
        return html! { <section class="printers-page"><h1>{ "Printers" }</h1><SignIn /></section> };
    }
    // The shop's printers, from the local store.
    let mut names: Vec<String> = model
        .state
        .entities
        .get(&EntityKind::Printer)
        .into_iter()
        .flatten()
        .filter(|(_, c)| !c.is_deleted())
        .filter_map(|(_, c)| c.value("name").and_then(Value::as_str).map(str::to_owned))
        .collect();
    names.sort();
    let body = match (&*reports, online) {
        (_, false) => html! {
            <p class="form-error" role="status" data-testid="printers-offline">{ OFFLINE }</p>
        },
        (None, true) => html! { <p class="hint">{ "Loading…" }</p> },
        (Some(Err(m)), true) => html! { <p class="form-error" role="alert">{ m.clone() }</p> },
        (Some(Ok(items)), true) if items.is_empty() => html! {
            <p class="hint" data-testid="printers-none">
                { "No printer has reported filament use yet. Make a printer token in Settings and give it to Moonraker or OctoPrint-Spoolman." }
            </p>
        },
        (Some(Ok(items)), true) => {
            let mut by_printer: BTreeMap<&str, Vec<&Report>> = BTreeMap::new();
            for r in items {
                by_printer.entry(r.printer.as_str()).or_default().push(r);
            }
            html! {
                { for by_printer.iter().map(|(printer, rows)| {
                    let total: i64 = rows.iter().filter(|r| r.reason == "print").map(|r| r.used.0).sum();
                    html! {
                        <section class="card printer-reports" data-printer={printer.to_string()}>
                            <h2>{ *printer }</h2>
                            <p class="summary">{ format!("{} reports · {} printed", rows.len(), grams(Centigrams(total))) }</p>
                            <ul class="report-list">
                                { for rows.iter().map(|r| html! {
                                    <li class="report" data-testid="printer-report">
                                        <Swatch hex={r.hex.clone()} />
                                        <span class="report-spool">{ r.spool.clone() }</span>
                                        <span class="report-grams">{ if r.reason == "measurement" { format!("weighed, {} off", grams(r.used)) } else { grams(r.used) } }</span>
                                        <span class="hint">{ r.at.clone() }</span>
                                    </li>
                                }) }
                            </ul>
                        </section>
                    }
                }) }
            }
        }
    };
    html! {
        <section class="printers-page work" aria-labelledby="page-title">
            <h1 id="page-title">{ "Printers" }</h1>
            if names.is_empty() {
                <p class="hint">{ "No printers yet." }</p>
            } else {
                <p class="summary" data-testid="printer-names">{ names.join(" · ") }</p>
            }
            <h2>{ "Reported by printers" }</h2>
            { body }
        </section>
    }
}

const OFFLINE: &str =
    "What printers reported is kept on the server; it is shown when this device is online.";

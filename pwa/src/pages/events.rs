//! Markets: plan an event (dates, place, fee, theme tags), its stock plan with targets
//! (suggested from the last similar events' sales), the gap turned into print jobs in one
//! step with the printer hours needed against the time left and the filament needed
//! against what is on hand, the packing list, the report after the event, and sales per
//! event as a chart. Written as ops, so it works offline.

use std::rc::Rc;

use printstall_core::domain::MarketEventId;
use printstall_core::domain::planning::{
    JobLoad, STALL_CHECKLIST, coverage, gap_jobs, hours_text, open_needs, packing_list, readiness,
    time_left_s,
};
use printstall_core::domain::print_job::JobStatus;
use printstall_core::domain::{PrintJobId, market_event::validate_dates};
use printstall_core::sync::OpBody;
use printstall_core::sync::op::{EntityKind, EntitySet};
use serde_json::{Map, Value, json};
use uuid::Uuid;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::components::bar_chart::{Bar, BarChart};
use crate::components::event_plan::EventPlanForm;
use crate::components::event_report_view::EventReportView;
use crate::components::grams_bar::grams;
use crate::components::sign_in::SignIn;
use crate::components::swatch::Swatch;
use crate::local::use_local;
use crate::pages::queue::next_position;
use crate::pages::stock::parse_amount;
use crate::store::queries::{Catalog, EventRow, now_unix_s, parse_date, today, utc_offset_s};

fn value(r: &NodeRef) -> String {
    r.cast::<HtmlInputElement>()
        .map(|i| i.value().trim().to_owned())
        .unwrap_or_default()
}

fn dates_text(e: &EventRow) -> String {
    match (e.starts_on, e.ends_on) {
        (Some(s), Some(t)) if s == t => s.to_string(),
        (Some(s), Some(t)) => format!("{s} to {t}"),
        (Some(s), None) => s.to_string(),
        _ => "no date".into(),
    }
}

#[function_component(Events)]
pub fn events() -> Html {
    let local = use_local();
    let model = local.model.clone();
    let selected = use_state(|| None::<MarketEventId>);
    let message = use_state(|| None::<String>);
    let (name, starts, ends, place, fee, tags) = (
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
    );
    if !model.ready {
        return html! { <section class="events"><h1>{ "Markets" }</h1><p>{ "Opening…" }</p></section> };
    }
    if !local.has_session() {
        return html! { <section class="events"><h1>{ "Markets" }</h1><SignIn /></section> };
    }
    let c = Rc::new(Catalog::from_state(&model.state));
    let offset = utc_offset_s();
    let today = today();
    // The chosen event, else the next one to come, else the latest.
    let current = (*selected)
        .and_then(|id| c.event(id))
        .or_else(|| {
            c.events
                .iter()
                .find(|e| e.ends_on.or(e.starts_on).is_some_and(|d| d >= today))
        })
        .or_else(|| c.events.last())
        .cloned();
    let exponent = model.currency().exponent();

    let create = {
        let refs = (
            name.clone(),
            starts.clone(),
            ends.clone(),
            place.clone(),
            fee.clone(),
            tags.clone(),
        );
        let (local, message, selected) = (local.clone(), message.clone(), selected.clone());
        Callback::from(move |ev: SubmitEvent| {
            ev.prevent_default();
            let (name, starts, ends, place, fee, tags) = &refs;
            let Some(s) = parse_date(&value(starts)) else {
                message.set(Some("First day: choose a date".into()));
                return;
            };
            let t = parse_date(&value(ends)).unwrap_or(s);
            if let Err(e) = validate_dates(s, t) {
                message.set(Some(format!("Last day {}", e.message)));
                return;
            }
            let mut fields = Map::new();
            fields.insert("name".into(), Value::String(value(name)));
            fields.insert("starts_on".into(), Value::String(s.to_string()));
            fields.insert("ends_on".into(), Value::String(t.to_string()));
            if !value(place).is_empty() {
                fields.insert("location".into(), Value::String(value(place)));
            }
            if !value(fee).is_empty() {
                let Some(f) = parse_amount(&value(fee), exponent) else {
                    message.set(Some("Booth fee: enter an amount like 45.00".into()));
                    return;
                };
                fields.insert("booth_fee".into(), json!(f));
            }
            let tag_list: Vec<String> = value(tags)
                .split(',')
                .map(|t| t.trim().to_lowercase())
                .filter(|t| !t.is_empty())
                .collect();
            fields.insert("theme_tags".into(), json!(tag_list));
            let id = Uuid::now_v7();
            let (message, selected) = (message.clone(), selected.clone());
            let refs = [
                name.clone(),
                starts.clone(),
                ends.clone(),
                place.clone(),
                fee.clone(),
                tags.clone(),
            ];
            local.record(
                vec![OpBody::EntitySet(EntitySet {
                    entity: EntityKind::MarketEvent,
                    id,
                    fields,
                })],
                Callback::from(move |r: Result<(), String>| match r {
                    Ok(()) => {
                        for r in &refs {
                            if let Some(i) = r.cast::<HtmlInputElement>() {
                                i.set_value("");
                            }
                        }
                        selected.set(Some(MarketEventId(id)));
                        message.set(Some("Market planned".into()));
                    }
                    Err(e) => message.set(Some(format!("Not saved: {e}"))),
                }),
            );
        })
    };

    // Sales per event, in date order.
    let sales_bars: Vec<Bar> = c
        .events
        .iter()
        .filter(|e| e.starts_on.is_some_and(|d| d <= today))
        .map(|e| {
            let r = c.report(e, offset);
            Bar {
                label: e.name.clone(),
                value: r.gross.0,
                text: model.money(r.gross),
                warn: r.margin.0 < 0,
            }
        })
        .collect();

    let detail = current.as_ref().map(|e| {
        let needs = c.plan_needs(e);
        let (jobs, unprintable) = gap_jobs(&needs);
        let (have, want) = readiness(&needs);
        // Printer time and filament of the jobs the gap needs, plus the open jobs for it.
        let mut loads: Vec<JobLoad> = jobs
            .iter()
            .map(|p| {
                let v = c.variant(p.variant_id);
                JobLoad {
                    job_id: PrintJobId(Uuid::nil()),
                    status: JobStatus::Queued,
                    units: p.units,
                    plates: p.plates,
                    plate_time_s: v.and_then(|v| v.print_time_s),
                    needs: v.map(|v| v.needs.clone()).unwrap_or_default(),
                }
            })
            .collect();
        let queued: Vec<JobLoad> = c
            .job_loads()
            .into_iter()
            .zip(c.jobs.iter())
            .filter(|(_, j)| j.event_id == Some(e.id))
            .map(|(l, _)| l)
            .collect();
        loads.extend(queued.iter().cloned());
        let needed_s: u64 = loads.iter().filter(|l| l.is_open()).map(JobLoad::seconds).sum();
        let left_s = e.starts_on.map_or(0, |d| time_left_s(now_unix_s(), d, offset, c.printers));
        let fil = coverage(&open_needs(&loads), &c.filament_infos(), &c.spool_stocks());
        let plan_on_hand: Vec<_> = e
            .plan
            .iter()
            .map(|(p, t)| (*p, *t, c.product(*p).map_or(0, |p| p.level.on_hand)))
            .collect();
        let packing = packing_list(&plan_on_hand);
        let report = c.report(e, offset);
        let started = e.starts_on.is_some_and(|d| d <= today);

        let make_jobs = {
            let (local, message) = (local.clone(), message.clone());
            let mut position = next_position(&c.jobs);
            let ops: Vec<OpBody> = jobs
                .iter()
                .map(|p| {
                    let mut fields = Map::new();
                    fields.insert("variant_id".into(), json!(p.variant_id));
                    fields.insert("units".into(), json!(p.units));
                    fields.insert("plates".into(), json!(p.plates));
                    fields.insert("priority".into(), json!(0));
                    fields.insert("position".into(), json!(position));
                    fields.insert("event_id".into(), json!(e.id));
                    position += 1024;
                    OpBody::EntitySet(EntitySet { entity: EntityKind::PrintJob, id: Uuid::now_v7(), fields })
                })
                .collect();
            Callback::from(move |_| {
                let n = ops.len();
                let message = message.clone();
                local.record(
                    ops.clone(),
                    Callback::from(move |r: Result<(), String>| {
                        message.set(Some(match r {
                            Ok(()) => format!("{n} print job{} added to the queue", if n == 1 { "" } else { "s" }),
                            Err(e) => format!("Not added: {e}"),
                        }))
                    }),
                );
            })
        };

        html! {
            <article class="card event-detail" data-testid="event-detail" data-event-id={e.id.0.to_string()}>
                <h2>{ &e.name }</h2>
                <p class="event-facts">
                    { dates_text(e) }
                    if let Some(l) = &e.location { { format!(" · {l}") } }
                    if let Some(f) = e.fee { { format!(" · fee {}", model.money(f)) } }
                </p>
                if !e.tags.is_empty() {
                    <ul class="tags" aria-label="Theme tags">{ for e.tags.iter().map(|t| html! { <li>{ t }</li> }) }</ul>
                }
                <div class="readiness" data-testid="readiness">
                    <p><strong data-testid="ready-units">{ format!("{have} of {want}") }</strong>{ " planned units on hand" }</p>
                    <p data-testid="hours-vs-time">
                        { format!("Printing needed: {} · printer time left: {}", hours_text(needed_s), hours_text(left_s)) }
                        if needed_s > left_s { <strong class="warn-line">{ " — not enough time" }</strong> }
                    </p>
                </div>
                <EventPlanForm key={format!("{}-{}", e.id.0, e.plan.len())} event={e.clone()} catalog={c.clone()} />
                <section class="gap" aria-labelledby="gap-title">
                    <h3 id="gap-title">{ "Print the gap" }</h3>
                    if jobs.is_empty() {
                        <p class="ok-line" data-testid="no-gap">{ "Nothing to print: stock and queued jobs cover the plan." }</p>
                    } else {
                        <ul class="plain-list" data-testid="gap-jobs">
                            { for jobs.iter().map(|p| html! {
                                <li>{ format!("{} × {} ({} plate{})", c.product_name(p.product_id), p.units, p.plates, if p.plates == 1 { "" } else { "s" }) }</li>
                            }) }
                        </ul>
                        <button type="button" class="primary" data-testid="make-jobs" onclick={make_jobs}>
                            { format!("Add {} print job{} to the queue", jobs.len(), if jobs.len() == 1 { "" } else { "s" }) }
                        </button>
                    }
                    if !unprintable.is_empty() {
                        <p class="warn-line">{ format!("No variant to print (buy or make by hand): {}", unprintable.iter().map(|(p, n)| format!("{} × {n}", c.product_name(*p))).collect::<Vec<_>>().join(", ")) }</p>
                    }
                    if !fil.is_empty() {
                        <table class="coverage">
                            <caption>{ "Filament needed for it" }</caption>
                            <thead><tr><th scope="col">{ "Colour" }</th><th scope="col">{ "Needed" }</th><th scope="col">{ "On hand" }</th></tr></thead>
                            <tbody>
                                { for fil.iter().map(|l| html! {
                                    <tr class={classes!((l.shortfall.0 > 0).then_some("short"))}>
                                        <th scope="row"><Swatch hex={l.hex.clone()} />{ format!("{} {}", printstall_core::domain::planning::material_label(l.material), l.colour_name) }</th>
                                        <td>{ grams(l.needed) }</td>
                                        <td>{ grams(l.on_hand) }</td>
                                    </tr>
                                }) }
                            </tbody>
                        </table>
                    }
                </section>
                <section class="packing" aria-labelledby="pack-title" data-testid="packing-list">
                    <h3 id="pack-title">{ "Packing list" }</h3>
                    <ul class="check-list">
                        { for packing.iter().map(|l| html! {
                            <li data-testid="pack-line">
                                <label>
                                    <input type="checkbox" />
                                    { format!("{} × {}", c.product_name(l.product_id), l.pack) }
                                    if l.short > 0 { <span class="warn-line">{ format!(" ({} short)", l.short) }</span> }
                                </label>
                            </li>
                        }) }
                        { for STALL_CHECKLIST.iter().map(|t| html! { <li><label><input type="checkbox" />{ *t }</label></li> }) }
                    </ul>
                </section>
                if started || report.sales > 0 {
                    <EventReportView report={report} catalog={c.clone()} />
                }
            </article>
        }
    });

    html! {
        <section class="events work">
            <div class="page-head">
                <h1>{ "Markets" }</h1>
            </div>
            if let Some(m) = &*message {
                <p class="notice" role="status" data-testid="events-message">{ m.clone() }</p>
            }
            <div class="work-grid">
                <div>
                    <section class="card" aria-labelledby="ev-list-title">
                        <h2 id="ev-list-title">{ "Events" }</h2>
                        if c.events.is_empty() {
                            <p class="hint">{ "No market planned yet." }</p>
                        }
                        <ul class="event-list">
                            { for c.events.iter().map(|e| {
                                let active = current.as_ref().is_some_and(|x| x.id == e.id);
                                let pick = { let s = selected.clone(); let id = e.id; Callback::from(move |_| s.set(Some(id))) };
                                html! {
                                    <li>
                                        <button type="button" class={classes!("event-item", active.then_some("active"))}
                                            aria-pressed={active.to_string()} data-testid="event-item" onclick={pick}>
                                            <span class="event-name">{ &e.name }</span>
                                            <span class="event-when">{ dates_text(e) }</span>
                                        </button>
                                    </li>
                                }
                            }) }
                        </ul>
                    </section>
                    <section class="card">
                        <BarChart title="Sales per event" bars={sales_bars} testid="sales-chart" />
                    </section>
                    <form class="card" onsubmit={create} aria-labelledby="new-ev-title">
                        <h2 id="new-ev-title">{ "Plan a market" }</h2>
                        <div class="field"><label for="ev-name">{ "Name" }</label><input id="ev-name" ref={name} type="text" required=true placeholder="Christmas market, old town" /></div>
                        <div class="field-row">
                            <div class="field"><label for="ev-start">{ "First day" }</label><input id="ev-start" ref={starts} type="date" required=true /></div>
                            <div class="field"><label for="ev-end">{ "Last day" }</label><input id="ev-end" ref={ends} type="date" /></div>
                        </div>
                        <div class="field"><label for="ev-place">{ "Place" }</label><input id="ev-place" ref={place} type="text" /></div>
                        <div class="field-row">
                            <div class="field"><label for="ev-fee">{ "Booth fee" }</label><input id="ev-fee" ref={fee} type="text" inputmode="decimal" placeholder="45.00" /></div>
                            <div class="field"><label for="ev-tags">{ "Theme tags" }</label><input id="ev-tags" ref={tags} type="text" placeholder="christmas, kids" /></div>
                        </div>
                        <button type="submit" class="primary">{ "Plan market" }</button>
                    </form>
                </div>
                { detail.unwrap_or_else(|| html! { <p class="hint card">{ "Plan a market to see its stock plan, what to print and what to pack." }</p> }) }
            </div>
        </section>
    }
}

//! Print queue: the open jobs in order (move up or down), start, pause, resume, finish or
//! fail each (finishing takes the grams off the spools chosen and adds the units to stock),
//! the printer hours queued, and whether the filament on hand covers the queue per
//! material and colour. Everything is written as ops, so it works offline.

use std::rc::Rc;

use printstall_core::domain::planning::{coverage, hours_text, open_needs, queue_load};
use printstall_core::domain::print_job::JobStatus;
use printstall_core::domain::{PrintJobId, VariantId};
use printstall_core::sync::OpBody;
use printstall_core::sync::op::{EntityKind, EntitySet, JobTransition};
use serde_json::{Map, json};
use uuid::Uuid;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::components::grams_bar::grams;
use crate::components::job_outcome::{JobOutcome, Outcome};
use crate::components::sign_in::SignIn;
use crate::components::swatch::Swatch;
use crate::local::{Local, use_local};
use crate::store::queries::{Catalog, JobRow};

/// Ops that swap the places of two jobs in the queue.
pub fn swap_ops(a: &JobRow, b: &JobRow, all: &[JobRow]) -> Vec<OpBody> {
    let set = |j: &JobRow, priority: i32, position: i64| {
        let mut fields = Map::new();
        fields.insert("priority".into(), json!(priority));
        fields.insert("position".into(), json!(position));
        OpBody::EntitySet(EntitySet {
            entity: EntityKind::PrintJob,
            id: j.id.0,
            fields,
        })
    };
    if (a.priority, a.position) != (b.priority, b.position) {
        return vec![
            set(a, b.priority, b.position),
            set(b, a.priority, a.position),
        ];
    }
    // Same place (made at once elsewhere): number the whole queue afresh, with a and b swapped.
    let mut order: Vec<&JobRow> = all.iter().collect();
    let (ia, ib) = (
        order.iter().position(|j| j.id == a.id),
        order.iter().position(|j| j.id == b.id),
    );
    if let (Some(ia), Some(ib)) = (ia, ib) {
        order.swap(ia, ib);
    }
    order
        .iter()
        .enumerate()
        .map(|(i, j)| set(j, 0, (i as i64 + 1) * 1024))
        .collect()
}

/// The position after every job of the queue.
pub fn next_position(jobs: &[JobRow]) -> i64 {
    jobs.iter().map(|j| j.position).max().unwrap_or(0) + 1024
}

fn status_text(s: JobStatus) -> &'static str {
    match s {
        JobStatus::Queued => "Queued",
        JobStatus::Printing => "Printing",
        JobStatus::Paused => "Paused",
        JobStatus::Done => "Done",
        JobStatus::Failed => "Failed",
        JobStatus::Cancelled => "Cancelled",
    }
}

fn record(local: &Local, ops: Vec<OpBody>, message: &UseStateHandle<Option<String>>, ok: String) {
    let message = message.clone();
    local.record(
        ops,
        Callback::from(move |r: Result<(), String>| {
            message.set(Some(match r {
                Ok(()) => ok.clone(),
                Err(e) => format!("Not saved: {e}"),
            }))
        }),
    );
}

#[function_component(Queue)]
pub fn queue() -> Html {
    let local = use_local();
    let open = use_state(|| None::<(PrintJobId, Outcome)>);
    let message = use_state(|| None::<String>);
    let new_variant = use_state(|| None::<VariantId>);
    let new_units = use_node_ref();
    let model = local.model.clone();
    if !model.ready {
        return html! { <section class="queue"><h1>{ "Print queue" }</h1><p>{ "Opening…" }</p></section> };
    }
    if !local.has_session() {
        return html! { <section class="queue"><h1>{ "Print queue" }</h1><SignIn /></section> };
    }
    let c = Rc::new(Catalog::from_state(&model.state));
    let loads = c.job_loads();
    let load = queue_load(&loads);
    let cover = coverage(&open_needs(&loads), &c.filament_infos(), &c.spool_stocks());
    let open_jobs: Vec<JobRow> = c
        .jobs
        .iter()
        .filter(|j| !j.status.is_final())
        .cloned()
        .collect();
    let done: Vec<&JobRow> = c
        .jobs
        .iter()
        .filter(|j| j.status.is_final())
        .rev()
        .take(5)
        .collect();
    let short = cover.iter().filter(|l| l.shortfall.0 > 0).count();

    let transition = |j: &JobRow, to: JobStatus, verb: &'static str| {
        let local = local.clone();
        let message = message.clone();
        let (job_id, label) = (j.id, c.job_label(j));
        Callback::from(move |_| {
            record(
                &local,
                vec![OpBody::JobTransition(JobTransition {
                    job_id,
                    to,
                    note: None,
                })],
                &message,
                format!("{verb}: {label}"),
            );
        })
    };
    let move_by = |i: usize, up: bool| {
        let other = if up { i.checked_sub(1) } else { Some(i + 1) };
        let pair = other
            .and_then(|o| open_jobs.get(o))
            .zip(open_jobs.get(i))
            .map(|(o, j)| swap_ops(j, o, &open_jobs));
        let local = local.clone();
        let message = message.clone();
        let label = open_jobs.get(i).map(|j| c.job_label(j)).unwrap_or_default();
        Callback::from(move |_| {
            if let Some(ops) = pair.clone() {
                record(
                    &local,
                    ops,
                    &message,
                    format!("Moved {} {label}", if up { "up" } else { "down" }),
                );
            }
        })
    };
    let open_form = |j: &JobRow, o: Outcome| {
        let open = open.clone();
        let id = j.id;
        Callback::from(move |_| open.set(Some((id, o))))
    };
    let on_close = {
        let open = open.clone();
        let message = message.clone();
        Callback::from(move |m: Option<String>| {
            open.set(None);
            if m.is_some() {
                message.set(m);
            }
        })
    };

    let add_job = {
        let local = local.clone();
        let message = message.clone();
        let new_variant = new_variant.clone();
        let new_units = new_units.clone();
        let position = next_position(&c.jobs);
        let plates_of = c
            .variants
            .iter()
            .map(|v| (v.id, v.parts_per_plate))
            .collect::<Vec<_>>();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(v) = *new_variant else {
                message.set(Some("Choose what to print".into()));
                return;
            };
            let units = new_units
                .cast::<HtmlInputElement>()
                .and_then(|i| i.value().trim().parse::<u32>().ok())
                .filter(|u| *u >= 1);
            let Some(units) = units else {
                message.set(Some("Units: enter a whole number, at least 1".into()));
                return;
            };
            let per_plate = plates_of
                .iter()
                .find(|(id, _)| *id == v)
                .map_or(1, |(_, p)| *p)
                .max(1);
            let mut fields = Map::new();
            fields.insert("variant_id".into(), json!(v));
            fields.insert("units".into(), json!(units));
            fields.insert("plates".into(), json!(units.div_ceil(per_plate)));
            fields.insert("priority".into(), json!(0));
            fields.insert("position".into(), json!(position));
            record(
                &local,
                vec![OpBody::EntitySet(EntitySet {
                    entity: EntityKind::PrintJob,
                    id: Uuid::now_v7(),
                    fields,
                })],
                &message,
                "Job added to the queue".into(),
            );
        })
    };

    html! {
        <section class="queue work">
            <div class="page-head">
                <h1>{ "Print queue" }</h1>
                <yew_router::prelude::Link<crate::route::Route> to={crate::route::Route::Printers} classes="head-link">{ "What printers reported" }</yew_router::prelude::Link<crate::route::Route>>
                <p class="summary" data-testid="queue-hours" data-seconds={load.seconds.to_string()}>
                    { format!("{} open job{} · {} of printing", load.jobs, if load.jobs == 1 { "" } else { "s" }, hours_text(load.seconds)) }
                    if load.untimed > 0 {
                        <span class="hint">{ format!(" ({} without a print time)", load.untimed) }</span>
                    }
                </p>
            </div>
            if local.needs_sign_in() {
                <SignIn />
            }
            if let Some(m) = &*message {
                <p class="notice" role="status" data-testid="queue-message">{ m.clone() }</p>
            }
            <div class="work-grid">
                <section class="card" aria-labelledby="jobs-title">
                    <h2 id="jobs-title">{ "Jobs in order" }</h2>
                    if open_jobs.is_empty() {
                        <p class="hint">{ "Nothing queued. Add a job below, or make jobs from an event's plan." }</p>
                    }
                    <ol class="job-list">
                        { for open_jobs.iter().enumerate().map(|(i, j)| {
                            let label = c.job_label(j);
                            let v = j.variant_id.and_then(|v| c.variant(v));
                            let secs = u64::from(v.and_then(|v| v.print_time_s).unwrap_or(0)) * u64::from(j.plates.max(1));
                            let event = j.event_id.and_then(|e| c.event(e)).map(|e| e.name.clone());
                            let form = (*open).filter(|(id, _)| *id == j.id).map(|(_, o)| o);
                            html! {
                                <li class={classes!("job-row", format!("status-{}", j.status.label()))}
                                    data-testid="job-row" data-job-id={j.id.0.to_string()} data-status={j.status.label()}>
                                    <div class="job-main">
                                        <span class="job-name">{ &label }</span>
                                        <span class="job-meta">
                                            <span class={classes!("status", j.status.label())}>{ status_text(j.status) }</span>
                                            { format!(" · {} plate{}", j.plates, if j.plates == 1 { "" } else { "s" }) }
                                            if secs > 0 { { format!(" · {}", hours_text(secs)) } }
                                            if let Some(e) = event { { format!(" · for {e}") } }
                                        </span>
                                    </div>
                                    <div class="job-actions">
                                        <button type="button" class="icon" aria-label={format!("Move {label} up")} disabled={i == 0} onclick={move_by(i, true)}>{ "↑" }</button>
                                        <button type="button" class="icon" aria-label={format!("Move {label} down")} disabled={i + 1 == open_jobs.len()} onclick={move_by(i, false)}>{ "↓" }</button>
                                        if j.status == JobStatus::Queued {
                                            <button type="button" class="secondary" onclick={transition(j, JobStatus::Printing, "Started")}>{ "Start" }</button>
                                        }
                                        if j.status == JobStatus::Printing {
                                            <button type="button" class="secondary" onclick={transition(j, JobStatus::Paused, "Paused")}>{ "Pause" }</button>
                                        }
                                        if j.status == JobStatus::Paused {
                                            <button type="button" class="secondary" onclick={transition(j, JobStatus::Printing, "Resumed")}>{ "Resume" }</button>
                                        }
                                        <button type="button" onclick={open_form(j, Outcome::Finish)} data-testid="finish-job">{ "Finish" }</button>
                                        <button type="button" class="danger" onclick={open_form(j, Outcome::Fail)}>{ "Fail" }</button>
                                        <button type="button" class="link-button" onclick={transition(j, JobStatus::Cancelled, "Cancelled")}>{ "Cancel" }</button>
                                    </div>
                                    if let Some(o) = form {
                                        <JobOutcome key={format!("{}-{}", j.id.0, o == Outcome::Finish)} job={j.clone()} outcome={o} catalog={c.clone()} on_close={on_close.clone()} />
                                    }
                                </li>
                            }
                        }) }
                    </ol>
                    <form class="add-job" onsubmit={add_job} aria-labelledby="add-job-title">
                        <h3 id="add-job-title">{ "Add a job" }</h3>
                        <div class="field-row">
                            <div class="field">
                                <label for="nj-variant">{ "What to print" }</label>
                                <select id="nj-variant" onchange={{ let nv = new_variant.clone(); Callback::from(move |e: Event| {
                                    if let Some(s) = e.target_dyn_into::<HtmlSelectElement>() {
                                        nv.set(Uuid::parse_str(&s.value()).ok().map(VariantId));
                                    }
                                }) }}>
                                    <option value="">{ "Choose a variant" }</option>
                                    { for c.variants.iter().map(|v| html! {
                                        <option value={v.id.0.to_string()} selected={*new_variant == Some(v.id)}>{ v.label() }</option>
                                    }) }
                                </select>
                            </div>
                            <div class="field">
                                <label for="nj-units">{ "Units" }</label>
                                <input id="nj-units" ref={new_units} type="number" inputmode="numeric" min="1" value="1" />
                            </div>
                        </div>
                        <button type="submit" class="secondary">{ "Add to queue" }</button>
                    </form>
                </section>
                <section class="card" aria-labelledby="cover-title" data-testid="coverage">
                    <h2 id="cover-title">{ "Filament for the queue" }</h2>
                    if cover.is_empty() {
                        <p class="hint">{ "The open jobs need no filament that is known." }</p>
                    } else if short == 0 {
                        <p class="ok-line">{ "The filament on hand covers the queue." }</p>
                    } else {
                        <p class="warn-line" role="alert">{ format!("Short of {short} colour{}: buy or swap filament.", if short == 1 { "" } else { "s" }) }</p>
                    }
                    <table class="coverage">
                        <thead><tr><th scope="col">{ "Material and colour" }</th><th scope="col">{ "Needed" }</th><th scope="col">{ "On hand" }</th><th scope="col">{ "Short" }</th></tr></thead>
                        <tbody>
                            { for cover.iter().map(|l| html! {
                                <tr class={classes!((l.shortfall.0 > 0).then_some("short"))} data-testid="coverage-row">
                                    <th scope="row"><Swatch hex={l.hex.clone()} />{ format!("{} {}", printstall_core::domain::planning::material_label(l.material), l.colour_name) }</th>
                                    <td>{ grams(l.needed) }</td>
                                    <td>{ grams(l.on_hand) }</td>
                                    <td data-testid="shortfall">{ if l.shortfall.0 > 0 { grams(l.shortfall) } else { "—".into() } }</td>
                                </tr>
                            }) }
                        </tbody>
                    </table>
                    if !done.is_empty() {
                        <h3>{ "Recently ended" }</h3>
                        <ul class="done-list">
                            { for done.iter().map(|j| html! {
                                <li data-testid="done-job" data-status={j.status.label()}>{ format!("{} · {}", c.job_label(j), status_text(j.status)) }</li>
                            }) }
                        </ul>
                    }
                </section>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn job(n: u128, priority: i32, position: i64) -> JobRow {
        JobRow {
            id: PrintJobId(Uuid::from_u128(n)),
            variant_id: None,
            units: 1,
            plates: 1,
            priority,
            position,
            event_id: None,
            status: JobStatus::Queued,
            notes: None,
        }
    }

    fn place(op: &OpBody) -> (Uuid, i64, i64) {
        let OpBody::EntitySet(s) = op else {
            panic!("not a set")
        };
        (
            s.id,
            s.fields["priority"].as_i64().unwrap(),
            s.fields["position"].as_i64().unwrap(),
        )
    }

    #[test]
    fn moving_swaps_places() {
        let all = vec![job(1, 1, 5), job(2, 0, 10), job(3, 0, 20)];
        let ops = swap_ops(&all[1], &all[0], &all);
        assert_eq!(
            ops.iter().map(place).collect::<Vec<_>>(),
            vec![(Uuid::from_u128(2), 1, 5), (Uuid::from_u128(1), 0, 10)]
        );
        // Same place: the whole queue is numbered afresh with the two swapped.
        let all = vec![job(1, 0, 7), job(2, 0, 7), job(3, 0, 9)];
        let ops = swap_ops(&all[1], &all[0], &all);
        assert_eq!(
            ops.iter().map(place).collect::<Vec<_>>(),
            vec![
                (Uuid::from_u128(2), 0, 1024),
                (Uuid::from_u128(1), 0, 2048),
                (Uuid::from_u128(3), 0, 3072)
            ]
        );
        assert_eq!(next_position(&all), 9 + 1024);
    }
}

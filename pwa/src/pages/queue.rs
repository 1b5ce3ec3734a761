//! Print queue: the open jobs in order (drag a job by its handle, with a finger or a mouse,
//! or move it up or down with the buttons, which the keyboard reaches), start, pause, resume, finish or
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
use crate::hooks::use_printer_reports::{JobReports, use_printer_reports};
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

fn place_op(j: &JobRow, priority: i32, position: i64) -> OpBody {
    let mut fields = Map::new();
    fields.insert("priority".into(), json!(priority));
    fields.insert("position".into(), json!(position));
    OpBody::EntitySet(EntitySet {
        entity: EntityKind::PrintJob,
        id: j.id.0,
        fields,
    })
}

/// Ops that move the job at `from` to index `to` of the queue (`all`, in queue order), the
/// others keeping their order: one op giving the moved job a place between its new
/// neighbours, or, where there is no room between them, the whole queue numbered afresh.
pub fn move_ops(all: &[JobRow], from: usize, to: usize) -> Vec<OpBody> {
    if from == to || from >= all.len() || to >= all.len() {
        return Vec::new();
    }
    let mut order: Vec<&JobRow> = all.iter().collect();
    let moved = order.remove(from);
    order.insert(to, moved);
    let prev = to.checked_sub(1).and_then(|i| order.get(i));
    let next = order.get(to + 1);
    let place = match (prev, next) {
        (Some(p), Some(n)) if p.priority == n.priority => {
            let gap = n.position.saturating_sub(p.position);
            (gap >= 2).then(|| (p.priority, p.position + gap / 2))
        }
        // The last of its priority: after it is still before every job of a lower one.
        (Some(p), Some(_)) => Some((p.priority, p.position.saturating_add(1024))),
        (Some(p), None) => Some((p.priority, p.position.saturating_add(1024))),
        (None, Some(n)) => Some((n.priority, n.position.saturating_sub(1024))),
        (None, None) => None,
    };
    match place {
        Some((priority, position)) => vec![place_op(moved, priority, position)],
        None => order
            .iter()
            .enumerate()
            .map(|(i, j)| place_op(j, 0, (i as i64 + 1) * 1024))
            .collect(),
    }
}

/// A drag of a job by its handle: where it started and where it would land.
#[derive(Debug, Clone, PartialEq)]
struct Drag {
    from: usize,
    to: usize,
    start_y: f64,
    dy: f64,
    /// The rows' vertical middles when the drag started.
    mids: Vec<f64>,
}

/// Where a job dragged from `from` lands with the pointer at `y`: after every other row
/// whose middle is above the pointer.
pub fn drop_index(mids: &[f64], from: usize, y: f64) -> usize {
    mids.iter()
        .enumerate()
        .filter(|(i, m)| *i != from && **m < y)
        .count()
}

fn handle_of(e: &PointerEvent) -> Option<web_sys::Element> {
    e.target_dyn_into::<web_sys::Element>()
        .and_then(|t| t.closest(".drag-handle").ok().flatten())
}

/// What a running job's printer reported, under the job: the printer, then each spool's
/// filament and grams.
fn reported_line(r: &JobReports, c: &Catalog) -> Html {
    let spools: Vec<String> = r
        .spools
        .iter()
        .map(|(spool, g)| {
            let what = c
                .spools
                .iter()
                .find(|s| s.id == *spool)
                .and_then(|s| c.filament(s.filament_id))
                .map_or_else(|| "a spool".to_owned(), |f| f.label());
            format!("{} of {what}", grams(*g))
        })
        .collect();
    html! {
        <p class="job-reported" data-testid="job-printer-report">
            { format!("{} reported {}", r.printer_name, spools.join(", ")) }
        </p>
    }
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
    let drag = use_state(|| None::<Drag>);
    // The drag as the pointer handlers see it (a pointer-up may come before the re-render).
    let live_drag = use_mut_ref(|| None::<Drag>);
    let list = use_node_ref();
    let (reports, reports_live) = use_printer_reports(local.access_token());
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
    // Drag to reorder (pointer events: a finger or a mouse); ↑ and ↓ do the same by key.
    let on_down = |i: usize| {
        let drag = drag.clone();
        let live = live_drag.clone();
        let list = list.clone();
        Callback::from(move |e: PointerEvent| {
            if !e.is_primary() || e.button() > 0 {
                return;
            }
            let (Some(handle), Some(ol)) = (handle_of(&e), list.cast::<web_sys::Element>()) else {
                return;
            };
            e.prevent_default();
            let _ = handle.set_pointer_capture(e.pointer_id());
            let rows = ol.children();
            let mids = (0..rows.length())
                .filter_map(|k| rows.item(k))
                .map(|r| {
                    let b = r.get_bounding_client_rect();
                    (b.top() + b.bottom()) / 2.0
                })
                .collect();
            let d = Drag {
                from: i,
                to: i,
                start_y: f64::from(e.client_y()),
                dy: 0.0,
                mids,
            };
            *live.borrow_mut() = Some(d.clone());
            drag.set(Some(d));
        })
    };
    let on_move = {
        let drag = drag.clone();
        let live = live_drag.clone();
        Callback::from(move |e: PointerEvent| {
            let Some(d) = live.borrow().clone() else {
                return;
            };
            e.prevent_default();
            let y = f64::from(e.client_y());
            let to = drop_index(&d.mids, d.from, y);
            let d = Drag {
                to,
                dy: y - d.start_y,
                ..d
            };
            *live.borrow_mut() = Some(d.clone());
            drag.set(Some(d));
        })
    };
    let on_up = {
        let drag = drag.clone();
        let live = live_drag.clone();
        let local = local.clone();
        let message = message.clone();
        let jobs = open_jobs.clone();
        let labels: Vec<String> = open_jobs.iter().map(|j| c.job_label(j)).collect();
        Callback::from(move |e: PointerEvent| {
            let Some(d) = live.borrow_mut().take() else {
                return;
            };
            drag.set(None);
            if let Some(h) = handle_of(&e) {
                let _ = h.release_pointer_capture(e.pointer_id());
            }
            let ops = move_ops(&jobs, d.from, d.to);
            if !ops.is_empty() {
                let label = labels.get(d.from).cloned().unwrap_or_default();
                record(
                    &local,
                    ops,
                    &message,
                    format!("Moved {label} to place {}", d.to + 1),
                );
            }
        })
    };
    let on_cancel = {
        let drag = drag.clone();
        let live = live_drag.clone();
        Callback::from(move |_: PointerEvent| {
            live.borrow_mut().take();
            drag.set(None);
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
                    <ol class={classes!("job-list", drag.is_some().then_some("dragging-list"))} ref={list.clone()} data-testid="job-list">
                        { for open_jobs.iter().enumerate().map(|(i, j)| {
                            let label = c.job_label(j);
                            let v = j.variant_id.and_then(|v| c.variant(v));
                            let secs = u64::from(v.and_then(|v| v.print_time_s).unwrap_or(0)) * u64::from(j.plates.max(1));
                            let event = j.event_id.and_then(|e| c.event(e)).map(|e| e.name.clone());
                            let form = (*open).filter(|(id, _)| *id == j.id).map(|(_, o)| o);
                            let d = (*drag).as_ref();
                            let dragging = d.is_some_and(|d| d.from == i);
                            let landing = d.filter(|d| d.to == i && d.from != i).map(|d| if d.to < d.from { "drop-before" } else { "drop-after" });
                            html! {
                                <li key={j.id.0.to_string()} class={classes!("job-row", format!("status-{}", j.status.label()), dragging.then_some("dragging"), landing)}
                                    style={d.filter(|_| dragging).map(|d| format!("transform:translateY({}px)", d.dy.round()))}
                                    data-testid="job-row" data-job-id={j.id.0.to_string()} data-status={j.status.label()}>
                                    <span class="drag-handle" aria-hidden="true" title="Drag to reorder" data-testid="drag-handle"
                                        onpointerdown={on_down(i)} onpointermove={on_move.clone()} onpointerup={on_up.clone()}
                                        onpointercancel={on_cancel.clone()}>{ "⠿" }</span>
                                    <div class="job-main">
                                        <span class="job-name">{ &label }</span>
                                        <span class="job-meta">
                                            <span class={classes!("status", j.status.label())}>{ status_text(j.status) }</span>
                                            { format!(" · {} plate{}", j.plates, if j.plates == 1 { "" } else { "s" }) }
                                            if secs > 0 { { format!(" · {}", hours_text(secs)) } }
                                            if let Some(e) = event { { format!(" · for {e}") } }
                                        </span>
                                        if let Some(r) = reports.get(&j.id) {
                                            { reported_line(r, &c) }
                                        }
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
                                        <JobOutcome key={format!("{}-{}", j.id.0, o == Outcome::Finish)} job={j.clone()} outcome={o} catalog={c.clone()} on_close={on_close.clone()}
                                            reported={reports.get(&j.id).cloned()} reports_live={reports_live} />
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

    /// The queue order after applying place ops (as the catalogue sorts it).
    fn after(all: &[JobRow], ops: &[OpBody]) -> Vec<u128> {
        let mut jobs = all.to_vec();
        for op in ops {
            let (id, priority, position) = place(op);
            let j = jobs.iter_mut().find(|j| j.id.0 == id).unwrap();
            j.priority = priority as i32;
            j.position = position;
        }
        jobs.sort_by(|a, b| {
            b.priority
                .cmp(&a.priority)
                .then(a.position.cmp(&b.position))
                .then(a.id.cmp(&b.id))
        });
        jobs.iter().map(|j| j.id.0.as_u128()).collect()
    }

    #[test]
    fn dragging_moves_one_job_between_its_new_neighbours() {
        let all = vec![
            job(1, 0, 1024),
            job(2, 0, 2048),
            job(3, 0, 3072),
            job(4, 0, 4096),
        ];
        // Last to first, first to last, and into the middle: one op each.
        for (from, to, want) in [
            (3, 0, vec![4, 1, 2, 3]),
            (0, 3, vec![2, 3, 4, 1]),
            (0, 2, vec![2, 3, 1, 4]),
            (3, 1, vec![1, 4, 2, 3]),
        ] {
            let ops = move_ops(&all, from, to);
            assert_eq!(ops.len(), 1, "{from} → {to}");
            assert_eq!(after(&all, &ops), want, "{from} → {to}");
        }
        assert!(move_ops(&all, 2, 2).is_empty());
        assert!(move_ops(&all, 9, 0).is_empty());
        // Across priorities: it takes the priority of the job it lands after.
        let all = vec![job(1, 5, 10), job(2, 0, 20), job(3, 0, 30)];
        let ops = move_ops(&all, 2, 1);
        assert_eq!(after(&all, &ops), vec![1, 3, 2]);
        assert_eq!(place(&ops[0]), (Uuid::from_u128(3), 5, 10 + 1024));
        // No room between the neighbours: the queue is numbered afresh.
        let all = vec![job(1, 0, 7), job(2, 0, 8), job(3, 0, 9)];
        let ops = move_ops(&all, 2, 1);
        assert_eq!(ops.len(), 3);
        assert_eq!(after(&all, &ops), vec![1, 3, 2]);
    }

    #[test]
    fn the_drop_lands_after_the_rows_above_the_pointer() {
        let mids = [20.0, 60.0, 100.0, 140.0];
        assert_eq!(drop_index(&mids, 3, 0.0), 0);
        assert_eq!(drop_index(&mids, 3, 70.0), 2);
        assert_eq!(drop_index(&mids, 0, 70.0), 1);
        assert_eq!(drop_index(&mids, 0, 500.0), 3);
        assert_eq!(drop_index(&mids, 1, 30.0), 1);
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

//! Finish or fail a print job: choose the spools it used and the grams (filled in from
//! the sliced file's grams per unit times the units), and, when finishing, the units made.
//! One tap records it as one op; finishing adds the units to stock and takes the grams off
//! the spools, failing records the grams as waste. When the job's printer reported its use
//! through the Spoolman API, the form offers those grams instead (chosen by default): the
//! op's lines then say `reported`, and the spools, which the printer's reports already
//! took the grams from, lose nothing more.

use std::rc::Rc;

use printstall_core::domain::Centigrams;
use printstall_core::domain::SpoolId;
use printstall_core::sync::OpBody;
use printstall_core::sync::op::{JobFail, JobFinish, Produced, SpoolGrams};
use uuid::Uuid;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::components::grams_bar::grams;
use crate::hooks::use_printer_reports::JobReports;
use crate::local::use_local;
use crate::store::queries::{Catalog, JobRow};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Finish,
    Fail,
}

#[derive(Properties, PartialEq)]
pub struct JobOutcomeProps {
    pub job: JobRow,
    pub outcome: Outcome,
    pub catalog: Rc<Catalog>,
    /// Called after the op is recorded (or the form is closed).
    pub on_close: Callback<Option<String>>,
    /// What the job's printer reported while it ran, when known.
    #[prop_or_default]
    pub reported: Option<JobReports>,
    /// Whether printer reports could be read (online).
    #[prop_or(true)]
    pub reports_live: bool,
}

#[derive(Clone, PartialEq)]
struct Row {
    /// What the sliced file says this filament is (for the label).
    what: String,
    spool: Option<SpoolId>,
    grams: String,
}

fn initial_rows(job: &JobRow, c: &Catalog) -> Vec<Row> {
    let needs = job
        .variant_id
        .and_then(|v| c.variant(v))
        .map(|v| v.needs.clone())
        .unwrap_or_default();
    let mut rows: Vec<Row> = needs
        .iter()
        .map(|n| {
            // The spool of that filament with the most left.
            let spool = c
                .spools
                .iter()
                .filter(|s| s.filament_id == n.filament_id)
                .max_by_key(|s| s.left)
                .map(|s| s.id);
            let total = Centigrams(n.per_unit_cg.0.saturating_mul(i64::from(job.units)));
            Row {
                what: c
                    .filament(n.filament_id)
                    .map_or_else(|| "Filament".into(), |f| f.label()),
                spool,
                grams: total.to_grams_string().trim_end_matches(" g").to_owned(),
            }
        })
        .collect();
    if rows.is_empty() {
        rows.push(Row {
            what: "Filament".into(),
            spool: None,
            grams: String::new(),
        });
    }
    rows
}

#[function_component(JobOutcome)]
pub fn job_outcome(props: &JobOutcomeProps) -> Html {
    let local = use_local();
    let rows = {
        let (job, c) = (props.job.clone(), props.catalog.clone());
        use_state(move || initial_rows(&job, &c))
    };
    let units = use_state(|| props.job.units.to_string());
    let reason = use_state(String::new);
    let error = use_state(|| None::<String>);
    // Take the printer's grams when it reported any (the user can switch to the estimate).
    let use_reported = use_state(|| {
        props
            .reported
            .as_ref()
            .is_some_and(|r| !r.spools.is_empty())
    });
    let c = &props.catalog;
    let job = &props.job;
    let id = job.id.0.simple().to_string();
    let finishing = props.outcome == Outcome::Finish;
    let product = job
        .variant_id
        .and_then(|v| c.product_of_variant(v))
        .cloned();

    let onsubmit = {
        let (rows, units, reason, error) =
            (rows.clone(), units.clone(), reason.clone(), error.clone());
        let local = local.clone();
        let on_close = props.on_close.clone();
        let (job_id, outcome, product) = (job.id, props.outcome, product.clone());
        let label = c.job_label(job);
        let reported = props
            .reported
            .clone()
            .filter(|_| *use_reported)
            .map(|r| r.spools);
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let mut spools: Vec<SpoolGrams> = Vec::new();
            // The printer's lines, or the rows of the form.
            for (spool_id, g) in reported.iter().flatten() {
                spools.push(SpoolGrams {
                    spool_id: *spool_id,
                    used_cg: *g,
                    reported: true,
                });
            }
            for r in rows.iter().filter(|_| reported.is_none()) {
                let text = r.grams.trim();
                if text.is_empty() {
                    continue;
                }
                let Some(g) = Centigrams::parse_grams(text).filter(|g| g.0 > 0) else {
                    error.set(Some(format!(
                        "Grams of {}: enter a number like 42.5",
                        r.what
                    )));
                    return;
                };
                let Some(spool_id) = r.spool else {
                    error.set(Some(format!("Choose the spool used for {}", r.what)));
                    return;
                };
                match spools.iter_mut().find(|s| s.spool_id == spool_id) {
                    Some(s) => s.used_cg = Centigrams(s.used_cg.0 + g.0),
                    None => spools.push(SpoolGrams {
                        spool_id,
                        used_cg: g,
                        reported: false,
                    }),
                }
            }
            let body = match outcome {
                Outcome::Finish => {
                    let Some(q) = units.trim().parse::<u32>().ok().filter(|q| *q >= 1) else {
                        error.set(Some("Units made: enter a whole number, at least 1".into()));
                        return;
                    };
                    OpBody::JobFinish(JobFinish {
                        job_id,
                        produced: product
                            .as_ref()
                            .map(|p| Produced {
                                product_id: p.id,
                                quantity: q,
                            })
                            .into_iter()
                            .collect(),
                        spools,
                    })
                }
                Outcome::Fail => {
                    if reason.trim().is_empty() {
                        error.set(Some(
                            "Say what went wrong (e.g. spaghetti, layer shift)".into(),
                        ));
                        return;
                    }
                    OpBody::JobFail(JobFail {
                        job_id,
                        reason: reason.trim().to_owned(),
                        spools,
                    })
                }
            };
            let (error, on_close, label) = (error.clone(), on_close.clone(), label.clone());
            local.record(
                vec![body],
                Callback::from(move |r: Result<(), String>| match r {
                    Ok(()) => on_close.emit(Some(match outcome {
                        Outcome::Finish => format!("Finished: {label}"),
                        Outcome::Fail => format!("Failure recorded: {label}"),
                    })),
                    Err(e) => error.set(Some(format!("Not recorded: {e}"))),
                }),
            );
        })
    };

    let set_spool = |i: usize| {
        let rows = rows.clone();
        Callback::from(move |e: Event| {
            if let Some(s) = e.target_dyn_into::<HtmlSelectElement>() {
                let mut v = (*rows).clone();
                if let Some(r) = v.get_mut(i) {
                    r.spool = Uuid::parse_str(&s.value()).ok().map(SpoolId);
                }
                rows.set(v);
            }
        })
    };
    let set_grams = |i: usize| {
        let rows = rows.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(s) = e.target_dyn_into::<HtmlInputElement>() {
                let mut v = (*rows).clone();
                if let Some(r) = v.get_mut(i) {
                    r.grams = s.value();
                }
                rows.set(v);
            }
        })
    };
    let add_row = {
        let rows = rows.clone();
        Callback::from(move |_| {
            let mut v = (*rows).clone();
            v.push(Row {
                what: format!("Filament {}", v.len() + 1),
                spool: None,
                grams: String::new(),
            });
            rows.set(v);
        })
    };
    let close = {
        let on_close = props.on_close.clone();
        Callback::from(move |_| on_close.emit(None))
    };
    let title = if finishing {
        "Finish job"
    } else {
        "Job failed"
    };

    html! {
        <form class="job-outcome card" {onsubmit} aria-label={format!("{title}: {}", c.job_label(job))}
            data-testid={if finishing { "finish-form" } else { "fail-form" }}>
            <h3>{ title }</h3>
            if finishing {
                <div class="field">
                    <label for={format!("units-{id}")}>
                        { match &product { Some(p) => format!("Units of {} made", p.name), None => "Units made".into() } }
                    </label>
                    <input id={format!("units-{id}")} type="number" inputmode="numeric" min="1"
                        value={(*units).clone()}
                        oninput={{ let units = units.clone(); Callback::from(move |e: InputEvent| {
                            if let Some(i) = e.target_dyn_into::<HtmlInputElement>() { units.set(i.value()); }
                        }) }} />
                    if product.is_none() {
                        <p class="hint">{ "No product is made from this variant: stock does not change." }</p>
                    }
                </div>
            } else {
                <div class="field">
                    <label for={format!("reason-{id}")}>{ "What went wrong" }</label>
                    <input id={format!("reason-{id}")} type="text" value={(*reason).clone()} placeholder="Spaghetti, layer shift…"
                        oninput={{ let reason = reason.clone(); Callback::from(move |e: InputEvent| {
                            if let Some(i) = e.target_dyn_into::<HtmlInputElement>() { reason.set(i.value()); }
                        }) }} />
                </div>
            }
            if let Some(r) = props.reported.as_ref().filter(|r| !r.spools.is_empty()) {
                <div class="field check-field">
                    <input id={format!("use-reported-{id}")} type="checkbox" checked={*use_reported}
                        data-testid="use-printer-grams"
                        onchange={{ let u = use_reported.clone(); Callback::from(move |e: Event| {
                            if let Some(i) = e.target_dyn_into::<HtmlInputElement>() { u.set(i.checked()); }
                        }) }} />
                    <label for={format!("use-reported-{id}")}>
                        { format!("Use what {} reported: {} (already taken off the spool{})",
                            r.printer_name, grams(r.total()), if r.spools.len() == 1 { "" } else { "s" }) }
                    </label>
                </div>
            } else if !props.reports_live {
                <p class="hint">{ "Offline: what a printer reported is not known here, so the sliced file's grams are filled in." }</p>
            }
            <fieldset class="spools-used" hidden={*use_reported && props.reported.is_some()}>
                <legend>{ if finishing { "Filament used" } else { "Filament wasted" } }</legend>
                { for rows.iter().enumerate().map(|(i, r)| html! {
                    <div class="field-row">
                        <div class="field">
                            <label for={format!("spool-{id}-{i}")}>{ format!("Spool for {}", r.what) }</label>
                            <select id={format!("spool-{id}-{i}")} onchange={set_spool(i)}>
                                <option value="" selected={r.spool.is_none()}>{ "Choose a spool" }</option>
                                { for c.spools.iter().map(|s| {
                                    let f = c.filament(s.filament_id).map(|f| f.label()).unwrap_or_default();
                                    let loc = s.location.as_deref().map(|l| format!(", {l}")).unwrap_or_default();
                                    html! {
                                        <option value={s.id.0.to_string()} selected={r.spool == Some(s.id)}>
                                            { format!("{f} ({} left{loc})", grams(s.left)) }
                                        </option>
                                    }
                                }) }
                            </select>
                        </div>
                        <div class="field">
                            <label for={format!("grams-{id}-{i}")}>{ format!("Grams of {}", r.what) }</label>
                            <input id={format!("grams-{id}-{i}")} type="text" inputmode="decimal" value={r.grams.clone()} oninput={set_grams(i)} />
                        </div>
                    </div>
                }) }
                <button type="button" class="secondary" onclick={add_row}>{ "Add another spool" }</button>
            </fieldset>
            if let Some(e) = &*error {
                <p class="form-error" role="alert">{ e.clone() }</p>
            }
            <div class="actions">
                <button type="submit" class="primary" data-testid="confirm-outcome">
                    { if finishing { "Record finish" } else { "Record failure" } }
                </button>
                <button type="button" class="secondary" onclick={close}>{ "Close" }</button>
            </div>
        </form>
    }
}

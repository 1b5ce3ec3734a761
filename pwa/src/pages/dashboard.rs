//! Today: the first screen. The queue's next jobs and its hours, products low or below
//! zero, colours of filament running low, the next market and how ready it is, and the
//! sync state. Read from the local store only, so it opens offline.

use printstall_core::domain::planning::{
    filament_stock, gap_jobs, hours_text, material_label, queue_load, readiness,
};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::components::grams_bar::grams;
use crate::components::sign_in::SignIn;
use crate::components::swatch::Swatch;
use crate::local::use_local;
use crate::route::Route;
use crate::store::queries::{Catalog, today};

#[function_component(Dashboard)]
pub fn dashboard() -> Html {
    let local = use_local();
    let model = local.model.clone();
    if !model.ready {
        return html! { <section class="dashboard"><h1>{ "Today" }</h1><p>{ "Opening…" }</p></section> };
    }
    if !local.has_session() {
        return html! { <section class="dashboard"><h1>{ "Today" }</h1><SignIn /></section> };
    }
    let c = Catalog::from_state(&model.state);
    let load = queue_load(&c.job_loads());
    let next_jobs: Vec<_> = c
        .jobs
        .iter()
        .filter(|j| !j.status.is_final())
        .take(4)
        .collect();
    let low_stock: Vec<_> = c
        .products
        .iter()
        .filter(|p| p.level.low || p.level.negative)
        .collect();
    let low_filament: Vec<_> = filament_stock(&c.filament_infos(), &c.spool_stocks())
        .into_iter()
        .filter(|l| l.low)
        .collect();
    let today = today();
    let next_event = c
        .events
        .iter()
        .find(|e| e.ends_on.or(e.starts_on).is_some_and(|d| d >= today));
    let waiting = model.snap.outbox.len();
    let rejected = model.rejected().len();
    let sync_text = if local.status.running {
        "Syncing now".to_owned()
    } else if waiting > 0 {
        format!(
            "{waiting} change{} waiting to be sent",
            if waiting == 1 { "" } else { "s" }
        )
    } else if model.snap.sync.last_synced_ms.is_some() {
        "Everything is sent".to_owned()
    } else {
        "Not synced yet".to_owned()
    };

    html! {
        <section class="dashboard work">
            <div class="page-head">
                <h1>{ "Today" }</h1>
            </div>
            if local.needs_sign_in() {
                <SignIn />
            }
            <div class="dash-grid">
                <section class="card" aria-labelledby="d-queue" data-testid="dash-queue">
                    <h2 id="d-queue">{ "Print queue" }</h2>
                    <p class="big">{ format!("{} job{} · {}", load.jobs, if load.jobs == 1 { "" } else { "s" }, hours_text(load.seconds)) }</p>
                    <ol class="plain-list">
                        { for next_jobs.iter().map(|j| html! { <li>{ format!("{} · {}", c.job_label(j), j.status.label()) }</li> }) }
                    </ol>
                    <Link<Route> to={Route::Queue} classes="more-link">{ "Open the queue" }</Link<Route>>
                </section>
                <section class="card" aria-labelledby="d-event" data-testid="dash-event">
                    <h2 id="d-event">{ "Next market" }</h2>
                    if let Some(e) = next_event {
                        <p class="big">{ &e.name }</p>
                        <p>{ e.starts_on.map(|d| d.to_string()).unwrap_or_default() }
                            if let Some(l) = &e.location { { format!(" · {l}") } }</p>
                        {{
                            let needs = c.plan_needs(e);
                            let (have, want) = readiness(&needs);
                            let (jobs, _) = gap_jobs(&needs);
                            let pct = (have * 100).checked_div(want).unwrap_or(0);
                            html! {
                                <>
                                    <div class="bar" role="meter" aria-label="Planned units on hand" aria-valuemin="0" aria-valuemax={want.to_string()} aria-valuenow={have.to_string()}>
                                        <span class="fill" style={format!("width:{pct}%")}></span>
                                    </div>
                                    <p data-testid="dash-readiness">
                                        { if want == 0 { "No stock plan yet".to_owned() } else { format!("{have} of {want} planned units ready") } }
                                        if !jobs.is_empty() { { format!(" · {} job{} to print", jobs.len(), if jobs.len() == 1 { "" } else { "s" }) } }
                                    </p>
                                </>
                            }
                        }}
                    } else {
                        <p class="hint">{ "No market planned." }</p>
                    }
                    <Link<Route> to={Route::Events} classes="more-link">{ "Plan markets" }</Link<Route>>
                </section>
                <section class="card" aria-labelledby="d-stock" data-testid="dash-low-stock">
                    <h2 id="d-stock">{ "Low stock" }</h2>
                    if low_stock.is_empty() {
                        <p class="ok-line">{ "Nothing is low." }</p>
                    }
                    <ul class="plain-list">
                        { for low_stock.iter().take(6).map(|p| html! {
                            <li class={classes!(p.level.negative.then_some("warn-line"))}>{ format!("{}: {} on hand", p.name, p.level.on_hand) }</li>
                        }) }
                    </ul>
                    <Link<Route> to={Route::Stock} classes="more-link">{ "Open stock" }</Link<Route>>
                </section>
                <section class="card" aria-labelledby="d-fil" data-testid="dash-low-filament">
                    <h2 id="d-fil">{ "Low filament" }</h2>
                    if low_filament.is_empty() {
                        <p class="ok-line">{ "Every colour has enough." }</p>
                    }
                    <ul class="plain-list">
                        { for low_filament.iter().take(6).map(|l| html! {
                            <li><Swatch hex={l.hex.clone()} />{ format!("{} {}: {} left", material_label(l.material), l.colour_name, grams(l.on_hand)) }</li>
                        }) }
                    </ul>
                    <Link<Route> to={Route::Filament} classes="more-link">{ "Open filament" }</Link<Route>>
                </section>
                <section class="card" aria-labelledby="d-sync" data-testid="dash-sync">
                    <h2 id="d-sync">{ "Sync" }</h2>
                    <p>{ sync_text }</p>
                    if rejected > 0 {
                        <p class="warn-line">{ format!("{rejected} change{} refused by the server: see the sync panel at the top", if rejected == 1 { " was" } else { "s were" }) }</p>
                    }
                    if let Some(e) = &local.error {
                        <p class="warn-line">{ e.clone() }</p>
                    }
                </section>
            </div>
        </section>
    }
}

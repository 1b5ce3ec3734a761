//! The top bar's sync state: changes waiting, last synced, and rejected changes (with a
//! panel that lists them and their reasons).

use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::local::use_local;
use crate::sync::SyncError;

fn clock_time(ms: f64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
    format!("{:02}:{:02}", d.get_hours(), d.get_minutes())
}

#[function_component(SyncStatusBar)]
pub fn sync_status_bar() -> Html {
    let local = use_local();
    let open = use_state(|| false);
    let model = &local.model;
    if !local.has_session() {
        return html! {};
    }
    let waiting = model.snap.outbox.len();
    let rejected = model.rejected();
    let summary = if local.status.running {
        "Syncing…".to_owned()
    } else if waiting > 0 {
        format!("{waiting} waiting")
    } else if let Some(ms) = model.snap.sync.last_synced_ms {
        format!("Synced {}", clock_time(ms))
    } else {
        "Not synced yet".to_owned()
    };
    let toggle = {
        let open = open.clone();
        Callback::from(move |_| open.set(!*open))
    };
    let problem = match &local.status.error {
        Some(SyncError::Offline) | None => None,
        Some(e) => Some(e.message()),
    };
    html! {
        <div class="sync-status">
            <button type="button" class={classes!("sync-button", (!rejected.is_empty()).then_some("has-rejected"))}
                aria-expanded={(*open).to_string()} aria-controls="sync-panel" onclick={toggle}
                data-testid="sync-status">
                <span data-testid="pending-count" data-count={waiting.to_string()}>{ summary }</span>
                if !rejected.is_empty() {
                    <span class="rejected-count" data-testid="rejected-count">{ format!(" · {} rejected", rejected.len()) }</span>
                }
            </button>
            if *open {
                <div id="sync-panel" class="sync-panel card" role="region" aria-label="Sync details">
                    <p>{ format!("{waiting} change(s) waiting to be sent.") }</p>
                    if let Some(ms) = model.snap.sync.last_synced_ms {
                        <p>{ format!("Last synced at {}.", clock_time(ms)) }</p>
                    }
                    if let Some(p) = problem {
                        <p class="error" role="alert">{ p }</p>
                    }
                    <button type="button" onclick={{ let l = local.clone(); Callback::from(move |_| l.sync_now()) }}>{ "Sync now" }</button>
                    if !rejected.is_empty() {
                        <h3>{ "Changes the server refused" }</h3>
                        <ul class="rejected-list">
                            { for rejected.iter().map(|a| {
                                let id = a.op.op_id;
                                let store = local.store.clone();
                                let reload = local.reload.clone();
                                let dismiss = Callback::from(move |_| {
                                    if let Some(s) = store.clone() {
                                        let reload = reload.clone();
                                        spawn_local(async move {
                                            let _ = s.dismiss(id).await;
                                            reload.emit(());
                                        });
                                    }
                                });
                                html! {
                                    <li>
                                        <strong>{ a.op.body.kind() }</strong>
                                        <span>{ format!(": {}", a.reason.clone().unwrap_or_default()) }</span>
                                        <button type="button" onclick={dismiss}>{ "Dismiss" }</button>
                                    </li>
                                }
                            }) }
                        </ul>
                    }
                </div>
            }
        </div>
    }
}

//! An event's stock plan: a target per product, with what is on hand and the gap; the
//! targets can be filled in from the last similar events' sales. Saved as `event.plan.v1`
//! ops, one per changed line.

use std::collections::BTreeMap;
use std::rc::Rc;

use printstall_core::domain::ProductId;
use printstall_core::domain::market_event::shortfall;
use printstall_core::domain::planning::suggest_targets;
use printstall_core::sync::OpBody;
use printstall_core::sync::op::EventPlan;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::local::use_local;
use crate::store::queries::{Catalog, EventRow, utc_offset_s};

#[derive(Properties, PartialEq)]
pub struct EventPlanProps {
    pub event: EventRow,
    pub catalog: Rc<Catalog>,
}

fn targets_of(e: &EventRow) -> BTreeMap<ProductId, String> {
    e.plan.iter().map(|(p, t)| (*p, t.to_string())).collect()
}

#[function_component(EventPlanForm)]
pub fn event_plan_form(props: &EventPlanProps) -> Html {
    let local = use_local();
    let targets = {
        let e = props.event.clone();
        use_state(move || targets_of(&e))
    };
    let message = use_state(|| None::<String>);
    let c = &props.catalog;
    let e = &props.event;

    let suggest = {
        let targets = targets.clone();
        let message = message.clone();
        let past = c.past_events(utc_offset_s());
        let (tags, starts) = (e.tags.clone(), e.starts_on);
        let names: BTreeMap<_, _> = c.events.iter().map(|e| (e.id, e.name.clone())).collect();
        Callback::from(move |_| {
            let Some(starts) = starts else { return };
            let (s, used) = suggest_targets(&tags, starts, &past);
            if s.is_empty() {
                message.set(Some("No earlier event has sales to suggest from.".into()));
                return;
            }
            let mut t = (*targets).clone();
            for (p, n) in s {
                t.insert(p, n.to_string());
            }
            targets.set(t);
            let from: Vec<String> = used
                .iter()
                .filter_map(|id| names.get(id).cloned())
                .collect();
            message.set(Some(format!(
                "Suggested from {}; check and save.",
                from.join(", ")
            )));
        })
    };

    let save = {
        let targets = targets.clone();
        let message = message.clone();
        let local = local.clone();
        let (event_id, before) = (e.id, e.plan.clone());
        Callback::from(move |ev: SubmitEvent| {
            ev.prevent_default();
            let mut ops = Vec::new();
            for (p, text) in targets.iter() {
                let Some(t) = (if text.trim().is_empty() {
                    Some(0)
                } else {
                    text.trim().parse::<u32>().ok()
                }) else {
                    message.set(Some("Targets: enter whole numbers of units".into()));
                    return;
                };
                let old = before.iter().find(|(q, _)| q == p).map_or(0, |(_, t)| *t);
                if t != old {
                    ops.push(OpBody::EventPlan(EventPlan {
                        event_id,
                        product_id: *p,
                        target: t,
                    }));
                }
            }
            if ops.is_empty() {
                message.set(Some("No change to save".into()));
                return;
            }
            let message = message.clone();
            let n = ops.len();
            local.record(
                ops,
                Callback::from(move |r: Result<(), String>| {
                    message.set(Some(match r {
                        Ok(()) => format!("Plan saved ({n} line{})", if n == 1 { "" } else { "s" }),
                        Err(e) => format!("Not saved: {e}"),
                    }))
                }),
            );
        })
    };

    html! {
        <form class="event-plan" onsubmit={save} aria-labelledby="plan-title" data-testid="event-plan">
            <h3 id="plan-title">{ "Stock plan" }</h3>
            <div class="table-scroll">
            <table class="plan-table">
                <thead><tr><th scope="col">{ "Product" }</th><th scope="col">{ "On hand" }</th><th scope="col">{ "Target" }</th><th scope="col">{ "Gap" }</th></tr></thead>
                <tbody>
                    { for c.products.iter().map(|p| {
                        let text = targets.get(&p.id).cloned().unwrap_or_default();
                        let t = text.trim().parse::<u32>().unwrap_or(0);
                        let gap = shortfall(t, p.level.on_hand);
                        let id = format!("target-{}", p.id.0.simple());
                        let oninput = {
                            let targets = targets.clone();
                            let pid = p.id;
                            Callback::from(move |ev: InputEvent| {
                                if let Some(i) = ev.target_dyn_into::<HtmlInputElement>() {
                                    let mut m = (*targets).clone();
                                    m.insert(pid, i.value());
                                    targets.set(m);
                                }
                            })
                        };
                        html! {
                            <tr data-testid="plan-row" data-product-id={p.id.0.to_string()}>
                                <th scope="row"><label for={id.clone()}>{ format!("Target for {}", p.name) }</label></th>
                                <td data-testid="plan-on-hand">{ p.level.on_hand }</td>
                                <td><input id={id} class="target" type="number" inputmode="numeric" min="0" value={text} {oninput} /></td>
                                <td data-testid="plan-gap" class={classes!((gap > 0).then_some("short"))}>{ gap }</td>
                            </tr>
                        }
                    }) }
                </tbody>
            </table>
            </div>
            if let Some(m) = &*message {
                <p class="notice" role="status" data-testid="plan-message">{ m.clone() }</p>
            }
            <div class="actions">
                <button type="submit" class="primary" data-testid="save-plan">{ "Save plan" }</button>
                <button type="button" class="secondary" onclick={suggest} disabled={e.starts_on.is_none()}>{ "Suggest from past events" }</button>
            </div>
        </form>
    }
}

//! Weigh a spool: the scale's gross weight in, the grams left out (gross minus the
//! empty-spool weight, from the spool or its filament), shown before it is recorded.

use printstall_core::domain::Centigrams;
use printstall_core::domain::SpoolId;
use printstall_core::domain::spool::weigh;
use printstall_core::sync::OpBody;
use printstall_core::sync::op::SpoolWeigh;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::components::grams_bar::grams;
use crate::local::use_local;

#[derive(Properties, PartialEq)]
pub struct SpoolWeighProps {
    pub spool_id: SpoolId,
    /// What the spool is called on screen.
    pub label: AttrValue,
    /// The empty-spool weight known for it (spool, else filament).
    pub empty: Option<Centigrams>,
    pub on_close: Callback<Option<String>>,
}

fn plain(c: Centigrams) -> String {
    c.to_grams_string().trim_end_matches(" g").to_owned()
}

#[function_component(SpoolWeighForm)]
pub fn spool_weigh_form(props: &SpoolWeighProps) -> Html {
    let local = use_local();
    let gross = use_state(String::new);
    let empty = use_state(|| props.empty.map(plain).unwrap_or_default());
    let error = use_state(|| None::<String>);
    let id = props.spool_id.0.simple().to_string();
    let g = Centigrams::parse_grams(&gross).filter(|g| g.0 >= 0);
    let e = Centigrams::parse_grams(&empty).filter(|g| g.0 >= 0);
    let result = g.zip(e).map(|(g, e)| weigh(g, e));

    let onsubmit = {
        let (local, error, on_close) = (local.clone(), error.clone(), props.on_close.clone());
        let (spool_id, label) = (props.spool_id, props.label.clone());
        Callback::from(move |ev: SubmitEvent| {
            ev.prevent_default();
            let (Some(gross_cg), Some(empty_spool_cg)) = (g, e) else {
                error.set(Some(
                    "Enter the scale's weight and the empty-spool weight in grams".into(),
                ));
                return;
            };
            let (error, on_close, label) = (error.clone(), on_close.clone(), label.clone());
            let left = weigh(gross_cg, empty_spool_cg).left_cg;
            local.record(
                vec![OpBody::SpoolWeigh(SpoolWeigh {
                    spool_id,
                    gross_cg,
                    empty_spool_cg,
                    note: None,
                })],
                Callback::from(move |r: Result<(), String>| match r {
                    Ok(()) => on_close.emit(Some(format!("Weighed {label}: {} left", grams(left)))),
                    Err(e) => error.set(Some(format!("Not recorded: {e}"))),
                }),
            );
        })
    };
    let input = |h: &UseStateHandle<String>| {
        let h = h.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(i) = e.target_dyn_into::<HtmlInputElement>() {
                h.set(i.value());
            }
        })
    };
    let close = {
        let on_close = props.on_close.clone();
        Callback::from(move |_| on_close.emit(None))
    };
    html! {
        <form class="weigh card" {onsubmit} aria-label={format!("Weigh {}", props.label)} data-testid="weigh-form">
            <div class="field-row">
                <div class="field">
                    <label for={format!("gross-{id}")}>{ "Scale reading (g)" }</label>
                    <input id={format!("gross-{id}")} type="text" inputmode="decimal" value={(*gross).clone()} oninput={input(&gross)} />
                </div>
                <div class="field">
                    <label for={format!("empty-{id}")}>{ "Empty spool (g)" }</label>
                    <input id={format!("empty-{id}")} type="text" inputmode="decimal" value={(*empty).clone()} oninput={input(&empty)} />
                </div>
            </div>
            <p class="weigh-result" aria-live="polite" data-testid="weigh-result">
                { match result {
                    Some(w) if w.below_empty_cg.0 > 0 => format!("Empty: the reading is {} under the empty-spool weight", grams(w.below_empty_cg)),
                    Some(w) => format!("Grams left: {}", grams(w.left_cg)),
                    None => "Grams left: enter both weights".into(),
                } }
            </p>
            if let Some(e) = &*error {
                <p class="form-error" role="alert">{ e.clone() }</p>
            }
            <div class="actions">
                <button type="submit" class="primary">{ "Record weighing" }</button>
                <button type="button" class="secondary" onclick={close}>{ "Close" }</button>
            </div>
        </form>
    }
}

//! Models: designs, their variants and sliced files. The list reads the local store (the
//! models and variants the device has synced), so it works offline.

use std::collections::BTreeMap;

use printstall_core::domain::VariantId;
use printstall_core::domain::planning::hours_text;
use printstall_core::sync::State;
use printstall_core::sync::op::EntityKind;
use serde_json::Value;
use uuid::Uuid;
use yew::prelude::*;

use crate::components::grams_bar::grams;
use crate::components::variant_from_file::VariantFromFile;
use crate::local::use_local;
use crate::store::queries::Catalog;

/// A model as the list shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRow {
    pub id: Uuid,
    pub name: String,
    pub designer: Option<String>,
    pub licence: Option<String>,
    /// `false` only where the licence says prints may not be sold.
    pub allows_selling: bool,
    pub variants: Vec<VariantId>,
}

/// The variants' model ids (a variant whose model is not synced keeps `None`).
pub fn variant_models(state: &State) -> BTreeMap<VariantId, Uuid> {
    state
        .entities
        .get(&EntityKind::Variant)
        .into_iter()
        .flatten()
        .filter(|(_, c)| !c.is_deleted())
        .filter_map(|(id, c)| {
            let m = c.value("model_id").and_then(Value::as_str)?;
            Some((VariantId(*id), Uuid::parse_str(m).ok()?))
        })
        .collect()
}

/// The synced models, by name, each with its variants.
pub fn model_rows(state: &State) -> Vec<ModelRow> {
    let of = variant_models(state);
    let mut out: Vec<ModelRow> = state
        .entities
        .get(&EntityKind::Model)
        .into_iter()
        .flatten()
        .filter(|(_, c)| !c.is_deleted())
        .filter(|(_, c)| c.value("archived").and_then(Value::as_bool) != Some(true))
        .map(|(id, c)| {
            let text = |k: &str| {
                c.value(k)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .filter(|s| !s.trim().is_empty())
            };
            let licence = c.value("licence");
            ModelRow {
                id: *id,
                name: text("name").unwrap_or_else(|| "(no name)".into()),
                designer: text("designer_name"),
                licence: licence
                    .and_then(|l| l.get("name"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                allows_selling: licence
                    .and_then(|l| l.get("allows_selling"))
                    .and_then(Value::as_bool)
                    != Some(false),
                variants: of
                    .iter()
                    .filter(|(_, m)| **m == *id)
                    .map(|(v, _)| *v)
                    .collect(),
            }
        })
        .collect();
    out.sort_by_key(|m| m.name.to_lowercase());
    out
}

/// The synced variants to upload files to: (variant id, model id, "Model · Variant"),
/// by label.
pub fn upload_targets(state: &State) -> Vec<(Uuid, Uuid, String)> {
    let names: BTreeMap<Uuid, String> = model_rows(state)
        .into_iter()
        .map(|m| (m.id, m.name))
        .collect();
    let mut out: Vec<(Uuid, Uuid, String)> = state
        .entities
        .get(&EntityKind::Variant)
        .into_iter()
        .flatten()
        .filter(|(_, c)| !c.is_deleted())
        .filter_map(|(id, c)| {
            let model_id = Uuid::parse_str(c.value("model_id").and_then(Value::as_str)?).ok()?;
            let name = c
                .value("name")
                .and_then(Value::as_str)
                .unwrap_or("(no name)");
            let label = match names.get(&model_id) {
                Some(m) => format!("{m} · {name}"),
                None => name.to_owned(),
            };
            Some((*id, model_id, label))
        })
        .collect();
    out.sort_by_key(|t| t.2.to_lowercase());
    out
}

#[function_component(Models)]
pub fn models() -> Html {
    let local = use_local();
    let model = local.model.clone();
    let rows = model_rows(&model.state);
    let c = Catalog::from_state(&model.state);
    html! {
        <section class="models" aria-labelledby="page-title">
            <h1 id="page-title">{ "Models" }</h1>
            <p>{ "Designs, their variants and sliced files, with filament needs and costs." }</p>
            if model.ready && local.has_session() {
                <section class="card model-list" aria-labelledby="models-title" data-testid="model-list" data-count={rows.len().to_string()}>
                    <h2 id="models-title">{ "Your models" }</h2>
                    if rows.is_empty() {
                        <p class="hint">{ "No models on this device yet. Add a variant from a sliced file below." }</p>
                    }
                    <ul class="plain-list">
                        { for rows.iter().map(|m| html! {
                            <li class="model-row" data-testid="model-row" data-model-id={m.id.to_string()}>
                                <h3>{ &m.name }</h3>
                                <p class="hint">
                                    { m.designer.as_ref().map(|d| format!("By {d}")).unwrap_or_else(|| "Designer not given".into()) }
                                    if let Some(l) = &m.licence { { format!(" · {l}") } }
                                </p>
                                if !m.allows_selling {
                                    <p class="warn-line" role="note" data-testid="no-selling">{ "The licence does not allow selling prints of this design." }</p>
                                }
                                if m.variants.is_empty() {
                                    <p class="hint">{ "No variants." }</p>
                                }
                                <ul class="variant-list">
                                    { for m.variants.iter().filter_map(|id| c.variant(*id)).map(|v| {
                                        let cost = c.variant_cost(v);
                                        html! {
                                            <li data-testid="model-variant" data-variant-id={v.id.0.to_string()}>
                                                <strong>{ &v.name }</strong>
                                                { format!(" · {} per plate of {}", v.print_time_s.map(|s| hours_text(u64::from(s))).unwrap_or_else(|| "no print time".into()), v.parts_per_plate) }
                                                if cost.grams.0 > 0 {
                                                    { format!(" · {} a unit", grams(cost.grams)) }
                                                    if cost.complete() { { format!(" · costs {}", model.money(cost.total)) } }
                                                }
                                            </li>
                                        }
                                    }) }
                                </ul>
                            </li>
                        }) }
                    </ul>
                </section>
            }
            <VariantFromFile />
        </section>
    }
}

//! Pick a filament from the bundled catalogue ([`printstall_core::domain::catalogue`]):
//! brand, then material, then colour. The chosen entry fills the form it sits in (density,
//! diameter, weights, temperatures and colour). The catalogue is compiled into the app, so
//! this works offline.

use printstall_core::domain::catalogue::{self, Entry};
use printstall_core::domain::filament::Material;
use printstall_core::domain::planning::material_label;
use serde_json::Value;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::components::swatch::Swatch;

#[derive(Properties, PartialEq)]
pub struct CataloguePickProps {
    /// Prefix of the selects' ids (two pickers may share a page).
    pub id_prefix: AttrValue,
    /// Called with the entry once brand, material and colour name one.
    pub on_pick: Callback<&'static Entry>,
}

fn material_value(m: Material) -> String {
    serde_json::to_value(m)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn material_from(v: &str) -> Option<Material> {
    serde_json::from_value(Value::String(v.to_owned())).ok()
}

fn selected(e: &Event) -> String {
    e.target_dyn_into::<HtmlSelectElement>()
        .map(|s| s.value())
        .unwrap_or_default()
}

#[function_component(CataloguePick)]
pub fn catalogue_pick(props: &CataloguePickProps) -> Html {
    let brand = use_state(String::new);
    let material = use_state(|| None::<Material>);
    let picked = use_state(|| None::<&'static Entry>);
    let id = |s: &str| format!("{}-{s}", props.id_prefix);

    let on_brand = {
        let (brand, material, picked) = (brand.clone(), material.clone(), picked.clone());
        Callback::from(move |e: Event| {
            let b = selected(&e);
            // A brand with one material needs no second choice.
            let ms = catalogue::materials(&b);
            material.set(if ms.len() == 1 {
                ms.first().copied()
            } else {
                None
            });
            brand.set(b);
            picked.set(None);
        })
    };
    let on_material = {
        let (material, picked) = (material.clone(), picked.clone());
        Callback::from(move |e: Event| {
            material.set(material_from(&selected(&e)));
            picked.set(None);
        })
    };
    let on_colour = {
        let (brand, material, picked) = (brand.clone(), material.clone(), picked.clone());
        let on_pick = props.on_pick.clone();
        Callback::from(move |e: Event| {
            let entry = (*material).and_then(|m| catalogue::find(&brand, m, &selected(&e)));
            picked.set(entry);
            if let Some(entry) = entry {
                on_pick.emit(entry);
            }
        })
    };

    let materials = if brand.is_empty() {
        Vec::new()
    } else {
        catalogue::materials(&brand)
    };
    let colours = match *material {
        Some(m) if !brand.is_empty() => catalogue::colours(&brand, m),
        _ => Vec::new(),
    };
    html! {
        <fieldset class="catalogue-pick" data-testid="catalogue-pick">
            <legend>{ "From the catalogue (fills in the rest)" }</legend>
            <div class="field-row">
                <div class="field">
                    <label for={id("brand")}>{ "Catalogue brand" }</label>
                    <select id={id("brand")} onchange={on_brand}>
                        <option value="" selected={brand.is_empty()}>{ "Choose…" }</option>
                        { for catalogue::brands().into_iter().map(|b| html! {
                            <option value={b} selected={*brand == b}>{ b }</option>
                        }) }
                    </select>
                </div>
                <div class="field">
                    <label for={id("material")}>{ "Catalogue material" }</label>
                    <select id={id("material")} onchange={on_material} disabled={materials.is_empty()}>
                        <option value="" selected={material.is_none()}>{ "Choose…" }</option>
                        { for materials.iter().map(|m| html! {
                            <option value={material_value(*m)} selected={*material == Some(*m)}>{ material_label(*m) }</option>
                        }) }
                    </select>
                </div>
                <div class="field">
                    <label for={id("colour")}>{ "Catalogue colour" }</label>
                    <select id={id("colour")} onchange={on_colour} disabled={colours.is_empty()}>
                        <option value="" selected={picked.is_none()}>{ "Choose…" }</option>
                        { for colours.iter().map(|e| html! {
                            <option value={e.colour} selected={picked.is_some_and(|p| p == *e)}>{ e.colour }</option>
                        }) }
                    </select>
                </div>
            </div>
            if let Some(e) = *picked {
                <p class="hint" data-testid="catalogue-picked">
                    <Swatch hex={e.hex} />
                    { format!(
                        "{} {} {}: {} g, {:.2} g/cm³, {} mm, nozzle {} °C, bed {} °C{}",
                        e.brand,
                        material_label(e.material),
                        e.colour,
                        e.net_weight_cg / 100,
                        f64::from(e.density_mg_cm3) / 1000.0,
                        if e.diameter == printstall_core::domain::filament::Diameter::Mm175 { "1.75" } else { "2.85" },
                        e.nozzle_temp_c,
                        e.bed_temp_c,
                        e.empty_spool_cg.map(|g| format!(", empty spool {} g", g / 100)).unwrap_or_default(),
                    ) }
                </p>
            }
        </fieldset>
    }
}

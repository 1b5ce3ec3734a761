//! Costs: each variant's unit cost (the sliced file's grams per filament times the
//! filament's price per gram, plus printer time at the shop's machine rate when it has
//! one), and each product's cost and margin at its price, by core's costing rules.

use printstall_core::domain::costing::{margin, percent_text};
use yew::prelude::*;

use crate::components::grams_bar::grams;
use crate::components::sign_in::SignIn;
use crate::components::stock_tabs::StockTabs;
use crate::local::use_local;
use crate::store::queries::Catalog;

#[function_component(Costing)]
pub fn costing() -> Html {
    let local = use_local();
    let model = local.model.clone();
    if !model.ready {
        return html! { <section class="costing"><h1>{ "Costs" }</h1><p>{ "Opening…" }</p></section> };
    }
    if !local.has_session() {
        return html! { <section class="costing"><h1>{ "Costs" }</h1><SignIn /></section> };
    }
    let c = Catalog::from_state(&model.state);
    let (tax, incl) = model
        .snap
        .shop
        .as_ref()
        .map_or((0, true), |s| (s.tax_rate_bp, s.prices_include_tax));

    html! {
        <section class="costing work">
            <StockTabs />
            <div class="page-head">
                <h1>{ "Costs and margins" }</h1>
                <p class="summary">
                    { match c.machine_per_hour {
                        Some(m) => format!("Filament at what the spools cost, plus {} per printer hour.", model.money(m)),
                        None => "Filament at what the spools cost (no machine cost per hour is set in Settings).".into(),
                    } }
                </p>
            </div>
            <section class="card" aria-labelledby="pc-title">
                <h2 id="pc-title">{ "Products" }</h2>
                <div class="table-scroll">
                <table class="cost-table" data-testid="product-costs">
                    <thead><tr>
                        <th scope="col">{ "Product" }</th><th scope="col">{ "Price" }</th><th scope="col">{ "Unit cost" }</th>
                        <th scope="col">{ "Profit" }</th><th scope="col">{ "Margin" }</th>
                    </tr></thead>
                    <tbody>
                        { for c.products.iter().map(|p| {
                            let cost = c.product_cost(p.id);
                            let m = cost.map(|k| margin(p.price, k, tax, incl));
                            html! {
                                <tr data-testid="product-cost" data-product-id={p.id.0.to_string()}>
                                    <th scope="row">{ &p.name }</th>
                                    <td>{ model.money(p.price) }</td>
                                    <td data-testid="unit-cost">{ cost.map_or_else(|| "unknown".into(), |k| model.money(k)) }</td>
                                    <td>{ m.map_or_else(|| "—".into(), |m| model.money(m.profit)) }</td>
                                    <td data-testid="margin" class={classes!(m.is_some_and(|m| m.profit.0 < 0).then_some("negative"))}>
                                        { m.and_then(|m| m.margin_bp).map_or_else(|| "—".into(), percent_text) }
                                    </td>
                                </tr>
                            }
                        }) }
                    </tbody>
                </table>
                </div>
                if incl && tax > 0 {
                    <p class="hint">{ "Margins are on the price without the tax it includes." }</p>
                }
            </section>
            <section class="card" aria-labelledby="vc-title">
                <h2 id="vc-title">{ "Variants" }</h2>
                <div class="table-scroll">
                <table class="cost-table" data-testid="variant-costs">
                    <thead><tr>
                        <th scope="col">{ "Variant" }</th><th scope="col">{ "Filament per unit" }</th><th scope="col">{ "Filament cost" }</th>
                        <th scope="col">{ "Machine" }</th><th scope="col">{ "Unit cost" }</th>
                    </tr></thead>
                    <tbody>
                        { for c.variants.iter().map(|v| {
                            let k = c.variant_cost(v);
                            html! {
                                <tr data-testid="variant-cost">
                                    <th scope="row">{ v.label() }</th>
                                    <td>{ grams(k.grams) }</td>
                                    <td>{ model.money(k.filament) }
                                        if !k.complete() { <span class="warn-line">{ " (a filament has no price)" }</span> }
                                    </td>
                                    <td>{ model.money(k.machine) }</td>
                                    <td><strong>{ model.money(k.total) }</strong></td>
                                </tr>
                            }
                        }) }
                    </tbody>
                </table>
                </div>
            </section>
        </section>
    }
}

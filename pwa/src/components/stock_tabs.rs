//! The views of the Stock section: products, filament, costs. Filament and costs live
//! under Stock so the bottom navigation keeps its sections.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::route::Route;

#[function_component(StockTabs)]
pub fn stock_tabs() -> Html {
    let current = use_route::<Route>();
    let tab = |route: Route, label: &'static str| {
        let active = current == Some(route);
        html! {
            <Link<Route> to={route} classes={classes!("tab", active.then_some("active"))}>
                <span aria-current={active.then_some("page")}>{ label }</span>
            </Link<Route>>
        }
    };
    html! {
        <nav class="tabs" aria-label="Stock views">
            { tab(Route::Stock, "Products") }
            { tab(Route::Filament, "Filament") }
            { tab(Route::Costing, "Costs") }
        </nav>
    }
}

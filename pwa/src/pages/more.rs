//! More: the sections that do not fit the bottom navigation.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::route::Route;

#[function_component(More)]
pub fn more() -> Html {
    let entries: [(Route, &str, &str); 2] = [
        (
            Route::Labels,
            "Labels",
            "QR labels and price tags for products and spools, as PDF or SVG",
        ),
        (
            Route::Settings,
            "Settings and account",
            "Shop details, tax, machine cost, members, sign out",
        ),
    ];
    html! {
        <section class="more" aria-labelledby="page-title">
            <h1 id="page-title">{ "More" }</h1>
            <ul class="more-list">
                { for entries.iter().map(|(route, title, summary)| html! {
                    <li>
                        <Link<Route> to={*route} classes="more-item">
                            <span class="more-title">{ *title }</span>
                            <span class="more-summary">{ *summary }</span>
                        </Link<Route>>
                    </li>
                }) }
            </ul>
        </section>
    }
}

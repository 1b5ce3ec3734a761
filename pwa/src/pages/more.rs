//! More: the sections that do not fit the bottom navigation.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::components::account_security::{AuditLog, Sessions};
use crate::route::Route;

#[function_component(More)]
pub fn more() -> Html {
    let entries: [(Route, &str, &str); 7] = [
        (
            Route::Filament,
            "Filament and spools",
            "Spools by colour, grams left, weighing, the spool ledger",
        ),
        (
            Route::Printers,
            "Printers",
            "What each printer reported through the Spoolman API: spool, grams, when",
        ),
        (
            Route::Costing,
            "Costs and margins",
            "Unit cost from sliced grams and spool prices, margin at the price",
        ),
        (
            Route::Labels,
            "Labels",
            "QR labels and price tags for products and spools, as PDF or SVG",
        ),
        (
            Route::Import,
            "Import",
            "Products, stock, filaments, spools and sales from CSV; spools from Spoolman",
        ),
        (
            Route::Settings,
            "Settings and account",
            "Shop details, tax, machine cost, members, sign out",
        ),
        (
            Route::Nfc,
            "NFC tags",
            "Write an item's link to a tag, or open the item a tag holds",
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
            <Sessions />
            <AuditLog />
        </section>
    }
}

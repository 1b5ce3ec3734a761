//! The app's routes: one per section of the bottom navigation, plus the dashboard.

use yew::{Html, html};
use yew_router::Routable;

use crate::pages;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Routable)]
pub enum Route {
    #[at("/")]
    Dashboard,
    #[at("/stock")]
    Stock,
    #[at("/sell")]
    Sell,
    #[at("/scan")]
    Scan,
    #[at("/queue")]
    Queue,
    #[at("/models")]
    Models,
    #[at("/events")]
    Events,
    #[at("/more")]
    More,
    #[at("/nfc")]
    Nfc,
    #[at("/filament")]
    Filament,
    #[at("/costing")]
    Costing,
    #[at("/labels")]
    Labels,
    #[at("/settings")]
    Settings,
    #[at("/import")]
    Import,
    #[at("/printers")]
    Printers,
    #[not_found]
    #[at("/404")]
    NotFound,
}

impl Route {
    /// The sections of the bottom navigation, in order, with their labels and icons.
    pub const SECTIONS: [(Route, &'static str, &'static str); 7] = [
        (Route::Stock, "Stock", "\u{25A6}"),
        (Route::Sell, "Sell", "\u{20AC}"),
        (Route::Scan, "Scan", "\u{25CE}"),
        (Route::Queue, "Queue", "\u{2630}"),
        (Route::Models, "Models", "\u{25B3}"),
        (Route::Events, "Events", "\u{2691}"),
        (Route::More, "More", "\u{22EF}"),
    ];
}

pub fn switch(route: Route) -> Html {
    match route {
        Route::Dashboard => html! { <pages::dashboard::Dashboard /> },
        Route::Stock => html! { <pages::stock::Stock /> },
        Route::Sell => html! { <pages::sell::Sell /> },
        Route::Scan => html! { <pages::scan::Scan /> },
        Route::Queue => html! { <pages::queue::Queue /> },
        Route::Models => html! { <pages::models::Models /> },
        Route::Events => html! { <pages::events::Events /> },
        Route::More => html! { <pages::more::More /> },
        Route::Nfc => html! { <pages::nfc::Nfc /> },
        Route::Filament => html! { <pages::filament::Filament /> },
        Route::Costing => html! { <pages::costing::Costing /> },
        Route::Labels => html! { <pages::labels::Labels /> },
        Route::Settings => html! { <pages::settings::Settings /> },
        Route::Import => html! { <pages::import::Import /> },
        Route::Printers => html! { <pages::printers::Printers /> },
        Route::NotFound => html! { <pages::not_found::NotFound /> },
    }
}

//! The bottom navigation: one thumb-sized button per section.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::route::Route;

#[function_component(BottomNav)]
pub fn bottom_nav() -> Html {
    let current = use_route::<Route>();
    html! {
        <nav class="bottom-nav" aria-label="Sections">
            { for Route::SECTIONS.iter().map(|(route, label, icon)| {
                let active = current == Some(*route);
                html! {
                    <Link<Route>
                        to={*route}
                        classes={classes!("nav-item", active.then_some("active"))}
                    >
                        <span class="nav-icon" aria-hidden="true">{ *icon }</span>
                        <span class="nav-label">{ *label }</span>
                    </Link<Route>>
                }
            }) }
        </nav>
    }
}

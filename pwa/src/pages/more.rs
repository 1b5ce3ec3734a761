//! More.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::components::account_security::{AuditLog, Sessions};
use crate::components::placeholder::Placeholder;
use crate::route::Route;

#[function_component(More)]
pub fn more() -> Html {
    html! {
        <>
            <Placeholder title="More" summary="Filament, labels, settings, members and your account." />
            <Sessions />
            <AuditLog />
            <ul class="more-links">
                <li><Link<Route> to={Route::Filament}>{ "Filament and spools" }</Link<Route>></li>
                <li><Link<Route> to={Route::Costing}>{ "Costs and margins" }</Link<Route>></li>
            </ul>
        </>
    }
}

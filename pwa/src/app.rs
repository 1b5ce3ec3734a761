//! The app shell: a top bar with the connection state, the page, and the bottom navigation.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::components::bottom_nav::BottomNav;
use crate::components::online_badge::OnlineBadge;
use crate::components::update_banner::UpdateBanner;
use crate::route::{Route, switch};

#[function_component(App)]
pub fn app() -> Html {
    html! {
        <BrowserRouter>
            <div class="shell" data-testid="app-shell">
                <header class="top-bar">
                    <Link<Route> to={Route::Dashboard} classes="brand">{ "PrintStall" }</Link<Route>>
                    <OnlineBadge />
                </header>
                <UpdateBanner />
                <main class="page" id="main">
                    <Switch<Route> render={switch} />
                </main>
                <BottomNav />
            </div>
        </BrowserRouter>
    }
}

//! The app shell: a top bar with the sync and connection state, the page, and the bottom
//! navigation, inside the local store's context.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::components::bottom_nav::BottomNav;
use crate::components::online_badge::OnlineBadge;
use crate::components::sync_status::SyncStatusBar;
use crate::components::update_banner::UpdateBanner;
use crate::local::LocalProvider;
use crate::route::{Route, switch};

#[function_component(App)]
pub fn app() -> Html {
    html! {
        <BrowserRouter>
          <LocalProvider>
            <div class="shell" data-testid="app-shell">
                <header class="top-bar">
                    <Link<Route> to={Route::Dashboard} classes="brand">{ "PrintStall" }</Link<Route>>
                    <div class="top-status">
                        <SyncStatusBar />
                        <OnlineBadge />
                    </div>
                </header>
                <UpdateBanner />
                <main class="page" id="main">
                    <Switch<Route> render={switch} />
                </main>
                <BottomNav />
            </div>
          </LocalProvider>
        </BrowserRouter>
    }
}

//! Shows whether the browser is online, updated live.

use yew::prelude::*;

use crate::hooks::use_online::use_online;

#[function_component(OnlineBadge)]
pub fn online_badge() -> Html {
    let online = use_online();
    let (class, text) = if online {
        ("badge online", "Online")
    } else {
        ("badge offline", "Offline")
    };
    html! {
        <span class={class} role="status" aria-live="polite" data-testid="connection">{ text }</span>
    }
}

//! `navigator.onLine`, kept current by the `online` and `offline` events.

use gloo::events::EventListener;
use yew::prelude::*;

fn navigator_online() -> bool {
    web_sys::window()
        .map(|w| w.navigator().on_line())
        .unwrap_or(true)
}

#[hook]
pub fn use_online() -> bool {
    let online = use_state(navigator_online);
    {
        let online = online.clone();
        use_effect_with((), move |_| {
            let listeners = web_sys::window().map(|window| {
                let up = online.clone();
                let down = online.clone();
                (
                    EventListener::new(&window, "online", move |_| up.set(true)),
                    EventListener::new(&window, "offline", move |_| down.set(false)),
                )
            });
            move || drop(listeners)
        });
    }
    *online
}

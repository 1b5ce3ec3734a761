//! Offers a newer version of the app when the service worker has installed one. The new
//! version takes over only when the user agrees, so a page never mixes old and new files.

use gloo::events::EventListener;
use yew::prelude::*;

#[function_component(UpdateBanner)]
pub fn update_banner() -> Html {
    let waiting = use_state(|| false);
    {
        let waiting = waiting.clone();
        use_effect_with((), move |_| {
            let listener = web_sys::window().map(|window| {
                EventListener::new(&window, "printstall:update-ready", move |_| {
                    waiting.set(true)
                })
            });
            move || drop(listener)
        });
    }
    if !*waiting {
        return html! {};
    }
    let activate = Callback::from(|_| {
        if let Some(window) = web_sys::window()
            && let Ok(event) = web_sys::Event::new("printstall:activate-update")
        {
            let _ = window.dispatch_event(&event);
        }
    });
    html! {
        <div class="update-banner" role="alert">
            <span>{ "A new version of PrintStall is ready." }</span>
            <button type="button" onclick={activate}>{ "Reload" }</button>
        </div>
    }
}

//! Scan.

use yew::prelude::*;

use crate::components::placeholder::Placeholder;

#[function_component(Scan)]
pub fn scan() -> Html {
    html! { <Placeholder title="Scan" summary="Scan a product or spool code with the camera to sell, count or weigh it." /> }
}

//! Print queue.

use yew::prelude::*;

use crate::components::placeholder::Placeholder;

#[function_component(Queue)]
pub fn queue() -> Html {
    html! { <Placeholder title="Print queue" summary="Jobs in order, their status, and whether the filament on hand covers them." /> }
}

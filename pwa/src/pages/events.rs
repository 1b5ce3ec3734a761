//! Markets.

use yew::prelude::*;

use crate::components::placeholder::Placeholder;

#[function_component(Events)]
pub fn events() -> Html {
    html! { <Placeholder title="Markets" summary="Plan a market, what to print before it, and what sold there." /> }
}

//! Not found.

use yew::prelude::*;

use crate::components::placeholder::Placeholder;

#[function_component(NotFound)]
pub fn not_found() -> Html {
    html! { <Placeholder title="Not found" summary="This page does not exist. Use the navigation below." /> }
}

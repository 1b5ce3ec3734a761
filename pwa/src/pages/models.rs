//! Models.

use yew::prelude::*;

use crate::components::placeholder::Placeholder;

#[function_component(Models)]
pub fn models() -> Html {
    html! { <Placeholder title="Models" summary="Designs, their variants and sliced files, with filament needs and costs." /> }
}

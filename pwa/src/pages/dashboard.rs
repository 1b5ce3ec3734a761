//! Today.

use yew::prelude::*;

use crate::components::placeholder::Placeholder;

#[function_component(Dashboard)]
pub fn dashboard() -> Html {
    html! { <Placeholder title="Today" summary="Today's print queue, low stock and filament, the next market and sync state." /> }
}

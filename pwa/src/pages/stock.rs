//! Stock.

use yew::prelude::*;

use crate::components::placeholder::Placeholder;

#[function_component(Stock)]
pub fn stock() -> Html {
    html! { <Placeholder title="Stock" summary="Products on hand, low and negative stock, ledgers and stock-takes." /> }
}

//! Sell.

use yew::prelude::*;

use crate::components::placeholder::Placeholder;

#[function_component(Sell)]
pub fn sell() -> Html {
    html! { <Placeholder title="Sell" summary="The stall's till: tap products, take payment, record the sale offline." /> }
}

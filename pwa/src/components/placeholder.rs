//! A section that is not built yet: its title and what it will hold.

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct PlaceholderProps {
    pub title: AttrValue,
    pub summary: AttrValue,
}

#[function_component(Placeholder)]
pub fn placeholder(props: &PlaceholderProps) -> Html {
    html! {
        <section class="placeholder" aria-labelledby="page-title">
            <h1 id="page-title">{ props.title.clone() }</h1>
            <p>{ props.summary.clone() }</p>
        </section>
    }
}

//! Models: designs, their variants and sliced files.

use yew::prelude::*;

use crate::components::variant_from_file::VariantFromFile;

#[function_component(Models)]
pub fn models() -> Html {
    html! {
        <section class="models" aria-labelledby="page-title">
            <h1 id="page-title">{ "Models" }</h1>
            <p>{ "Designs, their variants and sliced files, with filament needs and costs." }</p>
            <VariantFromFile />
        </section>
    }
}

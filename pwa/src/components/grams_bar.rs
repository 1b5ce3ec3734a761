//! Grams left on a spool (or of a colour) as a bar, with the number written beside it.

use printstall_core::domain::Centigrams;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct GramsBarProps {
    pub left: Centigrams,
    /// What a full bar holds.
    pub full: Centigrams,
    /// Read by screen readers ("Grams left on spool …").
    pub label: AttrValue,
    #[prop_or_default]
    pub low: bool,
}

/// Whole grams, `1 234 g` style.
pub fn grams(c: Centigrams) -> String {
    let g = c.0.div_euclid(100) + i64::from(c.0.rem_euclid(100) >= 50);
    format!("{g} g")
}

#[function_component(GramsBar)]
pub fn grams_bar(props: &GramsBarProps) -> Html {
    let full = props.full.0.max(1);
    let pct = (props.left.0.max(0) * 100 / full).min(100);
    html! {
        <div class={classes!("grams-bar", props.low.then_some("low"))}>
            <div class="bar" role="meter" aria-label={props.label.clone()}
                aria-valuemin="0" aria-valuemax={(full / 100).to_string()}
                aria-valuenow={(props.left.0.max(0) / 100).to_string()}
                aria-valuetext={grams(props.left)}>
                <span class="fill" style={format!("width:{pct}%")}></span>
            </div>
            <span class="grams" data-testid="grams-left">{ grams(props.left) }</span>
        </div>
    }
}

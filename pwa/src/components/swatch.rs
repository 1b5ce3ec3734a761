//! A filament colour swatch. Decorative: the colour's name is always written next to it.

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct SwatchProps {
    /// `#rrggbb`.
    pub hex: AttrValue,
}

/// Only `#` and hex digits reach the style attribute.
fn safe_hex(hex: &str) -> String {
    let ok =
        hex.len() <= 9 && hex.starts_with('#') && hex[1..].chars().all(|c| c.is_ascii_hexdigit());
    if ok { hex.to_owned() } else { "#888888".into() }
}

#[function_component(Swatch)]
pub fn swatch(props: &SwatchProps) -> Html {
    html! {
        <span class="swatch" aria-hidden="true" style={format!("background:{}", safe_hex(&props.hex))}></span>
    }
}

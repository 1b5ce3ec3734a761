//! More.

use yew::prelude::*;

use crate::components::account_security::{AuditLog, Sessions};
use crate::components::placeholder::Placeholder;

#[function_component(More)]
pub fn more() -> Html {
    html! {
        <>
            <Placeholder title="More" summary="Filament, labels, settings, members and your account." />
            <Sessions />
            <AuditLog />
        </>
    }
}

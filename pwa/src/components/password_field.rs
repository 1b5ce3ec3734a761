//! A password input with its label: one component for signing in, joining a shop and
//! changing the password, so they look and behave alike (autocomplete hints for password
//! managers, required, never echoed).

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct PasswordFieldProps {
    /// The input's id (the label points at it).
    pub id: AttrValue,
    pub label: AttrValue,
    /// Reads the value on submit.
    pub input_ref: NodeRef,
    /// `current-password` (signing in) or `new-password` (a new account, a new password).
    #[prop_or(AttrValue::Static("current-password"))]
    pub autocomplete: AttrValue,
}

#[function_component(PasswordField)]
pub fn password_field(p: &PasswordFieldProps) -> Html {
    html! {
        <div class="field">
            <label for={p.id.clone()}>{ p.label.clone() }</label>
            <input id={p.id.clone()} ref={p.input_ref.clone()} type="password"
                autocomplete={p.autocomplete.clone()} required=true />
        </div>
    }
}

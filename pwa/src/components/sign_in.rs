//! Sign in, or create an account and a shop. Signing in again after the server ended the
//! session keeps everything on this phone (the outbox is sent once signed in).
//! [`start_session`] is the one way a session begins (signing in, registering, joining a
//! shop with a code), and [`PasswordField`] the one password input.

use serde_json::{Value, json};
use wasm_bindgen_futures::spawn_local;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::components::password_field::PasswordField;
use crate::local::{Local, use_local};
use crate::sync::http::{Net, call, error_message};
use crate::sync::{fetch_shop, session_from};

/// Posts credentials to `path` (`/auth/sign-in`, `/auth/register`, `/auth/join`), keeps the
/// session and the shop on this device, shows them and starts a sync. `offline` is what to
/// say when there is no connection.
pub async fn start_session(
    local: &Local,
    path: &str,
    body: &Value,
    offline: &str,
) -> Result<(), String> {
    let store = local
        .store
        .clone()
        .ok_or("the app is still opening its local store")?;
    match call("POST", path, None, Some(body)).await {
        Net::Unreachable(_) => Err(offline.to_owned()),
        Net::Answer(200 | 201, answer) => {
            let mut s = session_from(&answer).ok_or("the server's answer could not be read")?;
            store.save_session(&s).await.map_err(|e| e.0)?;
            let _ = fetch_shop(&store, &mut s).await;
            local.reload.emit(());
            local.sync_now();
            Ok(())
        }
        Net::Answer(_, answer) => Err(error_message(&answer)),
    }
}

fn browser_time_zone() -> String {
    let fmt = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
    js_sys::Reflect::get(&fmt.resolved_options(), &"timeZone".into())
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_else(|| "UTC".into())
}

fn value(r: &NodeRef) -> String {
    r.cast::<HtmlInputElement>()
        .map(|i| i.value())
        .unwrap_or_default()
}

#[function_component(SignIn)]
pub fn sign_in() -> Html {
    let local = use_local();
    let known = local.model.snap.session.clone();
    let register = use_state(|| false);
    let busy = use_state(|| false);
    let error = use_state(|| None::<String>);
    let email = use_node_ref();
    let password = use_node_ref();
    let name = use_node_ref();
    let shop = use_node_ref();
    let currency = use_node_ref();

    let onsubmit = {
        let (register, busy, error) = (register.clone(), busy.clone(), error.clone());
        let (email, password, name, shop, currency) = (
            email.clone(),
            password.clone(),
            name.clone(),
            shop.clone(),
            currency.clone(),
        );
        let local = local.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            let (path, body) = if *register {
                let cur = currency
                    .cast::<HtmlSelectElement>()
                    .map(|s| s.value())
                    .unwrap_or_else(|| "EUR".into());
                (
                    "/api/v1/auth/register",
                    json!({
                        "email": value(&email).trim(),
                        "password": value(&password),
                        "display_name": value(&name).trim(),
                        "shop": {"name": value(&shop).trim(), "currency": cur, "time_zone": browser_time_zone()},
                    }),
                )
            } else {
                (
                    "/api/v1/auth/sign-in",
                    json!({"email": value(&email).trim(), "password": value(&password)}),
                )
            };
            busy.set(true);
            error.set(None);
            let (busy, error, local) = (busy.clone(), error.clone(), local.clone());
            spawn_local(async move {
                let offline =
                    "no connection: signing in needs the network once; try again when online";
                let result = start_session(&local, path, &body, offline).await;
                busy.set(false);
                if let Err(m) = result {
                    error.set(Some(m));
                }
            });
        })
    };

    let toggle = {
        let register = register.clone();
        let error = error.clone();
        Callback::from(move |_| {
            error.set(None);
            register.set(!*register);
        })
    };

    let title = if *register {
        "Create your account"
    } else if known.as_ref().is_some_and(|s| s.signed_out) {
        "Sign in again"
    } else {
        "Sign in"
    };
    html! {
        <section class="card sign-in" aria-labelledby="sign-in-title" data-testid="sign-in">
            <h2 id="sign-in-title">{ title }</h2>
            if known.as_ref().is_some_and(|s| s.signed_out) {
                <p class="hint">{ "Your session ended. Everything on this phone is kept and is sent once you sign in." }</p>
            }
            <form {onsubmit}>
                <div class="field">
                    <label for="si-email">{ "Email" }</label>
                    <input id="si-email" ref={email} type="email" autocomplete="username" required=true
                        value={known.as_ref().map(|s| s.user.email.clone()).unwrap_or_default()} />
                </div>
                <PasswordField id="si-password" label="Password" input_ref={password}
                    autocomplete={if *register { "new-password" } else { "current-password" }} />
                if *register {
                    <div class="field">
                        <label for="si-name">{ "Your name" }</label>
                        <input id="si-name" ref={name} type="text" autocomplete="name" required=true />
                    </div>
                    <div class="field">
                        <label for="si-shop">{ "Shop name" }</label>
                        <input id="si-shop" ref={shop} type="text" required=true />
                    </div>
                    <div class="field">
                        <label for="si-currency">{ "Currency" }</label>
                        <select id="si-currency" ref={currency}>
                            <option value="EUR" selected=true>{ "EUR (€)" }</option>
                            <option value="USD">{ "USD ($)" }</option>
                            <option value="GBP">{ "GBP (£)" }</option>
                        </select>
                    </div>
                }
                if let Some(e) = &*error {
                    <p class="error" role="alert">{ e.clone() }</p>
                }
                <button type="submit" class="primary" disabled={*busy}>
                    { if *register { "Create account" } else { "Sign in" } }
                </button>
            </form>
            <button type="button" class="link-button" onclick={toggle}>
                { if *register { "I already have an account" } else { "Create an account" } }
            </button>
        </section>
    }
}

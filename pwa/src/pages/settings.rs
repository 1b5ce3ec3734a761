//! Settings and account: the shop's details, currency, tax and machine cost per hour
//! (saved as an `entity.set.v1` op on the shop, so they sync like everything else and work
//! offline), inviting a helper (`POST /auth/invites`), changing the password and signing out.

use printstall_core::money::{Currency, Minor};
use printstall_core::sync::EntityKind;
use printstall_core::sync::OpBody;
use printstall_core::sync::op::EntitySet;
use serde_json::{Map, Value, json};
use wasm_bindgen_futures::spawn_local;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::stock::parse_amount;
use crate::api::api;
use crate::components::password_field::PasswordField;
use crate::components::sign_in::{SignIn, start_session};
use crate::local::use_local;
use crate::sync::http::{call, error_message};
use crate::sync::session_from;

fn value(r: &NodeRef) -> String {
    r.cast::<HtmlInputElement>()
        .map(|i| i.value())
        .unwrap_or_default()
}

fn checked(r: &NodeRef) -> bool {
    r.cast::<HtmlInputElement>().is_some_and(|i| i.checked())
}

/// Reads a percentage like `19`, `7.5` or `7,25` into basis points.
pub fn parse_percent_bp(text: &str) -> Option<u32> {
    parse_amount(text, 2).and_then(|v| u32::try_from(v).ok())
}

/// Basis points as a percentage without trailing zeros: 1900 -> `19`, 750 -> `7.5`.
pub fn percent(bp: u32) -> String {
    let s = format!("{}.{:02}", bp / 100, bp % 100);
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[derive(Clone, PartialEq)]
struct Member {
    name: String,
    email: String,
    role: String,
}

#[derive(Clone, PartialEq)]
struct Invite {
    code: String,
    expires_at: String,
}

#[function_component(Settings)]
pub fn settings() -> Html {
    let local = use_local();
    let model = local.model.clone();
    let refs: [NodeRef; 8] = [
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
    ];
    let include = use_node_ref();
    let shop_message = use_state(|| None::<(bool, String)>);
    let invite = use_state(|| None::<Result<Invite, String>>);
    let pw_current = use_node_ref();
    let pw_new = use_node_ref();
    let pw_message = use_state(|| None::<(bool, String)>);
    let out_message = use_state(|| None::<String>);
    let members = use_state(|| None::<Result<Vec<Member>, String>>);
    // The browser's zones, listed once, for the time zone field's suggestions.
    let zones = use_memo((), |_| crate::time_zones::all());

    // The member list comes from the server (it is not part of the synced data).
    {
        let local = local.clone();
        let members = members.clone();
        let signed_in = local.has_session() && !local.needs_sign_in();
        use_effect_with(signed_in, move |signed_in| {
            if *signed_in {
                spawn_local(async move {
                    let r = match api(&local, "GET", "/api/v1/shop/members", None).await {
                        Ok((200, b)) => Ok(b["members"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|m| Member {
                                name: m["display_name"].as_str().unwrap_or_default().to_owned(),
                                email: m["email"].as_str().unwrap_or_default().to_owned(),
                                role: m["role"].as_str().unwrap_or_default().to_owned(),
                            })
                            .collect()),
                        Ok((_, b)) => Err(error_message(&b)),
                        Err(e) => Err(e),
                    };
                    members.set(Some(r));
                });
            }
        });
    }

    let shop = model.snap.shop.clone();
    let cell = shop
        .as_ref()
        .and_then(|s| model.state.entity(EntityKind::Shop, s.id))
        .map(|v| v.fields)
        .unwrap_or_default();
    let business = cell.get("business").cloned().unwrap_or(Value::Null);
    let biz = |k: &str| {
        business
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let machine = cell
        .get("machine_cost_per_hour")
        .and_then(Value::as_i64)
        .map(|m| Minor(m).format_in(model.currency()))
        .unwrap_or_default();

    // The form shows the saved settings: filled in when they load or change (a sync, a
    // save), and left alone while the user types (the inputs are not bound to state).
    let saved: (Vec<String>, bool) = (
        vec![
            shop.as_ref().map(|s| s.name.clone()).unwrap_or_default(),
            shop.as_ref()
                .map(|s| s.currency.clone())
                .unwrap_or_default(),
            shop.as_ref()
                .map(|s| s.time_zone.clone())
                .unwrap_or_default(),
            shop.as_ref()
                .map(|s| percent(s.tax_rate_bp))
                .unwrap_or_default(),
            machine.clone(),
            biz("legal_name"),
            biz("tax_id"),
            biz("address"),
        ],
        shop.as_ref().is_none_or(|s| s.prices_include_tax),
    );
    {
        let refs = refs.clone();
        let include = include.clone();
        let ready = model.ready && local.has_session();
        use_effect_with((saved, ready), move |((values, incl), _)| {
            for (r, v) in refs.iter().zip(values) {
                if let Some(i) = r.cast::<HtmlInputElement>() {
                    i.set_value(v);
                }
            }
            if let Some(i) = include.cast::<HtmlInputElement>() {
                i.set_checked(*incl);
            }
        });
    }

    if !model.ready {
        return html! { <section class="settings"><h1>{ "Settings" }</h1><p>{ "Opening…" }</p></section> };
    }
    if !local.has_session() {
        return html! { <section class="settings"><h1>{ "Settings" }</h1><SignIn /><JoinShop /></section> };
    }
    let session = model.snap.session.clone();
    let owner = session.as_ref().is_some_and(|s| s.role == "owner");
    let [name, currency, tz, tax, machine_r, legal, tax_id, address] = refs.clone();

    let on_save = {
        let local = local.clone();
        let shop_message = shop_message.clone();
        let include = include.clone();
        let refs = refs.clone();
        let shop = shop.clone();
        let old_business = business.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(shop) = shop.clone() else {
                shop_message.set(Some((
                    false,
                    "The shop is not loaded yet; sync first.".into(),
                )));
                return;
            };
            let [name, currency, tz, tax, machine, legal, tax_id, address] = &refs;
            let bad = |m: &str| Some((false, m.to_owned()));
            let code = value(currency).trim().to_uppercase();
            let Ok(cur) = Currency::parse(&code) else {
                shop_message.set(bad(
                    "Currency: enter a three-letter code like EUR, USD or GBP",
                ));
                return;
            };
            let Some(tax_bp) = parse_percent_bp(&value(tax)) else {
                shop_message.set(bad("Tax rate: enter a percentage like 19 or 7.5"));
                return;
            };
            let zone = value(tz).trim().to_owned();
            if !crate::time_zones::is_known(&zone) {
                shop_message.set(bad(
                    "Time zone: pick one from the list, like Europe/Berlin or America/New_York",
                ));
                return;
            }
            let machine_text = value(machine);
            let machine_cost = if machine_text.trim().is_empty() {
                Value::Null
            } else {
                match parse_amount(&machine_text, cur.exponent()) {
                    Some(v) => json!(v),
                    None => {
                        shop_message.set(bad("Machine cost per hour: enter an amount like 0.40"));
                        return;
                    }
                }
            };
            let opt = |r: &NodeRef| {
                let v = value(r).trim().to_owned();
                if v.is_empty() {
                    Value::Null
                } else {
                    Value::String(v)
                }
            };
            let mut fields = Map::new();
            fields.insert("name".into(), Value::String(value(name).trim().to_owned()));
            if cur.code() != shop.currency {
                fields.insert("currency".into(), Value::String(cur.code().to_owned()));
            }
            fields.insert("time_zone".into(), Value::String(zone));
            fields.insert("tax_rate_bp".into(), json!(tax_bp));
            fields.insert("prices_include_tax".into(), Value::Bool(checked(&include)));
            fields.insert("machine_cost_per_hour".into(), machine_cost);
            let new_business =
                json!({"legal_name": opt(legal), "tax_id": opt(tax_id), "address": opt(address)});
            if new_business != old_business
                && !(old_business.is_null()
                    && new_business
                        .as_object()
                        .is_some_and(|o| o.values().all(Value::is_null)))
            {
                fields.insert("business".into(), new_business);
            }
            let msg = shop_message.clone();
            local.record(
                vec![OpBody::EntitySet(EntitySet {
                    entity: EntityKind::Shop,
                    id: shop.id,
                    fields,
                })],
                Callback::from(move |r: Result<(), String>| {
                    msg.set(Some(match r {
                        Ok(()) => (
                            true,
                            "Saved. Other devices get it at their next sync.".into(),
                        ),
                        Err(e) => (false, format!("Not saved: {e}")),
                    }))
                }),
            );
        })
    };

    let on_invite = {
        let local = local.clone();
        let invite = invite.clone();
        Callback::from(move |_| {
            let local = local.clone();
            let invite = invite.clone();
            spawn_local(async move {
                let r = match api(&local, "POST", "/api/v1/auth/invites", None).await {
                    Ok((201, b)) => Ok(Invite {
                        code: b["code"].as_str().unwrap_or_default().to_owned(),
                        expires_at: b["expires_at"]
                            .as_str()
                            .unwrap_or_default()
                            .chars()
                            .take(10)
                            .collect(),
                    }),
                    Ok((_, b)) => Err(error_message(&b)),
                    Err(e) => Err(e),
                };
                invite.set(Some(r));
            });
        })
    };

    let on_password = {
        let local = local.clone();
        let (cur, new) = (pw_current.clone(), pw_new.clone());
        let msg = pw_message.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = json!({"current_password": value(&cur), "new_password": value(&new)});
            let (local, msg, cur, new) = (local.clone(), msg.clone(), cur.clone(), new.clone());
            spawn_local(async move {
                let r = match api(&local, "POST", "/api/v1/auth/password", Some(&body)).await {
                    Ok((200, b)) => match (session_from(&b), local.store.clone()) {
                        (Some(s), Some(store)) => store
                            .save_session(&s)
                            .await
                            .map(|_| {
                                (
                                    true,
                                    "Password changed; other devices must sign in again."
                                        .to_string(),
                                )
                            })
                            .map_err(|e| e.0),
                        _ => Err("the server's answer could not be read".into()),
                    },
                    Ok((_, b)) => Err(error_message(&b)),
                    Err(e) => Err(e),
                };
                if r.is_ok() {
                    for n in [&cur, &new] {
                        if let Some(i) = n.cast::<HtmlInputElement>() {
                            i.set_value("");
                        }
                    }
                }
                msg.set(Some(r.unwrap_or_else(|e| (false, e))));
            });
        })
    };

    let pending = model.snap.outbox.len();
    let on_sign_out = {
        let local = local.clone();
        let out_message = out_message.clone();
        Callback::from(move |_| {
            let local = local.clone();
            let out_message = out_message.clone();
            spawn_local(async move {
                // Ends the refresh token on the server when online; signs out here either way.
                let _ = call("POST", "/api/v1/auth/sign-out", None, None).await;
                match local.store.clone() {
                    Some(store) => match store.mark_signed_out().await {
                        Ok(()) => local.reload.emit(()),
                        Err(e) => out_message.set(Some(format!("Not signed out: {}", e.0))),
                    },
                    None => out_message.set(Some("The local store is not open yet.".into())),
                }
            });
        })
    };

    let status = |m: &Option<(bool, String)>, id: &'static str| match m {
        Some((ok, text)) => html! {
            <p class={if *ok { "notice" } else { "form-error" }} role={if *ok { "status" } else { "alert" }} data-testid={id}>{ text.clone() }</p>
        },
        None => html! {},
    };

    html! {
        <section class="settings">
            <h1>{ "Settings" }</h1>
            if local.needs_sign_in() {
                <SignIn />
                <JoinShop />
            }
            <form class="card shop-settings" onsubmit={on_save} aria-labelledby="shop-title">
                <h2 id="shop-title">{ "Shop" }</h2>
                if !owner {
                    <p class="hint">{ "Only the shop's owner can change these." }</p>
                }
                <fieldset disabled={!owner}>
                    <div class="field">
                        <label for="set-name">{ "Shop name" }</label>
                        <input id="set-name" ref={name} type="text" required=true data-testid="set-name" />
                    </div>
                    <div class="field-row">
                        <div class="field">
                            <label for="set-currency">{ "Currency" }</label>
                            <input id="set-currency" ref={currency} type="text" maxlength="3" autocapitalize="characters" required=true />
                        </div>
                        <div class="field">
                            <label for="set-tz">{ "Time zone" }</label>
                            <input id="set-tz" ref={tz} type="text" required=true placeholder="Europe/Berlin"
                                list="time-zones" autocomplete="off" data-testid="set-tz" />
                            <datalist id="time-zones">
                                { for zones.iter().map(|z| html! { <option value={z.clone()} /> }) }
                            </datalist>
                        </div>
                    </div>
                    <div class="field-row">
                        <div class="field">
                            <label for="set-tax">{ "Tax rate (%)" }</label>
                            <input id="set-tax" ref={tax} type="text" inputmode="decimal" data-testid="set-tax" />
                        </div>
                        <div class="field">
                            <label for="set-machine">{ format!("Machine cost per hour ({})", model.currency().code()) }</label>
                            <input id="set-machine" ref={machine_r} type="text" inputmode="decimal" placeholder="0.40"
                                data-testid="set-machine" />
                        </div>
                    </div>
                    <label class="check">
                        <input type="checkbox" ref={include.clone()} />
                        { " Prices include tax" }
                    </label>
                    <details class="business">
                        <summary>{ "Business details (receipts and exports)" }</summary>
                        <div class="field">
                            <label for="set-legal">{ "Legal name" }</label>
                            <input id="set-legal" ref={legal} type="text" />
                        </div>
                        <div class="field">
                            <label for="set-taxid">{ "VAT / tax number" }</label>
                            <input id="set-taxid" ref={tax_id} type="text" />
                        </div>
                        <div class="field">
                            <label for="set-address">{ "Address" }</label>
                            <input id="set-address" ref={address} type="text" />
                        </div>
                    </details>
                    { status(&shop_message, "shop-message") }
                    <button type="submit" class="primary" data-testid="save-shop">{ "Save shop settings" }</button>
                </fieldset>
                <p class="hint">{ format!("Tax shown at the till: {}% ({})", percent(shop.as_ref().map_or(0, |s| s.tax_rate_bp)), if shop.as_ref().is_none_or(|s| s.prices_include_tax) { "included in prices" } else { "added to prices" }) }</p>
            </form>
            <section class="card members" aria-labelledby="members-title">
                <h2 id="members-title">{ "Members" }</h2>
                <p class="hint">{ "Helpers join as sellers: they can sell, count stock, weigh spools and run the queue, but not change prices or the catalogue." }</p>
                { match &*members {
                    Some(Ok(list)) => html! {
                        <ul class="member-list" data-testid="members">
                            { for list.iter().map(|m| html! {
                                <li><strong>{ &m.name }</strong>{ format!(" {} · {}", m.email, m.role) }</li>
                            }) }
                        </ul>
                    },
                    Some(Err(e)) => html! { <p class="hint">{ format!("Members could not be listed: {e}") }</p> },
                    None => html! { <p class="hint">{ "Loading members…" }</p> },
                } }
                if owner {
                    <button type="button" data-testid="invite" onclick={on_invite}>{ "Invite a helper" }</button>
                }
                { match &*invite {
                    Some(Ok(i)) => html! {
                        <p class="notice invite-code" role="status">
                            { "Give this code to your helper (works once, until " }{ &i.expires_at }{ "): " }
                            <code data-testid="invite-code">{ &i.code }</code>
                            <br />{ "On their phone they open More, Settings, and \u{201c}Join a shop with a code\u{201d}." }
                        </p>
                    },
                    Some(Err(e)) => html! { <p class="form-error" role="alert" data-testid="invite-error">{ e.clone() }</p> },
                    None => html! {},
                } }
            </section>
            <section class="card account" aria-labelledby="account-title">
                <h2 id="account-title">{ "Account" }</h2>
                if let Some(s) = &session {
                    <p data-testid="account-who">{ format!("Signed in as {} ({}), {}", s.user.display_name, s.user.email, s.role) }</p>
                }
                <form class="password" onsubmit={on_password}>
                    <PasswordField id="pw-current" label="Current password" input_ref={pw_current} />
                    <PasswordField id="pw-new" label="New password" input_ref={pw_new} autocomplete="new-password" />
                    { status(&pw_message, "password-message") }
                    <button type="submit">{ "Change password" }</button>
                </form>
                if pending > 0 {
                    <p class="hint">{ format!("{pending} change{} not sent yet: they stay on this device and are sent after you sign in again.", if pending == 1 { " is" } else { "s are" }) }</p>
                }
                <button type="button" class="danger" data-testid="sign-out" onclick={on_sign_out}>{ "Sign out" }</button>
                if let Some(m) = &*out_message {
                    <p class="form-error" role="alert">{ m.clone() }</p>
                }
            </section>
        </section>
    }
}

/// Joins a shop with an invite code (`POST /auth/join`), creating the account when the
/// email is new, and signs in to that shop as a seller.
#[function_component(JoinShop)]
fn join_shop() -> Html {
    let local = use_local();
    let refs: [NodeRef; 4] = [
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
    ];
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let onsubmit = {
        let (local, error, busy, refs) = (local.clone(), error.clone(), busy.clone(), refs.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            let [code, email, password, name] = &refs;
            let name = value(name).trim().to_owned();
            let body = json!({
                "code": value(code).trim(),
                "email": value(email).trim(),
                "password": value(password),
                "display_name": if name.is_empty() { Value::Null } else { Value::String(name) },
            });
            busy.set(true);
            error.set(None);
            let (local, error, busy) = (local.clone(), error.clone(), busy.clone());
            spawn_local(async move {
                let offline =
                    "no connection: joining needs the network once; try again when online";
                let r = start_session(&local, "/api/v1/auth/join", &body, offline).await;
                busy.set(false);
                if let Err(m) = r {
                    error.set(Some(m));
                }
            });
        })
    };
    let [code, email, password, name] = refs;
    html! {
        <form class="card join-shop" {onsubmit} aria-labelledby="join-title" data-testid="join-shop">
            <h2 id="join-title">{ "Join a shop with a code" }</h2>
            <p class="hint">{ "The shop's owner gives you a one-time code from their Settings." }</p>
            <div class="field">
                <label for="join-code">{ "Invite code" }</label>
                <input id="join-code" ref={code} type="text" autocomplete="off" autocapitalize="characters" required=true />
            </div>
            <div class="field">
                <label for="join-email">{ "Your email" }</label>
                <input id="join-email" ref={email} type="email" autocomplete="username" required=true />
            </div>
            <PasswordField id="join-password" label="Your password" input_ref={password} autocomplete="new-password" />
            <div class="field">
                <label for="join-name">{ "Your name (for a new account)" }</label>
                <input id="join-name" ref={name} type="text" autocomplete="name" />
            </div>
            if let Some(e) = &*error {
                <p class="form-error" role="alert">{ e.clone() }</p>
            }
            <button type="submit" disabled={*busy}>{ "Join the shop" }</button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_percent_bp, percent};

    #[test]
    fn percentages() {
        assert_eq!(parse_percent_bp("19"), Some(1900));
        assert_eq!(parse_percent_bp("7,5"), Some(750));
        assert_eq!(parse_percent_bp("x"), None);
        assert_eq!(percent(1900), "19");
        assert_eq!(percent(750), "7.5");
        assert_eq!(percent(0), "0");
    }
}

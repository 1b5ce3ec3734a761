//! Your sessions (each sign-in: device, started, last used; end any other one) and, for the
//! shop's owner, the audit log: who changed what, when, newest first, filtered by kind of
//! record, with a CSV download.

use serde_json::Value;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::local::use_local;
use crate::sync::http::{Net, call, error_message};

fn short_time(v: &Value) -> String {
    // "2026-11-25T05:12:40.49Z" -> "2026-11-25 05:12"
    v.as_str()
        .map(|s| s.replace('T', " ").chars().take(16).collect())
        .unwrap_or_default()
}

#[function_component(Sessions)]
pub fn sessions() -> Html {
    let local = use_local();
    let token = local.access_token();
    let list = use_state(|| None::<Result<Vec<Value>, String>>);
    let version = use_state(|| 0u32);
    {
        let (list, token) = (list.clone(), token.clone());
        use_effect_with((token.clone(), *version), move |_| {
            if let Some(token) = token {
                spawn_local(async move {
                    let got = match call("GET", "/api/v1/auth/sessions", Some(&token), None).await {
                        Net::Answer(200, body) => {
                            Ok(body["items"].as_array().cloned().unwrap_or_default())
                        }
                        Net::Answer(_, body) => Err(error_message(&body)),
                        Net::Unreachable(_) => Err("sessions are shown when online".into()),
                    };
                    list.set(Some(got));
                });
            }
        });
    }
    if token.is_none() {
        return html! {};
    }
    let end = |id: String| {
        let (token, version, list) = (token.clone(), version.clone(), list.clone());
        Callback::from(move |_| {
            let (id, token, version, list) =
                (id.clone(), token.clone(), version.clone(), list.clone());
            spawn_local(async move {
                let path = format!("/api/v1/auth/sessions/{id}");
                match call("DELETE", &path, token.as_deref(), None).await {
                    Net::Answer(204 | 404, _) => version.set(*version + 1),
                    Net::Answer(_, body) => list.set(Some(Err(error_message(&body)))),
                    Net::Unreachable(_) => {
                        list.set(Some(Err("ending a session needs the network".into())))
                    }
                }
            });
        })
    };
    let body = match &*list {
        None => html! { <p class="hint">{ "Loading…" }</p> },
        Some(Err(m)) => html! { <p class="form-error" role="alert">{ m.clone() }</p> },
        Some(Ok(items)) => html! {
            <ul class="session-list" data-testid="sessions">
                { for items.iter().map(|s| {
                    let id = s["id"].as_str().unwrap_or_default().to_owned();
                    let current = s["current"].as_bool().unwrap_or(false);
                    let device = s["device"].as_str().unwrap_or("Unknown device").to_owned();
                    html! {
                        <li class="session" data-session={id.clone()}>
                            <span class="session-device">{ device }</span>
                            <span class="hint">{ format!("since {} · last used {}", short_time(&s["created_at"]), short_time(&s["last_used_at"])) }</span>
                            if current {
                                <span class="badge">{ "This device" }</span>
                            } else {
                                <button type="button" class="secondary" onclick={end(id.clone())}>{ "End" }</button>
                            }
                        </li>
                    }
                }) }
            </ul>
        },
    };
    html! {
        <section class="card" aria-labelledby="sessions-title">
            <h2 id="sessions-title">{ "Your sessions" }</h2>
            { body }
        </section>
    }
}

const KINDS: &[(&str, &str)] = &[
    ("", "Everything"),
    ("product", "Products"),
    ("stock_entry", "Stock moves"),
    ("sale", "Sales"),
    ("spool", "Spools"),
    ("filament", "Filaments"),
    ("model", "Models"),
    ("model_variant", "Variants"),
    ("print_job", "Print jobs"),
    ("market_event", "Market events"),
    ("membership", "Members"),
    ("sync_op", "Sync operations"),
];

/// The audit log's CSV through `fetch` (it needs the bearer token), offered as a download.
async fn csv_url(token: &str, entity: &str) -> Result<String, String> {
    let fail = |e: wasm_bindgen::JsValue| format!("{e:?}");
    let window = web_sys::window().ok_or("no window")?;
    let headers = web_sys::Headers::new().map_err(fail)?;
    headers
        .set("Authorization", &format!("Bearer {token}"))
        .map_err(fail)?;
    let init = web_sys::RequestInit::new();
    init.set_method("GET");
    init.set_headers(&headers);
    let query = if entity.is_empty() {
        String::new()
    } else {
        format!("?entity={entity}")
    };
    let req =
        web_sys::Request::new_with_str_and_init(&format!("/api/v1/audit/export{query}"), &init)
            .map_err(fail)?;
    let resp: web_sys::Response = JsFuture::from(window.fetch_with_request(&req))
        .await
        .map_err(|_| "the export needs the network".to_owned())?
        .dyn_into()
        .map_err(fail)?;
    if !resp.ok() {
        return Err(format!("the export failed ({})", resp.status()));
    }
    let blob: web_sys::Blob = JsFuture::from(resp.blob().map_err(fail)?)
        .await
        .map_err(fail)?
        .dyn_into()
        .map_err(fail)?;
    web_sys::Url::create_object_url_with_blob(&blob).map_err(fail)
}

#[function_component(AuditLog)]
pub fn audit_log() -> Html {
    let local = use_local();
    let session = local.model.snap.session.clone().filter(|s| !s.signed_out);
    let entity = use_state(String::new);
    let page = use_state(|| None::<Result<(Vec<Value>, Option<String>), String>>);
    let cursor = use_state(|| None::<String>);
    let csv = use_state(|| None::<Result<String, String>>);
    let token = session.as_ref().map(|s| s.access_token.clone());
    let owner = session.as_ref().is_some_and(|s| s.role == "owner");
    {
        let (page, token) = (page.clone(), token.clone());
        use_effect_with(
            ((*entity).clone(), (*cursor).clone(), token.clone()),
            move |(kind, after, _)| {
                if let (Some(token), true) = (token, owner) {
                    let mut path = String::from("/api/v1/audit?limit=25");
                    if !kind.is_empty() {
                        path.push_str(&format!("&entity={kind}"));
                    }
                    if let Some(c) = after {
                        path.push_str(&format!("&cursor={c}"));
                    }
                    spawn_local(async move {
                        let got = match call("GET", &path, Some(&token), None).await {
                            Net::Answer(200, body) => Ok((
                                body["items"].as_array().cloned().unwrap_or_default(),
                                body["next_cursor"].as_str().map(str::to_owned),
                            )),
                            Net::Answer(_, body) => Err(error_message(&body)),
                            Net::Unreachable(_) => Err("the audit log is shown when online".into()),
                        };
                        page.set(Some(got));
                    });
                }
            },
        );
    }
    if !owner {
        return html! {};
    }
    let onchange = {
        let (entity, cursor, csv) = (entity.clone(), cursor.clone(), csv.clone());
        Callback::from(move |e: Event| {
            if let Some(s) = e.target_dyn_into::<HtmlSelectElement>() {
                cursor.set(None);
                csv.set(None);
                entity.set(s.value());
            }
        })
    };
    let export = {
        let (csv, token, entity) = (csv.clone(), token.clone(), entity.clone());
        Callback::from(move |_| {
            let (csv, token, entity) = (
                csv.clone(),
                token.clone().unwrap_or_default(),
                (*entity).clone(),
            );
            spawn_local(async move { csv.set(Some(csv_url(&token, &entity).await)) });
        })
    };
    let rows = match &*page {
        None => html! { <p class="hint">{ "Loading…" }</p> },
        Some(Err(m)) => html! { <p class="form-error" role="alert">{ m.clone() }</p> },
        Some(Ok((items, next))) => {
            let older = next.clone().map(|n| {
                let cursor = cursor.clone();
                html! { <button type="button" class="secondary" onclick={Callback::from(move |_| cursor.set(Some(n.clone())))}>{ "Older" }</button> }
            });
            html! {
                <>
                    <ol class="audit-list" data-testid="audit-log">
                        { for items.iter().map(|e| {
                            let fields: Vec<String> = e["after"].as_object().or_else(|| e["before"].as_object())
                                .map(|m| m.keys().take(6).cloned().collect()).unwrap_or_default();
                            html! {
                                <li class="audit-entry">
                                    <span class="audit-what">{ format!("{} {}", e["entity"].as_str().unwrap_or("?"), e["action"].as_str().unwrap_or("?")) }</span>
                                    <span class="hint">{ format!("{} · {}", short_time(&e["at"]), e["user_name"].as_str().unwrap_or("former member")) }</span>
                                    <span class="audit-fields">{ fields.join(", ") }</span>
                                </li>
                            }
                        }) }
                    </ol>
                    { for older }
                </>
            }
        }
    };
    html! {
        <section class="card" aria-labelledby="audit-title">
            <h2 id="audit-title">{ "Audit log" }</h2>
            <div class="field">
                <label for="audit-kind">{ "Show" }</label>
                <select id="audit-kind" {onchange}>
                    { for KINDS.iter().map(|(v, label)| html! { <option value={*v} selected={*entity == *v}>{ *label }</option> }) }
                </select>
            </div>
            { rows }
            <p>
                <button type="button" class="secondary" onclick={export}>{ "Prepare CSV" }</button>
                { match &*csv {
                    Some(Ok(url)) => html! { <a href={url.clone()} download="audit-log.csv" data-testid="audit-csv">{ "Download audit-log.csv" }</a> },
                    Some(Err(m)) => html! { <span class="form-error" role="alert">{ m.clone() }</span> },
                    None => html! {},
                } }
            </p>
        </section>
    }
}

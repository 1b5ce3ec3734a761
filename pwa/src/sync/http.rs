//! JSON over `fetch`, same-origin (the refresh cookie travels with `/auth/*` calls).

use serde_json::Value;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestCredentials, RequestInit, Response};

/// A call that got no answer (offline, server down) or an answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Net {
    /// No answer: the network or the server is unreachable.
    Unreachable(String),
    /// An HTTP answer with its JSON body (`Null` when it had none).
    Answer(u16, Value),
}

/// The error message of an API error body (`{"error": {"message"}}`).
pub fn error_message(body: &Value) -> String {
    body.pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or("the server could not do that")
        .to_owned()
}

pub fn error_code(body: &Value) -> &str {
    body.pointer("/error/code")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// Sends `method path` with an optional bearer token and JSON body.
pub async fn call(method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Net {
    match try_call(method, path, token, body).await {
        Ok(n) => n,
        Err(e) => Net::Unreachable(
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
                .unwrap_or_else(|| "network error".into()),
        ),
    }
}

async fn try_call(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Result<Net, JsValue> {
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
    let headers = Headers::new()?;
    headers.set("Accept", "application/json")?;
    if let Some(t) = token {
        headers.set("Authorization", &format!("Bearer {t}"))?;
    }
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(RequestCredentials::SameOrigin);
    if let Some(b) = body {
        headers.set("Content-Type", "application/json")?;
        init.set_body(&JsValue::from_str(&b.to_string()));
    }
    init.set_headers(&headers);
    let req = Request::new_with_str_and_init(path, &init)?;
    let resp: Response = JsFuture::from(window.fetch_with_request(&req))
        .await?
        .dyn_into()?;
    let status = resp.status();
    let text = JsFuture::from(resp.text()?)
        .await?
        .as_string()
        .unwrap_or_default();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Ok(Net::Answer(status, json))
}

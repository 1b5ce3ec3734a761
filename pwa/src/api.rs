//! Calls to the REST API as the signed-in member, for the screens that need the server
//! itself (members, invitations, the password, imports): the access token is refreshed
//! once when it is old or refused. Offline, the answer is a clear error, never a wait.

use serde_json::Value;

use crate::local::Local;
use crate::store::Session;
use crate::sync::http::{Net, call, error_message};
use crate::sync::session_from;

/// What a call that needs the server says when there is no connection.
pub const OFFLINE: &str = "no connection; this needs the server, try again when online";

/// `method path` with the member's token and an optional JSON body: the status and body.
pub async fn api(
    local: &Local,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<(u16, Value), String> {
    let store = local
        .store
        .clone()
        .ok_or("the local store is not open yet")?;
    let snap = store.load().await.map_err(|e| e.0)?;
    let mut session: Session = snap
        .session
        .filter(|s| !s.signed_out)
        .ok_or("sign in first")?;
    let mut refreshed = false;
    loop {
        if session.expires_at_ms - 30_000.0 < js_sys::Date::now() || refreshed {
            match call("POST", "/api/v1/auth/refresh", None, None).await {
                Net::Answer(200, b) => {
                    session = session_from(&b).ok_or("the server's answer could not be read")?;
                    store.save_session(&session).await.map_err(|e| e.0)?;
                }
                Net::Answer(_, b) => return Err(format!("sign in again: {}", error_message(&b))),
                Net::Unreachable(_) => return Err(OFFLINE.into()),
            }
        }
        match call(method, path, Some(&session.access_token), body).await {
            Net::Unreachable(_) => return Err(OFFLINE.into()),
            Net::Answer(401, _) if !refreshed => refreshed = true,
            Net::Answer(s, b) => return Ok((s, b)),
        }
    }
}

//! Sync with the server (`shared/notes/sync-protocol.md`): push the outbox in batches,
//! pull changed cells page by page, start again from scratch on `409 resync_required`.
//!
//! [`run`] is one pass; [`Driver`] decides when to run it: on load, on `online`, when the
//! page becomes visible, on a timer with backoff, on the server's `poke` (server-sent
//! events), and after each local change. One tab syncs at a time (`navigator.locks`).
//!
//! Background Sync (Chromium, Android; never relied on alone): whenever ops are about to
//! be pushed, the tab registers the service worker's `printstall-outbox` sync. Should the
//! tab be closed (or go offline) before the server answered, the browser fires it once
//! there is a connection, and the worker sends the outbox as it is (see `public/sw.js`); with
//! a tab of the app open it only wakes that tab, whose driver syncs. The outbox is only
//! ever changed here: ops the worker sent are pushed again on the next pass and answered
//! `duplicate` with their first answer, so each op counts once.
//!
//! Sessions: an expired access token is refreshed silently (the refresh token is an
//! HttpOnly cookie). If the server refuses the refresh, the session is marked signed out
//! and the user is asked to sign in again; the outbox and the pulled data stay.

pub mod http;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo::events::EventListener;
use gloo::timers::callback::Timeout;
use printstall_core::sync::{Hlc, MAX_BATCH, Op};
use serde_json::{Value, json};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise, spawn_local};
use yew::Callback;

use crate::store::{CellRow, Session, ShopInfo, Store, StoreError, UserInfo, now_ms};
use http::{Net, call, error_code, error_message};

/// The sync wire protocol the app speaks.
pub const PROTOCOL: u32 = 1;
const PULL_LIMIT: usize = 500;

/// Why a pass stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncError {
    /// No network or no server: try again later.
    Offline,
    /// No session, or the server ended it: sign in again.
    SignIn,
    /// The local store failed.
    Store(String),
    /// The server answered with an error.
    Server(String),
}

impl SyncError {
    pub fn message(&self) -> String {
        match self {
            SyncError::Offline => "offline: changes wait on this phone".into(),
            SyncError::SignIn => "sign in again to send your changes".into(),
            SyncError::Store(m) | SyncError::Server(m) => m.clone(),
        }
    }
}

impl From<StoreError> for SyncError {
    fn from(e: StoreError) -> Self {
        SyncError::Store(e.0)
    }
}

/// A session from a sign-in, register or refresh answer.
pub fn session_from(body: &Value) -> Option<Session> {
    Some(Session {
        access_token: body.get("access_token")?.as_str()?.to_owned(),
        expires_at_ms: now_ms() + body.get("expires_in")?.as_f64()? * 1000.0,
        user: serde_json::from_value::<UserInfo>(body.get("user")?.clone()).ok()?,
        shop_id: serde_json::from_value(body.get("shop_id")?.clone()).ok()?,
        role: body.get("role")?.as_str()?.to_owned(),
        signed_out: false,
    })
}

/// Asks the server for a new access token with the refresh cookie.
async fn refresh(store: &Store) -> Result<Session, SyncError> {
    match call("POST", "/api/v1/auth/refresh", None, None).await {
        Net::Unreachable(_) => Err(SyncError::Offline),
        Net::Answer(200, body) => {
            let s = session_from(&body)
                .ok_or_else(|| SyncError::Server("the refresh answer could not be read".into()))?;
            store.save_session(&s).await?;
            Ok(s)
        }
        Net::Answer(401 | 403, _) => {
            store.mark_signed_out().await?;
            Err(SyncError::SignIn)
        }
        Net::Answer(_, body) => Err(SyncError::Server(error_message(&body))),
    }
}

/// Calls the API as the signed-in member; refreshes the token when it has expired or the
/// server says so, once.
async fn authed(
    store: &Store,
    session: &mut Session,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<(u16, Value), SyncError> {
    if session.expires_at_ms - 30_000.0 < now_ms() {
        *session = refresh(store).await?;
    }
    let mut retried = false;
    loop {
        match call(method, path, Some(&session.access_token), body).await {
            Net::Unreachable(_) => return Err(SyncError::Offline),
            Net::Answer(401, _) if !retried => {
                retried = true;
                *session = refresh(store).await?;
            }
            Net::Answer(401, _) => {
                store.mark_signed_out().await?;
                return Err(SyncError::SignIn);
            }
            Net::Answer(status, body) => return Ok((status, body)),
        }
    }
}

/// Loads the shop's settings (currency, tax) into the store.
pub async fn fetch_shop(store: &Store, session: &mut Session) -> Result<(), SyncError> {
    let (status, body) = authed(store, session, "GET", "/api/v1/shop", None).await?;
    if status != 200 {
        return Err(SyncError::Server(error_message(&body)));
    }
    let shop = ShopInfo {
        id: serde_json::from_value(body["id"].clone())
            .map_err(|e| SyncError::Server(e.to_string()))?,
        name: body["name"].as_str().unwrap_or_default().to_owned(),
        currency: body["currency"].as_str().unwrap_or("EUR").to_owned(),
        time_zone: body["time_zone"].as_str().unwrap_or("UTC").to_owned(),
        tax_rate_bp: body["tax_rate_bp"]
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(0),
        prices_include_tax: body["prices_include_tax"].as_bool().unwrap_or(true),
    };
    store.save_shop(&shop).await?;
    Ok(())
}

/// One pass: push everything queued, pull everything new.
pub async fn run(store: &Store) -> Result<(), SyncError> {
    let snap = store.load().await?;
    let mut session = match snap.session {
        Some(s) if !s.signed_out => s,
        _ => return Err(SyncError::SignIn),
    };
    let device_id = snap
        .clock
        .as_ref()
        .map(|c| c.device_id)
        .ok_or_else(|| SyncError::Store("the device has no id yet".into()))?;
    if snap.shop.as_ref().is_none_or(|s| s.id != session.shop_id) {
        fetch_shop(store, &mut session).await?;
    }
    push(store, &mut session, device_id).await?;
    let resynced = pull(store, &mut session).await?;
    if resynced {
        // The applied ops were queued again: send them, then pull their effect.
        push(store, &mut session, device_id).await?;
        pull(store, &mut session).await?;
    }
    store.synced().await?;
    Ok(())
}

async fn push(
    store: &Store,
    session: &mut Session,
    device_id: printstall_core::domain::DeviceId,
) -> Result<(), SyncError> {
    let mut registered = false;
    loop {
        let ops: Vec<Op> = store.outbox(MAX_BATCH).await?;
        if ops.is_empty() {
            return Ok(());
        }
        if !registered {
            // Should this page close before the answer, the service worker sends them.
            register_background_sync();
            registered = true;
        }
        let body = json!({"protocol": PROTOCOL, "device_id": device_id, "ops": ops});
        let (status, answer) =
            authed(store, session, "POST", "/api/v1/sync/push", Some(&body)).await?;
        if status != 200 {
            return Err(SyncError::Server(format!(
                "the server did not take the changes ({status}): {}",
                error_message(&answer)
            )));
        }
        let results = answer["results"].as_array().cloned().unwrap_or_default();
        let mut acks = Vec::with_capacity(ops.len());
        for (i, op) in ops.into_iter().enumerate() {
            let id = op.op_id.to_string();
            let r = results
                .iter()
                .find(|r| r["op_id"].as_str() == Some(id.as_str()))
                .or_else(|| results.get(i));
            let Some(r) = r else { continue };
            let status = r["status"].as_str().unwrap_or("applied");
            // A duplicate carries what its first delivery was answered.
            let effective = if status == "duplicate" {
                r["original"].as_str().unwrap_or("applied")
            } else {
                status
            };
            let reason = r["reason"].as_str().map(str::to_owned);
            acks.push((op, effective.to_owned(), reason));
        }
        if acks.is_empty() {
            return Err(SyncError::Server(
                "the server's answer named none of the changes sent".into(),
            ));
        }
        store.ack(acks).await?;
    }
}

/// The latest clock stamp anywhere in a pulled cell.
fn max_hlc(v: &Value, best: &mut Option<Hlc>) {
    match v {
        Value::Object(m) => {
            if m.contains_key("wall_ms")
                && m.contains_key("device_id")
                && let Ok(h) = serde_json::from_value::<Hlc>(v.clone())
            {
                if best.is_none_or(|b| h > b) {
                    *best = Some(h);
                }
                return;
            }
            m.values().for_each(|x| max_hlc(x, best));
        }
        Value::Array(a) => a.iter().for_each(|x| max_hlc(x, best)),
        _ => {}
    }
}

/// Pulls until the server has no more. `Ok(true)` when it had to start from scratch.
async fn pull(store: &Store, session: &mut Session) -> Result<bool, SyncError> {
    let mut cursor = store.load().await?.sync.cursor;
    let mut resynced = false;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/sync/pull?limit={PULL_LIMIT}&cursor={c}"),
            None => format!("/api/v1/sync/pull?limit={PULL_LIMIT}"),
        };
        let (status, body) = authed(store, session, "GET", &path, None).await?;
        if status == 409 && error_code(&body) == "resync_required" && !resynced {
            store.reset_for_resync().await?;
            cursor = None;
            resynced = true;
            continue;
        }
        if status != 200 {
            return Err(SyncError::Server(error_message(&body)));
        }
        let cells: Vec<CellRow> = serde_json::from_value(body["cells"].clone())
            .map_err(|e| SyncError::Server(format!("the pulled page could not be read: {e}")))?;
        let next = body["cursor"].as_str().unwrap_or_default().to_owned();
        let mut seen = None;
        cells.iter().for_each(|c| max_hlc(&c.cell, &mut seen));
        store.save_page(&cells, &next, seen).await?;
        cursor = Some(next);
        if !body["more"].as_bool().unwrap_or(false) {
            return Ok(resynced);
        }
    }
}

/// Runs `f` holding the tab-wide sync lock; does nothing if another tab holds it.
/// Without `navigator.locks`, just runs it.
async fn with_lock(f: impl std::future::Future<Output = ()> + 'static) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let locks = js_sys::Reflect::get(&window.navigator(), &JsValue::from_str("locks"))
        .unwrap_or(JsValue::UNDEFINED);
    let request = js_sys::Reflect::get(&locks, &JsValue::from_str("request"))
        .ok()
        .and_then(|r| r.dyn_into::<js_sys::Function>().ok());
    let Some(request) = request.filter(|_| !locks.is_undefined()) else {
        f.await;
        return;
    };
    let callback = Closure::once_into_js(move |lock: JsValue| -> js_sys::Promise {
        if lock.is_null() {
            js_sys::Promise::resolve(&JsValue::UNDEFINED)
        } else {
            future_to_promise(async move {
                f.await;
                Ok(JsValue::UNDEFINED)
            })
        }
    });
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"ifAvailable".into(), &JsValue::TRUE);
    if let Ok(p) = request.call3(&locks, &"printstall-sync".into(), &options, &callback)
        && let Ok(p) = p.dyn_into::<js_sys::Promise>()
    {
        let _ = JsFuture::from(p).await;
    }
}

/// The Background Sync tag the service worker answers (`public/sw.js`).
pub const BACKGROUND_SYNC_TAG: &str = "printstall-outbox";

fn get(target: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(target, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// Asks the browser to fire the service worker's sync event once there is a connection
/// (where Background Sync exists; elsewhere nothing happens and the tab's own triggers
/// remain).
pub fn register_background_sync() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let container = get(&window.navigator(), "serviceWorker");
    if container.is_undefined() {
        return;
    }
    let Ok(ready) = get(&container, "ready").dyn_into::<js_sys::Promise>() else {
        return;
    };
    spawn_local(async move {
        let Ok(registration) = JsFuture::from(ready).await else {
            return;
        };
        let manager = get(&registration, "sync");
        let Ok(register) = get(&manager, "register").dyn_into::<js_sys::Function>() else {
            return;
        };
        if let Ok(p) = register.call1(&manager, &JsValue::from_str(BACKGROUND_SYNC_TAG))
            && let Ok(p) = p.dyn_into::<js_sys::Promise>()
        {
            // Refused (no permission, or the worker is gone): the tab's triggers remain.
            let _ = JsFuture::from(p).await;
        }
    });
}

/// What the top bar shows about sync.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SyncStatus {
    pub running: bool,
    pub error: Option<SyncError>,
}

/// Decides when to sync, and runs one pass at a time.
pub struct Driver {
    store: Store,
    running: Cell<bool>,
    again: Cell<bool>,
    failures: Cell<u32>,
    timer: RefCell<Option<Timeout>>,
    events: RefCell<Option<(web_sys::EventSource, String, Vec<EventListener>)>>,
    listeners: RefCell<Vec<EventListener>>,
    /// Called with the status whenever a pass starts or ends.
    on_status: Callback<SyncStatus>,
}

impl Driver {
    pub fn new(store: Store, on_status: Callback<SyncStatus>) -> Rc<Driver> {
        let d = Rc::new(Driver {
            store,
            running: Cell::new(false),
            again: Cell::new(false),
            failures: Cell::new(0),
            timer: RefCell::new(None),
            events: RefCell::new(None),
            listeners: RefCell::new(Vec::new()),
            on_status,
        });
        d.listen();
        d
    }

    fn listen(self: &Rc<Self>) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let weak = Rc::downgrade(self);
        let online = EventListener::new(&window, "online", move |_| {
            if let Some(d) = weak.upgrade() {
                d.close_events();
                d.kick();
            }
        });
        let weak = Rc::downgrade(self);
        let doc = window.document();
        let mut ls = vec![online];
        if let Some(doc) = doc {
            ls.push(EventListener::new(&doc, "visibilitychange", move |_| {
                let visible = web_sys::window()
                    .and_then(|w| w.document())
                    .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Visible);
                if visible && let Some(d) = weak.upgrade() {
                    d.kick();
                }
            }));
        }
        // The service worker's Background Sync fired while this tab is open: sync here,
        // unless the last pass failed (its backoff timer retries; the browser may think it is
        // online while the server is unreachable, and must not drive a loop of passes).
        let container = get(&window.navigator(), "serviceWorker");
        if let Ok(target) = container.dyn_into::<web_sys::EventTarget>() {
            let weak = Rc::downgrade(self);
            ls.push(EventListener::new(&target, "message", move |e| {
                let kind = get(&get(e.as_ref(), "data"), "type");
                if kind.as_string().as_deref() == Some("printstall-sync")
                    && let Some(d) = weak.upgrade()
                    && d.failures.get() == 0
                {
                    d.kick();
                }
            }));
        }
        *self.listeners.borrow_mut() = ls;
    }

    fn close_events(&self) {
        if let Some((es, _, _)) = self.events.borrow_mut().take() {
            es.close();
        }
    }

    /// Opens the server-sent events stream (again, when the token changed or it closed).
    fn ensure_events(self: &Rc<Self>, token: &str) {
        {
            let ev = self.events.borrow();
            if let Some((es, t, _)) = ev.as_ref()
                && t == token
                && es.ready_state() != web_sys::EventSource::CLOSED
            {
                return;
            }
        }
        self.close_events();
        let url = format!("/api/v1/sync/events?access_token={token}");
        let Ok(es) = web_sys::EventSource::new(&url) else {
            return;
        };
        let mut ls = Vec::new();
        for name in ["poke", "hello"] {
            let weak = Rc::downgrade(self);
            ls.push(EventListener::new(&es, name, move |_| {
                if let Some(d) = weak.upgrade() {
                    d.kick();
                }
            }));
        }
        *self.events.borrow_mut() = Some((es, token.to_owned(), ls));
    }

    /// Syncs now (or right after the pass that is running).
    pub fn kick(self: &Rc<Self>) {
        if self.running.get() {
            self.again.set(true);
            return;
        }
        self.running.set(true);
        self.timer.borrow_mut().take();
        self.on_status.emit(SyncStatus {
            running: true,
            error: None,
        });
        let me = Rc::clone(self);
        spawn_local(async move {
            let mut result;
            loop {
                me.again.set(false);
                let out: Rc<RefCell<Option<Result<(), SyncError>>>> = Rc::new(RefCell::new(None));
                let slot = Rc::clone(&out);
                let store = me.store.clone();
                with_lock(async move {
                    let r = run(&store).await;
                    *slot.borrow_mut() = Some(r);
                })
                .await;
                // Another tab held the lock: it syncs; this tab reloads what it wrote.
                result = out.borrow_mut().take().unwrap_or(Ok(()));
                if result.is_err() || !me.again.get() {
                    break;
                }
            }
            me.running.set(false);
            let delay_ms = match &result {
                Ok(()) => {
                    me.failures.set(0);
                    if let Ok(snap) = me.store.load().await
                        && let Some(s) = snap.session
                    {
                        me.ensure_events(&s.access_token);
                    }
                    30_000
                }
                Err(SyncError::SignIn) => 0,
                Err(_) => {
                    let n = me.failures.get().saturating_add(1);
                    me.failures.set(n);
                    (2_000u32.saturating_mul(1 << n.min(7))).min(300_000)
                }
            };
            if delay_ms > 0 {
                let weak = Rc::downgrade(&me);
                *me.timer.borrow_mut() = Some(Timeout::new(delay_ms, move || {
                    if let Some(d) = weak.upgrade() {
                        d.kick();
                    }
                }));
            }
            me.on_status.emit(SyncStatus {
                running: false,
                error: result.err(),
            });
        });
    }
}

//! Uploads that survive a lost connection: a picked file waits in IndexedDB (its own
//! database, `printstall-uploads`, apart from the sync store's schema) until it is in the
//! file store and the server has checked and recorded it.
//!
//! 1. [`enqueue`] hashes the file (SHA-256, read in 4 MiB slices, so memory stays small)
//!    and stores the `File` with what is known about it, in one transaction. That works
//!    offline.
//! 2. The [`Uploader`] sends what waits, one file at a time, whenever it is kicked: after an
//!    enqueue, on the `online` event, on load, and on a timer with backoff after a failure.
//!    It asks the server for an upload (`POST /variants/{id}/files` or
//!    `/models/{id}/files`), `PUT`s the bytes straight to the file store through the
//!    presigned URL(s) with `XMLHttpRequest` (whose `upload.onprogress` drives the progress
//!    bar), one part at a time for large files, then completes the upload.
//! 3. After a lost connection or a reload it resumes: `GET /uploads/{id}` says which parts
//!    the store already holds and gives fresh URLs for the rest.
//! 4. The server answers what it read itself; the record is deleted. A refusal (422, 413)
//!    stays listed with the server's message until it is dismissed.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use gloo::events::EventListener;
use gloo::timers::callback::Timeout;
use js_sys::{Function, Promise};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{IdbDatabase, IdbTransactionMode};
use yew::Callback;

use crate::store::idb::{commit, request};
use crate::store::{Session, Store, now_ms};
use crate::sync::http::{Net, call, error_message};

/// The database of files waiting to be uploaded (owned here, not by the sync store).
pub const DB_NAME: &str = "printstall-uploads";
const DB_VERSION: u32 = 1;
/// JSON records ([`Pending`]) by id.
const RECORDS: &str = "records";
/// The `File`s themselves, by the same id.
const BLOBS: &str = "blobs";
/// Bytes hashed per read.
const HASH_CHUNK: u64 = 4 * 1024 * 1024;
/// Longest wait between retries.
const MAX_BACKOFF_MS: u32 = 60_000;

/// What an upload is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Target {
    /// A variant's sliced file.
    Variant(Uuid),
    /// A model's design file (STL, 3MF).
    Model(Uuid),
}

impl Target {
    fn start_path(self) -> String {
        match self {
            Target::Variant(id) => format!("/api/v1/variants/{id}/files"),
            Target::Model(id) => format!("/api/v1/models/{id}/files"),
        }
    }
}

/// Where a waiting file is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", content = "message", rename_all = "snake_case")]
pub enum PendingState {
    /// Not sent yet, or interrupted: sent when there is a connection.
    Waiting,
    /// Being sent now.
    Uploading,
    /// The server refused it; it will not be retried.
    Failed(String),
}

/// One file waiting to be uploaded, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub id: Uuid,
    pub target: Target,
    /// What the maker sees the upload as ("Large · Rex").
    pub label: String,
    pub file_name: String,
    pub size: u64,
    pub sha256: String,
    /// The server's upload, once started.
    pub upload_id: Option<Uuid>,
    pub state: PendingState,
    pub created_ms: f64,
}

fn js_err(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            js_sys::Reflect::get(&e, &"message".into())
                .ok()?
                .as_string()
        })
        .unwrap_or_else(|| "the browser could not do that".into())
}

/// The uploads database.
#[derive(Clone, Debug, PartialEq)]
pub struct UploadDb {
    db: IdbDatabase,
}

impl UploadDb {
    pub async fn open() -> Result<UploadDb, String> {
        let window = web_sys::window().ok_or("no window")?;
        let factory = window
            .indexed_db()
            .map_err(js_err)?
            .ok_or("this browser has no IndexedDB")?;
        let req = factory.open_with_u32(DB_NAME, DB_VERSION).map_err(js_err)?;
        let up_req = req.clone();
        let on_upgrade = Closure::<dyn FnMut(web_sys::IdbVersionChangeEvent)>::new(
            move |e: web_sys::IdbVersionChangeEvent| {
                if let Ok(db) = up_req.result().and_then(|r| r.dyn_into::<IdbDatabase>())
                    && e.old_version() < 1.0
                {
                    for name in [RECORDS, BLOBS] {
                        if let Err(err) = db.create_object_store(name) {
                            gloo::console::error!("uploads database upgrade failed", err);
                        }
                    }
                }
            },
        );
        req.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
        let db: IdbDatabase = request(&req)
            .await
            .map_err(js_err)?
            .dyn_into()
            .map_err(js_err)?;
        drop(on_upgrade);
        Ok(UploadDb { db })
    }

    fn tx(&self, write: bool) -> Result<web_sys::IdbTransaction, String> {
        let names = js_sys::Array::of2(&RECORDS.into(), &BLOBS.into());
        let mode = if write {
            IdbTransactionMode::Readwrite
        } else {
            IdbTransactionMode::Readonly
        };
        self.db
            .transaction_with_str_sequence_and_mode(&names, mode)
            .map_err(js_err)
    }

    /// Every waiting file, oldest first.
    pub async fn list(&self) -> Result<Vec<Pending>, String> {
        let tx = self.tx(false)?;
        let store = tx.object_store(RECORDS).map_err(js_err)?;
        let all = request(&store.get_all().map_err(js_err)?)
            .await
            .map_err(js_err)?;
        let arr: js_sys::Array = all.dyn_into().map_err(js_err)?;
        let mut out: Vec<Pending> = arr
            .iter()
            .filter_map(|v| serde_json::from_str(&v.as_string()?).ok())
            .collect();
        out.sort_by(|a, b| a.created_ms.total_cmp(&b.created_ms));
        Ok(out)
    }

    async fn blob(&self, id: Uuid) -> Result<Option<web_sys::Blob>, String> {
        let tx = self.tx(false)?;
        let store = tx.object_store(BLOBS).map_err(js_err)?;
        let v = request(
            &store
                .get(&JsValue::from_str(&id.to_string()))
                .map_err(js_err)?,
        )
        .await
        .map_err(js_err)?;
        Ok(v.dyn_into::<web_sys::Blob>().ok())
    }

    /// Stores the record, and the file with it when given, in one transaction.
    async fn put(&self, p: &Pending, blob: Option<&web_sys::Blob>) -> Result<(), String> {
        let tx = self.tx(true)?;
        let key = JsValue::from_str(&p.id.to_string());
        let text = serde_json::to_string(p).map_err(|e| e.to_string())?;
        tx.object_store(RECORDS)
            .map_err(js_err)?
            .put_with_key(&JsValue::from_str(&text), &key)
            .map_err(js_err)?;
        if let Some(b) = blob {
            tx.object_store(BLOBS)
                .map_err(js_err)?
                .put_with_key(b, &key)
                .map_err(js_err)?;
        }
        commit(&tx).await.map_err(js_err)
    }

    pub async fn remove(&self, id: Uuid) -> Result<(), String> {
        let tx = self.tx(true)?;
        let key = JsValue::from_str(&id.to_string());
        for name in [RECORDS, BLOBS] {
            tx.object_store(name)
                .map_err(js_err)?
                .delete(&key)
                .map_err(js_err)?;
        }
        commit(&tx).await.map_err(js_err)
    }
}

/// Reads `len` bytes at `offset` of the blob.
async fn read_range(blob: &web_sys::Blob, offset: u64, len: u64) -> Result<Vec<u8>, String> {
    let part = blob
        .slice_with_f64_and_f64(offset as f64, (offset + len) as f64)
        .map_err(js_err)?;
    let buffer = JsFuture::from(part.array_buffer()).await.map_err(js_err)?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// SHA-256 of the whole file, read in slices.
async fn sha256_of(file: &web_sys::Blob) -> Result<String, String> {
    let size = file.size().max(0.0) as u64;
    let mut hasher = Sha256::new();
    let mut offset = 0;
    while offset < size {
        let len = HASH_CHUNK.min(size - offset);
        hasher.update(read_range(file, offset, len).await?);
        offset += len;
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Keeps `file` for upload to `target` (works offline). Returns the stored record.
pub async fn enqueue(
    db: &UploadDb,
    file: &web_sys::File,
    target: Target,
    label: String,
) -> Result<Pending, String> {
    let sha256 = sha256_of(file).await?;
    let pending = Pending {
        id: Uuid::now_v7(),
        target,
        label,
        file_name: file.name(),
        size: file.size().max(0.0) as u64,
        sha256,
        upload_id: None,
        state: PendingState::Waiting,
        created_ms: now_ms(),
    };
    db.put(&pending, Some(file)).await?;
    Ok(pending)
}

/// Why one attempt stopped.
enum Stop {
    /// No connection (or no server): try again later.
    Offline,
    /// Sign in again first.
    SignIn,
    /// The server refused the file: do not retry.
    Refused(String),
    /// Something else went wrong (local storage, an odd answer): retry later.
    Other(String),
}

/// A `PUT` of `body` to `url` with upload progress; the HTTP status, or `Offline`.
async fn xhr_put(
    url: &str,
    body: &web_sys::Blob,
    on_progress: impl Fn(f64) + 'static,
) -> Result<u16, Stop> {
    let xhr = web_sys::XmlHttpRequest::new().map_err(|e| Stop::Other(js_err(e)))?;
    xhr.open("PUT", url).map_err(|e| Stop::Other(js_err(e)))?;
    let progress =
        Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
            on_progress(e.loaded())
        });
    if let Ok(upload) = xhr.upload() {
        upload.set_onprogress(Some(progress.as_ref().unchecked_ref()));
    }
    let done = Promise::new(&mut |resolve: Function, reject: Function| {
        let ok_xhr = xhr.clone();
        let ok = Closure::once_into_js(move |_e: web_sys::Event| {
            let status = ok_xhr.status().unwrap_or(0);
            let _ = resolve.call1(&JsValue::NULL, &JsValue::from_f64(f64::from(status)));
        });
        let fail = Closure::once_into_js(move |_e: web_sys::Event| {
            let _ = reject.call1(&JsValue::NULL, &JsValue::from_str("network error"));
        });
        xhr.set_onload(Some(ok.unchecked_ref()));
        xhr.set_onerror(Some(fail.unchecked_ref()));
        // One of onload / onerror fires; an abort or timeout counts as the network's.
        xhr.set_onabort(Some(fail.unchecked_ref()));
        xhr.set_ontimeout(Some(fail.unchecked_ref()));
    });
    xhr.send_with_opt_blob(Some(body))
        .map_err(|e| Stop::Other(js_err(e)))?;
    let answer = JsFuture::from(done).await;
    drop(progress);
    match answer {
        Ok(v) => Ok(v.as_f64().unwrap_or(0.0) as u16),
        Err(_) => Err(Stop::Offline),
    }
}

/// Progress of the file being sent: (id, bytes sent, bytes in all).
pub type Progress = Option<(Uuid, u64, u64)>;

/// Sends waiting files, one at a time; see the module documentation.
pub struct Uploader {
    db: UploadDb,
    store: Store,
    running: Cell<bool>,
    again: Cell<bool>,
    failures: Cell<u32>,
    retry: RefCell<Option<Timeout>>,
    progress: RefCell<Progress>,
    /// Called after every change worth showing (progress, a state change, a completion).
    on_change: Callback<()>,
    /// Called with the target and the server's file after a completion.
    on_done: Callback<(Target, Value)>,
    _online: RefCell<Option<EventListener>>,
}

impl Uploader {
    pub fn new(
        db: UploadDb,
        store: Store,
        on_change: Callback<()>,
        on_done: Callback<(Target, Value)>,
    ) -> Rc<Uploader> {
        let up = Rc::new(Uploader {
            db,
            store,
            running: Cell::new(false),
            again: Cell::new(false),
            failures: Cell::new(0),
            retry: RefCell::new(None),
            progress: RefCell::new(None),
            on_change,
            on_done,
            _online: RefCell::new(None),
        });
        if let Some(window) = web_sys::window() {
            let weak = Rc::downgrade(&up);
            let listener = EventListener::new(&window, "online", move |_| {
                if let Some(up) = weak.upgrade() {
                    up.failures.set(0);
                    up.kick();
                }
            });
            *up._online.borrow_mut() = Some(listener);
        }
        up
    }

    pub fn db(&self) -> &UploadDb {
        &self.db
    }

    pub fn progress(&self) -> Progress {
        *self.progress.borrow()
    }

    /// Sends what waits now (or right after the pass that is running).
    pub fn kick(self: &Rc<Self>) {
        if self.running.get() {
            self.again.set(true);
            return;
        }
        self.running.set(true);
        self.retry.borrow_mut().take();
        let up = self.clone();
        spawn_local(async move {
            loop {
                up.again.set(false);
                let retry = up.pass().await;
                if retry {
                    up.schedule_retry();
                    break;
                }
                if !up.again.get() {
                    break;
                }
            }
            up.running.set(false);
            up.on_change.emit(());
        });
    }

    fn schedule_retry(self: &Rc<Self>) {
        let failures = self.failures.get().saturating_add(1);
        self.failures.set(failures);
        let delay = (2_000u32.saturating_mul(1 << failures.min(5))).min(MAX_BACKOFF_MS);
        let weak = Rc::downgrade(self);
        *self.retry.borrow_mut() = Some(Timeout::new(delay, move || {
            if let Some(up) = weak.upgrade() {
                up.kick();
            }
        }));
    }

    /// One pass over the waiting files. `true`: something must be retried later.
    async fn pass(self: &Rc<Self>) -> bool {
        // The browser knows it has no network: wait for the `online` event (or the timer).
        if web_sys::window().is_some_and(|w| !w.navigator().on_line()) {
            return true;
        }
        let Ok(list) = self.db.list().await else {
            return true;
        };
        for mut p in list {
            if matches!(p.state, PendingState::Failed(_)) {
                continue;
            }
            p.state = PendingState::Uploading;
            let _ = self.db.put(&p, None).await;
            self.on_change.emit(());
            let result = self.send(&mut p).await;
            self.progress.borrow_mut().take();
            match result {
                Ok(file) => {
                    let _ = self.db.remove(p.id).await;
                    self.failures.set(0);
                    self.on_done.emit((p.target, file));
                    self.on_change.emit(());
                }
                Err(Stop::Refused(message)) => {
                    p.state = PendingState::Failed(message);
                    p.upload_id = None;
                    let _ = self.db.put(&p, None).await;
                    self.on_change.emit(());
                }
                Err(stop) => {
                    if let Stop::Other(message) = &stop {
                        gloo::console::warn!(format!(
                            "upload of {} stopped: {message}",
                            p.file_name
                        ));
                    }
                    p.state = PendingState::Waiting;
                    let _ = self.db.put(&p, None).await;
                    self.on_change.emit(());
                    return !matches!(stop, Stop::SignIn);
                }
            }
        }
        false
    }

    fn set_progress(&self, id: Uuid, sent: u64, total: u64) {
        *self.progress.borrow_mut() = Some((id, sent.min(total), total));
        self.on_change.emit(());
    }

    /// The signed-in member's session, refreshed when its token has (nearly) expired.
    async fn session(&self, force_refresh: bool) -> Result<Session, Stop> {
        let snap = self.store.load().await.map_err(|e| Stop::Other(e.0))?;
        let session = match snap.session {
            Some(s) if !s.signed_out => s,
            _ => return Err(Stop::SignIn),
        };
        if !force_refresh && session.expires_at_ms - 30_000.0 > now_ms() {
            return Ok(session);
        }
        match call("POST", "/api/v1/auth/refresh", None, None).await {
            Net::Unreachable(_) => Err(Stop::Offline),
            Net::Answer(200, body) => {
                let s = crate::sync::session_from(&body)
                    .ok_or_else(|| Stop::Other("the refresh answer could not be read".into()))?;
                self.store
                    .save_session(&s)
                    .await
                    .map_err(|e| Stop::Other(e.0))?;
                Ok(s)
            }
            Net::Answer(401 | 403, _) => Err(Stop::SignIn),
            Net::Answer(_, body) => Err(Stop::Other(error_message(&body))),
        }
    }

    /// Calls the API as the signed-in member (one token refresh on 401).
    async fn api(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), Stop> {
        let mut session = self.session(false).await?;
        for attempt in 0..2 {
            match call(method, path, Some(&session.access_token), body).await {
                Net::Unreachable(_) => return Err(Stop::Offline),
                Net::Answer(401, _) if attempt == 0 => session = self.session(true).await?,
                Net::Answer(401, _) => return Err(Stop::SignIn),
                Net::Answer(status, body) => return Ok((status, body)),
            }
        }
        Err(Stop::SignIn)
    }

    /// Starts, resumes and completes one upload; the server's file on success.
    async fn send(self: &Rc<Self>, p: &mut Pending) -> Result<Value, Stop> {
        let blob = self
            .db
            .blob(p.id)
            .await
            .map_err(Stop::Other)?
            .ok_or_else(|| {
                Stop::Refused("the file is no longer stored on this device; pick it again".into())
            })?;
        // A few rounds: start or resume, send, complete (409: parts missing, resume again).
        for _ in 0..4 {
            let answer = match p.upload_id {
                None => None,
                Some(id) => match self
                    .api("GET", &format!("/api/v1/uploads/{id}"), None)
                    .await?
                {
                    (200, a) if a["state"] == "completed" => {
                        return self.complete(id).await;
                    }
                    (200, a) if a["state"] == "pending" => Some(a),
                    // Expired or gone: start a new one.
                    _ => None,
                },
            };
            let answer = match answer {
                Some(a) => a,
                None => {
                    let body =
                        json!({"file_name": p.file_name, "size_bytes": p.size, "sha256": p.sha256});
                    let (status, a) = self
                        .api("POST", &p.target.start_path(), Some(&body))
                        .await?;
                    if status >= 500 {
                        return Err(Stop::Other(error_message(&a)));
                    }
                    if status != 201 {
                        return Err(Stop::Refused(error_message(&a)));
                    }
                    let id = a["upload_id"]
                        .as_str()
                        .and_then(|s| Uuid::parse_str(s).ok())
                        .ok_or_else(|| Stop::Other("the server named no upload".into()))?;
                    p.upload_id = Some(id);
                    self.db.put(p, None).await.map_err(Stop::Other)?;
                    a
                }
            };
            let Some(id) = p.upload_id else { continue };
            self.send_bytes(p, &blob, &answer).await?;
            match self.complete(id).await {
                Err(Stop::Other(m)) if m.starts_with("409") => continue,
                other => return other,
            }
        }
        Err(Stop::Other(
            "the upload did not finish after several rounds".into(),
        ))
    }

    /// `PUT`s what the store does not hold yet.
    async fn send_bytes(
        self: &Rc<Self>,
        p: &Pending,
        blob: &web_sys::Blob,
        answer: &Value,
    ) -> Result<(), Stop> {
        let id = p.id;
        let total = p.size;
        if let Some(url) = answer["upload"]["url"].as_str() {
            let me = Rc::downgrade(self);
            self.set_progress(id, 0, total);
            let status = xhr_put(url, blob, move |sent| {
                if let Some(up) = me.upgrade() {
                    up.set_progress(id, sent as u64, total);
                }
            })
            .await?;
            return check_put(status);
        }
        let multipart = &answer["multipart"];
        let part_size = multipart["part_size_bytes"].as_u64().unwrap_or(0);
        let mut done = answer["uploaded_bytes"].as_u64().unwrap_or(0);
        self.set_progress(id, done, total);
        for part in multipart["parts"].as_array().into_iter().flatten() {
            let (Some(number), Some(size), Some(url)) = (
                part["number"].as_u64(),
                part["size_bytes"].as_u64(),
                part["url"].as_str(),
            ) else {
                return Err(Stop::Other(
                    "the server's part list could not be read".into(),
                ));
            };
            let start = number.saturating_sub(1) * part_size;
            let slice = blob
                .slice_with_f64_and_f64(start as f64, (start + size) as f64)
                .map_err(|e| Stop::Other(js_err(e)))?;
            let me = Rc::downgrade(self);
            let before = done;
            let status = xhr_put(url, &slice, move |sent| {
                if let Some(up) = me.upgrade() {
                    up.set_progress(id, before + sent as u64, total);
                }
            })
            .await?;
            check_put(status)?;
            done += size;
            self.set_progress(id, done, total);
        }
        Ok(())
    }

    async fn complete(&self, upload_id: Uuid) -> Result<Value, Stop> {
        let (status, body) = self
            .api(
                "POST",
                &format!("/api/v1/uploads/{upload_id}/complete"),
                Some(&json!({})),
            )
            .await?;
        match status {
            200 | 201 => Ok(body),
            409 => Err(Stop::Other(format!("409 {}", error_message(&body)))),
            500.. => Err(Stop::Other(error_message(&body))),
            _ => Err(Stop::Refused(error_message(&body))),
        }
    }
}

fn check_put(status: u16) -> Result<(), Stop> {
    match status {
        200..=299 => Ok(()),
        // Offline, or the store unreachable from this device.
        0 => Err(Stop::Offline),
        // An expired link: resume asks for fresh ones.
        _ => Err(Stop::Other(format!("the file store answered {status}"))),
    }
}

/// `12.3 MB of 16.9 MB`.
pub fn progress_text(sent: u64, total: u64) -> String {
    let mb = |n: u64| n as f64 / 1e6;
    if total < 1_000_000 {
        format!(
            "{:.0} KB of {:.0} KB",
            sent as f64 / 1e3,
            total as f64 / 1e3
        )
    } else {
        format!("{:.1} MB of {:.1} MB", mb(sent), mb(total))
    }
}

/// Lists of the maker's variants and models to upload to, from the server.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Targets {
    /// (variant id, model id, "Variant · Model").
    pub variants: Vec<(Uuid, Uuid, String)>,
}

/// Loads the shop's variants with their models' names (needs the network).
pub async fn load_targets(store: &Store) -> Result<Targets, String> {
    let snap = store.load().await.map_err(|e| e.0)?;
    let session = snap
        .session
        .filter(|s| !s.signed_out)
        .ok_or("sign in to upload files")?;
    let get = |path: &'static str| {
        let token = session.access_token.clone();
        async move {
            match call("GET", path, Some(&token), None).await {
                Net::Answer(200, body) => Ok(body),
                Net::Answer(_, body) => Err(error_message(&body)),
                Net::Unreachable(_) => {
                    Err("offline: your variants are listed when the app is online".to_string())
                }
            }
        }
    };
    let models = get("/api/v1/models?limit=200").await?;
    let variants = get("/api/v1/variants?limit=200").await?;
    let names: HashMap<String, String> = models["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| Some((m["id"].as_str()?.to_owned(), m["name"].as_str()?.to_owned())))
        .collect();
    let variants = variants["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| {
            let id = Uuid::parse_str(v["id"].as_str()?).ok()?;
            let model = v["model_id"].as_str()?;
            let model_id = Uuid::parse_str(model).ok()?;
            let name = v["name"].as_str()?;
            let label = match names.get(model) {
                Some(m) => format!("{m} · {name}"),
                None => name.to_owned(),
            };
            Some((id, model_id, label))
        })
        .collect();
    Ok(Targets { variants })
}

/// A variant's files as the server lists them: (file name, version, current).
pub async fn load_files(store: &Store, target: Target) -> Result<Vec<(String, i64, bool)>, String> {
    let snap = store.load().await.map_err(|e| e.0)?;
    let session = snap
        .session
        .filter(|s| !s.signed_out)
        .ok_or("sign in to see the files")?;
    match call(
        "GET",
        &target.start_path(),
        Some(&session.access_token),
        None,
    )
    .await
    {
        Net::Answer(200, body) => Ok(body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| {
                Some((
                    f["file_name"].as_str()?.to_owned(),
                    f["version"].as_i64().unwrap_or(0),
                    f["current"].as_bool().unwrap_or(false),
                ))
            })
            .collect()),
        Net::Answer(_, body) => Err(error_message(&body)),
        Net::Unreachable(_) => Err("offline".into()),
    }
}

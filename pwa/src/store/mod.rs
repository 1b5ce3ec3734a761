//! The device's local store (IndexedDB): this module owns the schema and its upgrade steps.
//!
//! Stores (values are JSON strings, so an older app's records stay readable):
//! - `meta`: `clock` (device id, made once, the HLC and the last `client_seq`), `session`,
//!   `shop` (currency and tax), `sync` (pull cursor, which carries the server's epoch, and
//!   when the device last synced).
//! - `outbox`: ops not yet answered by the server, keyed by `client_seq`.
//! - `cells`: the server's state per row (`kind/id`), as pulled.
//! - `acked`: ops the server answered, keyed by `op_id`: applied ones for a while (they are
//!   pushed again after a restore, and replayed until a pull brings their effect), rejected
//!   ones until the user has seen them.
//! - `blobs` (since version 2): files waiting to be uploaded (a photo, a sliced file), keyed
//!   by the id the op that refers to them carries.
//!
//! Versions: 1 made `meta`, `outbox`, `cells` and `acked`; 2 added `blobs`. An upgrade step
//! only adds; it never rewrites or drops the ops already queued (an outbox written by an
//! older app still syncs, the op kinds being versioned). The service worker reads `meta`
//! and `outbox` too (Background Sync, `public/sw.js`), and never writes.
//!
//! Every user action is one read-write transaction (its ops and the clock) ending in
//! `commit()`; every pulled page is one transaction (cells and cursor). Nothing here waits
//! for the network.

pub mod idb;
pub mod queries;
pub mod search;
pub mod usage;

use printstall_core::domain::DeviceId;
use printstall_core::sync::{Hlc, Op, OpBody};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{IdbDatabase, IdbTransaction, IdbTransactionMode};

use idb::{commit, get_all_json, get_json, put_json, request};

const DB_NAME: &str = "printstall";
/// The schema version; add an upgrade step in [`upgrade`] for each new one.
pub const SCHEMA_VERSION: u32 = 2;
const META: &str = "meta";
const OUTBOX: &str = "outbox";
const CELLS: &str = "cells";
const ACKED: &str = "acked";
const BLOBS: &str = "blobs";
/// Applied ops kept after their answer (for a restore, and until a pull shows them).
const KEEP_ACKED_MS: f64 = 3.0 * 24.0 * 3600.0 * 1000.0;

/// What went wrong in the local store, fit to show.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<JsValue> for StoreError {
    fn from(v: JsValue) -> Self {
        let text = v
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .or_else(|| {
                v.dyn_ref::<web_sys::DomException>()
                    .map(|e| format!("{}: {}", e.name(), e.message()))
            })
            .or_else(|| v.as_string())
            .unwrap_or_else(|| "unknown error".into());
        StoreError(format!("local storage: {text}"))
    }
}

/// The device's clock and op counter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clock {
    pub device_id: DeviceId,
    pub hlc: Hlc,
    pub seq: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserInfo {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
}

/// The signed-in member. Kept when the session ends on the server (`signed_out`), so the
/// outbox stays tied to its account until the user signs in again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub access_token: String,
    /// When the access token expires (ms since the epoch, by this device's clock).
    pub expires_at_ms: f64,
    pub user: UserInfo,
    pub shop_id: Uuid,
    pub role: String,
    /// The server refused to refresh the session: sign in again (nothing local is wiped).
    #[serde(default)]
    pub signed_out: bool,
}

/// The shop settings a till needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShopInfo {
    pub id: Uuid,
    pub name: String,
    pub currency: String,
    pub time_zone: String,
    pub tax_rate_bp: u32,
    pub prices_include_tax: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncMeta {
    /// The pull cursor (opaque; it carries the server's epoch).
    pub cursor: Option<String>,
    pub last_synced_ms: Option<f64>,
}

/// One pulled row, as the server sent it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellRow {
    pub kind: String,
    pub id: Uuid,
    pub version: i64,
    pub cell: Value,
}

/// An op the server answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AckedOp {
    pub op: Op,
    /// `applied`, `duplicate` or `rejected`.
    pub status: String,
    pub reason: Option<String>,
    pub at_ms: f64,
}

impl AckedOp {
    pub fn rejected(&self) -> bool {
        self.status == "rejected"
    }
}

/// Everything the screens read, from one read-only transaction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub clock: Option<Clock>,
    pub session: Option<Session>,
    pub shop: Option<ShopInfo>,
    pub sync: SyncMeta,
    pub outbox: Vec<Op>,
    pub cells: Vec<CellRow>,
    pub acked: Vec<AckedOp>,
}

pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn key(s: &str) -> JsValue {
    JsValue::from_str(s)
}

fn seq_key(seq: u64) -> JsValue {
    // client_seq stays far below 2^53.
    JsValue::from_f64(seq as f64)
}

fn cell_key(kind: &str, id: Uuid) -> JsValue {
    JsValue::from_str(&format!("{kind}/{id}"))
}

/// Upgrade steps, one per schema version; each runs once, in order, inside the
/// `versionchange` transaction, and never touches the ops already queued.
fn upgrade(db: &IdbDatabase, old_version: u32) -> Result<(), JsValue> {
    if old_version < 1 {
        for name in [META, OUTBOX, CELLS, ACKED] {
            db.create_object_store(name)?;
        }
    }
    if old_version < 2 {
        db.create_object_store(BLOBS)?;
    }
    Ok(())
}

/// The opened database.
#[derive(Clone, Debug, PartialEq)]
pub struct Store {
    db: IdbDatabase,
}

impl Store {
    /// Opens (creating or upgrading) the database, makes the device id once, and asks
    /// the browser to keep the data (`navigator.storage.persist()`).
    pub async fn open() -> Result<Store, StoreError> {
        let window = web_sys::window().ok_or_else(|| StoreError("no window".into()))?;
        let factory = window
            .indexed_db()?
            .ok_or_else(|| StoreError("this browser has no IndexedDB".into()))?;
        let req = factory.open_with_u32(DB_NAME, SCHEMA_VERSION)?;
        let up_req = req.clone();
        let on_upgrade = Closure::<dyn FnMut(web_sys::IdbVersionChangeEvent)>::new(
            move |e: web_sys::IdbVersionChangeEvent| {
                if let Ok(db) = up_req.result().and_then(|r| r.dyn_into::<IdbDatabase>())
                    && let Err(err) = upgrade(&db, e.old_version() as u32)
                {
                    gloo::console::error!("IndexedDB upgrade failed", err);
                }
            },
        );
        req.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
        let db: IdbDatabase = request(&req).await?.dyn_into()?;
        drop(on_upgrade);
        // Another tab opening a newer schema: let it upgrade; this tab reloads.
        let on_change = Closure::<dyn FnMut()>::new({
            let db = db.clone();
            move || {
                db.close();
                if let Some(w) = web_sys::window() {
                    let _ = w.location().reload();
                }
            }
        });
        db.set_onversionchange(Some(on_change.as_ref().unchecked_ref()));
        on_change.forget();

        let store = Store { db };
        store.ensure_clock().await?;
        let storage = window.navigator().storage();
        if let Ok(p) = storage.persist() {
            let _ = wasm_bindgen_futures::JsFuture::from(p).await;
        }
        Ok(store)
    }

    fn tx(&self, stores: &[&str], write: bool) -> Result<IdbTransaction, StoreError> {
        let names = js_sys::Array::new();
        for s in stores {
            names.push(&key(s));
        }
        let mode = if write {
            IdbTransactionMode::Readwrite
        } else {
            IdbTransactionMode::Readonly
        };
        Ok(self
            .db
            .transaction_with_str_sequence_and_mode(&names, mode)?)
    }

    async fn ensure_clock(&self) -> Result<(), StoreError> {
        let tx = self.tx(&[META], true)?;
        let meta = tx.object_store(META)?;
        let clock: Option<Clock> = get_json(&meta, &key("clock")).await?;
        if clock.is_none() {
            let device_id = DeviceId(Uuid::now_v7());
            put_json(
                &meta,
                &key("clock"),
                &Clock {
                    device_id,
                    hlc: Hlc::zero(device_id),
                    seq: 0,
                },
            )?;
        }
        commit(&tx).await?;
        Ok(())
    }

    /// Reads everything the screens show, in one transaction.
    pub async fn load(&self) -> Result<Snapshot, StoreError> {
        let tx = self.tx(&[META, OUTBOX, CELLS, ACKED], false)?;
        let meta = tx.object_store(META)?;
        let clock = get_json(&meta, &key("clock")).await?;
        let session = get_json(&meta, &key("session")).await?;
        let shop = get_json(&meta, &key("shop")).await?;
        let sync = get_json(&meta, &key("sync")).await?.unwrap_or_default();
        let outbox = get_all_json(&tx.object_store(OUTBOX)?).await?;
        let cells = get_all_json(&tx.object_store(CELLS)?).await?;
        let acked = get_all_json(&tx.object_store(ACKED)?).await?;
        Ok(Snapshot {
            clock,
            session,
            shop,
            sync,
            outbox,
            cells,
            acked,
        })
    }

    /// Records one user action: its ops go to the outbox with the next `client_seq` and
    /// HLC stamps, in one transaction with the clock. Invalid ops are refused here, before
    /// they are queued.
    pub async fn record(&self, bodies: Vec<OpBody>) -> Result<Vec<Op>, StoreError> {
        for b in &bodies {
            b.validate().map_err(|e| StoreError(e.to_string()))?;
        }
        let tx = self.tx(&[META, OUTBOX], true)?;
        let meta = tx.object_store(META)?;
        let outbox = tx.object_store(OUTBOX)?;
        let mut clock: Clock = get_json(&meta, &key("clock"))
            .await?
            .ok_or_else(|| StoreError("the device has no clock yet; reload the app".into()))?;
        let now = now_ms() as u64;
        let mut ops = Vec::with_capacity(bodies.len());
        for body in bodies {
            clock.seq += 1;
            let op = Op {
                op_id: Uuid::now_v7(),
                device_id: clock.device_id,
                client_seq: clock.seq,
                hlc: clock.hlc.tick(now),
                body,
            };
            put_json(&outbox, &seq_key(op.client_seq), &op)?;
            ops.push(op);
        }
        put_json(&meta, &key("clock"), &clock)?;
        commit(&tx).await?;
        Ok(ops)
    }

    /// The oldest ops of the outbox, at most `limit`.
    pub async fn outbox(&self, limit: usize) -> Result<Vec<Op>, StoreError> {
        let tx = self.tx(&[OUTBOX], false)?;
        let mut ops: Vec<Op> = get_all_json(&tx.object_store(OUTBOX)?).await?;
        ops.truncate(limit);
        Ok(ops)
    }

    pub async fn save_session(&self, session: &Session) -> Result<(), StoreError> {
        self.put_meta("session", session).await
    }

    pub async fn save_shop(&self, shop: &ShopInfo) -> Result<(), StoreError> {
        self.put_meta("shop", shop).await
    }

    async fn put_meta<T: Serialize>(&self, k: &str, v: &T) -> Result<(), StoreError> {
        let tx = self.tx(&[META], true)?;
        put_json(&tx.object_store(META)?, &key(k), v)?;
        commit(&tx).await?;
        Ok(())
    }

    /// Marks the session as ended by the server; keeps everything else.
    pub async fn mark_signed_out(&self) -> Result<(), StoreError> {
        let tx = self.tx(&[META], true)?;
        let meta = tx.object_store(META)?;
        if let Some(mut s) = get_json::<Session>(&meta, &key("session")).await? {
            s.signed_out = true;
            put_json(&meta, &key("session"), &s)?;
        }
        commit(&tx).await?;
        Ok(())
    }

    /// Moves answered ops from the outbox to `acked`, and merges clamped stamps into the
    /// clock, in one transaction.
    pub async fn ack(&self, answers: Vec<(Op, String, Option<String>)>) -> Result<(), StoreError> {
        let tx = self.tx(&[OUTBOX, ACKED], true)?;
        let outbox = tx.object_store(OUTBOX)?;
        let acked = tx.object_store(ACKED)?;
        let at_ms = now_ms();
        for (op, status, reason) in answers {
            outbox.delete(&seq_key(op.client_seq))?;
            put_json(
                &acked,
                &key(&op.op_id.to_string()),
                &AckedOp {
                    op,
                    status,
                    reason,
                    at_ms,
                },
            )?;
        }
        commit(&tx).await?;
        Ok(())
    }

    /// Stores one pulled page and its cursor in one transaction, and moves the clock past
    /// the server's stamps.
    pub async fn save_page(
        &self,
        cells: &[CellRow],
        cursor: &str,
        seen: Option<Hlc>,
    ) -> Result<(), StoreError> {
        let tx = self.tx(&[META, CELLS], true)?;
        let meta = tx.object_store(META)?;
        let store = tx.object_store(CELLS)?;
        for c in cells {
            put_json(&store, &cell_key(&c.kind, c.id), c)?;
        }
        let mut sync: SyncMeta = get_json(&meta, &key("sync")).await?.unwrap_or_default();
        sync.cursor = Some(cursor.to_owned());
        put_json(&meta, &key("sync"), &sync)?;
        if let Some(remote) = seen
            && let Some(mut clock) = get_json::<Clock>(&meta, &key("clock")).await?
        {
            clock.hlc.recv(&remote, now_ms() as u64);
            put_json(&meta, &key("clock"), &clock)?;
        }
        commit(&tx).await?;
        Ok(())
    }

    /// Records that a full sync (push and pull) finished now; forgets old acked ops.
    pub async fn synced(&self) -> Result<(), StoreError> {
        let tx = self.tx(&[META, ACKED], true)?;
        let meta = tx.object_store(META)?;
        let acked = tx.object_store(ACKED)?;
        let mut sync: SyncMeta = get_json(&meta, &key("sync")).await?.unwrap_or_default();
        let now = now_ms();
        sync.last_synced_ms = Some(now);
        put_json(&meta, &key("sync"), &sync)?;
        let all: Vec<AckedOp> = get_all_json(&acked).await?;
        for a in all {
            if !a.rejected() && now - a.at_ms > KEEP_ACKED_MS {
                acked.delete(&key(&a.op.op_id.to_string()))?;
            }
        }
        commit(&tx).await?;
        Ok(())
    }

    /// The server went back in time (`resync_required`): forget the pulled cells and the
    /// cursor, and queue the applied ops again (the server answers `duplicate` for those
    /// it still has). The outbox is kept as it is.
    pub async fn reset_for_resync(&self) -> Result<(), StoreError> {
        let tx = self.tx(&[META, OUTBOX, CELLS, ACKED], true)?;
        let meta = tx.object_store(META)?;
        let outbox = tx.object_store(OUTBOX)?;
        let acked = tx.object_store(ACKED)?;
        tx.object_store(CELLS)?.clear()?;
        let mut sync: SyncMeta = get_json(&meta, &key("sync")).await?.unwrap_or_default();
        sync.cursor = None;
        put_json(&meta, &key("sync"), &sync)?;
        let all: Vec<AckedOp> = get_all_json(&acked).await?;
        for a in all.into_iter().filter(|a| !a.rejected()) {
            acked.delete(&key(&a.op.op_id.to_string()))?;
            put_json(&outbox, &seq_key(a.op.client_seq), &a.op)?;
        }
        commit(&tx).await?;
        Ok(())
    }

    /// The user has seen a rejected op: forget it.
    pub async fn dismiss(&self, op_id: Uuid) -> Result<(), StoreError> {
        let tx = self.tx(&[ACKED], true)?;
        tx.object_store(ACKED)?.delete(&key(&op_id.to_string()))?;
        commit(&tx).await?;
        Ok(())
    }
}

//! `POST /api/v1/sync/push`: a batch of ops applied in one transaction, once per `op_id`.
//!
//! Per op, in order: read it (malformed: rejected, the batch goes on), check it, check its
//! clock (hours ahead: rejected `clock_ahead`; a little ahead: clamped), check the member's
//! role, answer a duplicate with the stored answer, otherwise load the cells the op needs,
//! apply it with the core rules, keep the REST tables in step, and record it in
//! `applied_op`. Only a transient failure (the database) rolls the whole batch back (5xx);
//! the device then sends the same batch again and nothing is counted twice.
//!
//! Ops refused before they reach the merge rules (unreadable, invalid, clock, role, wrong
//! device) are answered but not recorded: they changed nothing, and the same op may be
//! accepted later (after a server update that knows its kind, or once the device's clock
//! is no longer ahead). Ops that reached the merge rules are recorded whatever the answer,
//! because a refused edit of a deleted row is still part of the merged state.

use std::collections::BTreeSet;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use printstall_core::domain::DeviceId;
use printstall_core::sync::{
    Applied, CellDoc, EntityKind, EntityRef, Hlc, LevelChange, MAX_AHEAD_CLAMP_MS,
    MAX_AHEAD_REFUSE_MS, MAX_BATCH, Op, RejectCode, Rejection, State as MergeState, apply,
    authorize, cells_needed, check_future, clamp_future, decode_op,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::types::Json as Jsonb;
use sqlx::{PgConnection, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use super::deferred::Deferred;
use super::{MAX_PUSH_BYTES, Member, PROTOCOL, SyncError, SyncResult, SyncState, project};
use crate::auth::AuthUser;
use crate::error::ApiError;

/// The request.
#[derive(Debug, Deserialize)]
pub struct PushIn {
    /// Must be [`PROTOCOL`].
    pub protocol: u32,
    /// The pushing device (registered to the signed-in user on first push).
    pub device_id: Uuid,
    /// The ops, oldest first; read one by one so a malformed op fails alone.
    pub ops: Vec<Value>,
}

/// The answer.
#[derive(Debug, Serialize)]
pub struct PushOut {
    pub protocol: u32,
    /// The shop version this push was given (pull past it to see its effects).
    pub version: i64,
    /// One answer per op, in the order sent.
    pub results: Vec<OpAnswer>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Applied,
    Duplicate,
    Rejected,
}

/// The answer for one op; stored in `applied_op.result` and sent again for a duplicate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OpAnswer {
    pub op_id: Option<Uuid>,
    pub status: Status,
    /// For a duplicate: what the first delivery was answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<Status>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<RejectCode>,
    /// Why it was refused, fit to show the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The shop version the op was applied (or first answered) at.
    pub version: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub levels: Vec<LevelChange>,
    /// The clock stamp used when the device's was clamped (slightly in the future).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hlc: Option<Hlc>,
}

impl OpAnswer {
    fn rejected(op_id: Option<Uuid>, r: Rejection, version: i64) -> Self {
        OpAnswer {
            op_id,
            status: Status::Rejected,
            original: None,
            code: Some(r.code),
            reason: Some(r.message),
            field: r.field,
            version,
            notes: Vec::new(),
            levels: Vec::new(),
            hlc: None,
        }
    }

    fn applied(op_id: Uuid, a: &Applied, version: i64) -> Self {
        OpAnswer {
            op_id: Some(op_id),
            status: Status::Applied,
            original: None,
            code: None,
            reason: None,
            field: None,
            version,
            notes: a.notes.clone(),
            levels: a.levels.clone(),
            hlc: None,
        }
    }
}

/// The handler: size limits, then [`push`].
pub async fn handler(
    State(st): State<SyncState>,
    Member(user): Member,
    headers: HeaderMap,
    body: Body,
) -> SyncResult<Json<PushOut>> {
    let too_large = || {
        SyncError::TooLarge(format!(
            "the push is larger than {} MiB; send at most {MAX_BATCH} ops per push, in several pushes",
            MAX_PUSH_BYTES / (1024 * 1024)
        ))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_PUSH_BYTES) {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, MAX_PUSH_BYTES)
        .await
        .map_err(|_| too_large())?;
    let input: PushIn = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad_request(
            "malformed_push",
            format!("the push could not be read ({e}); send {{protocol, device_id, ops}}"),
        )
    })?;
    if input.protocol != PROTOCOL {
        return Err(ApiError::bad_request(
            "unsupported_protocol",
            format!(
                "this server speaks sync protocol {PROTOCOL}, the app sent {}; update the app or the server",
                input.protocol
            ),
        )
        .into());
    }
    if input.device_id.get_version_num() == 8 {
        // The server's own device ids (`server_device_id`): a device may not claim one.
        return Err(ApiError::bad_request(
            "reserved_device_id",
            "this device id is reserved for the server; the app must make a new (UUIDv7) device id",
        )
        .into());
    }
    if input.ops.len() > MAX_BATCH {
        return Err(SyncError::TooLarge(format!(
            "the push has {} ops; send at most {MAX_BATCH} per push",
            input.ops.len()
        )));
    }
    Ok(Json(push(&st, &user, &input).await?))
}

/// Applies one push in one transaction and answers per op.
pub async fn push(st: &SyncState, user: &AuthUser, input: &PushIn) -> SyncResult<PushOut> {
    // An op id already used by another shop (invisible here) is found by the insert; the
    // attempt is rolled back and made again with that op refused up front.
    let mut taken = BTreeSet::new();
    // The first attempt projects the ops into the REST tables without a savepoint per op
    // (two round trips each, a third of a push's statements). Should one of them fail with
    // a data error, the attempt is rolled back and made again with the savepoints, which
    // turn that error into the op's note exactly as before.
    let mut fast = true;
    loop {
        match attempt(st, user, input, &taken, fast).await? {
            Attempt::Done(out) => return Ok(out),
            Attempt::Taken(id) if taken.insert(id) => {}
            Attempt::Taken(_) => {
                return Err(ApiError::internal("an op id collided twice").into());
            }
            Attempt::Guard if fast => fast = false,
            Attempt::Guard => {
                return Err(ApiError::internal("a guarded projection asked for a guard").into());
            }
        }
    }
}

enum Attempt {
    Done(PushOut),
    Taken(Uuid),
    /// A projection failed on the fast path: push again with a savepoint per op.
    Guard,
}

async fn attempt(
    st: &SyncState,
    user: &AuthUser,
    input: &PushIn,
    taken: &BTreeSet<Uuid>,
    fast: bool,
) -> SyncResult<Attempt> {
    let mut tx = crate::tenancy::begin(&st.api.app, user.shop_id, user.user_id).await?;
    register_device(&mut tx, user, input.device_id).await?;

    // The shop's version: serialises the shop's writers (see `take_version`).
    let version = take_version(&mut tx, user.shop_id).await?;

    let now_ms = server_now_ms();
    let mut batch = Batch {
        fast,
        ..Batch::default()
    };
    // The stored answers of the ops delivered before, in one query.
    let ids: Vec<Uuid> = input.ops.iter().filter_map(raw_op_id).collect();
    let stored: Vec<(Uuid, Value)> =
        sqlx::query_as(r#"select op_id, result from applied_op where op_id = any($1)"#)
            .bind(&ids)
            .fetch_all(&mut *tx)
            .await?;
    batch.answered = stored.into_iter().collect();
    let readable: Vec<Op> = input
        .ops
        .iter()
        .filter_map(|raw| decode_op(raw).ok())
        .collect();
    batch.prefetch(&mut tx, user.shop_id, &readable).await?;
    let mut results = Vec::with_capacity(input.ops.len());
    for raw in &input.ops {
        if let Some(id) = raw_op_id(raw).filter(|id| taken.contains(id)) {
            results.push(OpAnswer::rejected(
                Some(id),
                Rejection::new(
                    RejectCode::Conflict,
                    "this op id is already in use; the app must give each change a new op id",
                ),
                version,
            ));
            continue;
        }
        let answer = one_op(
            &mut tx,
            user,
            input.device_id,
            version,
            now_ms,
            raw,
            &mut batch,
        )
        .await?;
        if batch.failed_fast {
            // The transaction is aborted: dropping it rolls it back.
            return Ok(Attempt::Guard);
        }
        results.push(answer);
    }

    batch.flush(&mut tx, user, input.device_id).await?;
    if batch.failed_fast {
        return Ok(Attempt::Guard);
    }
    if let Some(id) = batch.finish(&mut tx, user, version).await? {
        return Ok(Attempt::Taken(id));
    }
    tx.commit().await?;
    Ok(Attempt::Done(PushOut {
        protocol: PROTOCOL,
        version,
        results,
    }))
}

/// Takes the shop's next version in `conn`'s transaction. The row lock taken by the update
/// serialises the shop's writers (pushes and REST changes alike) until that transaction
/// ends: a writer takes version v only after the one that took v-1 has committed or rolled
/// back, so the versions of committed changes are committed in order, and a puller whose
/// cursor has passed version v can never later find a newly committed change at or below
/// v (a plain sequence would allow that: transactions commit out of order).
pub async fn take_version(conn: &mut PgConnection, shop: Uuid) -> SyncResult<i64> {
    // One round trip: the shop's first writer makes its row (version 1), the others take
    // the row lock through `on conflict do update`, the same lock an `update` takes.
    Ok(sqlx::query_scalar(
        r#"insert into shop_sync (shop_id, version) values ($1, 1)
           on conflict (shop_id) do update set version = shop_sync.version + 1
           returning version"#,
    )
    .bind(shop)
    .fetch_one(&mut *conn)
    .await?)
}

/// Takes the lock of [`take_version`] without taking a version: for a REST handler that
/// writes REST rows before its op, so that it queues behind the shop's other writers before
/// it holds any row they may need (the order a push takes its locks in).
pub async fn lock_shop(conn: &mut PgConnection, shop: Uuid) -> SyncResult<()> {
    let lock = r#"select version from shop_sync where shop_id = $1 for update"#;
    let found: Option<i64> = sqlx::query_scalar(lock)
        .bind(shop)
        .fetch_optional(&mut *conn)
        .await?;
    if found.is_some() {
        return Ok(());
    }
    // The shop's first writer: make the row, then lock it.
    sqlx::query(r#"insert into shop_sync (shop_id) values ($1) on conflict (shop_id) do nothing"#)
        .bind(shop)
        .execute(&mut *conn)
        .await?;
    sqlx::query(lock).bind(shop).fetch_one(&mut *conn).await?;
    Ok(())
}

fn server_now_ms() -> u64 {
    u64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}

/// The device id under which a member's REST API changes are recorded as ops: derived from
/// the shop and the user, so every server process finds the same one. A UUIDv8 (custom)
/// made of the first bytes of SHA-256 over a fixed label and both ids. Pushes naming a v8
/// device id are refused, so no device can take (or write as) a member's server device.
pub fn server_device_id(shop: Uuid, user: Uuid) -> Uuid {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"printstall:rest-api-device:v1:");
    h.update(shop.as_bytes());
    h.update(user.as_bytes());
    let digest = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// What a REST change made of its op: the stored answer, and why the REST tables could not
/// show it (when they could not).
#[derive(Debug)]
pub struct ServerApplied {
    pub answer: OpAnswer,
    pub unprojected: Option<String>,
    /// The spool ledger rows the change wrote, in order.
    pub spool_entries: Vec<Uuid>,
}

/// Applies one op made by the server for a REST API change, inside the caller's open
/// request transaction, with the same code as a push: takes the shop's version, stamps the
/// op for the member's server-side device ([`server_device_id`]) with the server's clock
/// (after the device's last stamp, so its ops keep their order), merges it with the core
/// rules, records it in `applied_op`, writes the changed `sync_cell`s, projects it into the
/// REST tables and queues the poke (sent by PostgreSQL when, and only if, the caller
/// commits). Authorization is the caller's (`require`), checked again here by the core.
pub async fn apply_server_op(
    conn: &mut PgConnection,
    user: &AuthUser,
    body: printstall_core::sync::OpBody,
) -> SyncResult<ServerApplied> {
    let device = server_device_id(user.shop_id, user.user_id);
    apply_server_op_as(conn, user, device, body).await
}

/// [`apply_server_op`] for another server-made device of the member (a printer's, see
/// `crate::spoolman`): a UUIDv8 no push may claim, registered to `user` (by the caller,
/// with its name, or here).
pub async fn apply_server_op_as(
    conn: &mut PgConnection,
    user: &AuthUser,
    device: Uuid,
    body: printstall_core::sync::OpBody,
) -> SyncResult<ServerApplied> {
    let version = take_version(conn, user.shop_id).await?;
    // Read under the shop's version lock: the device's ops are numbered and stamped in order.
    // A known server device is touched and its last op read in one round trip.
    let touched: Option<(Uuid, Option<i64>, Option<String>)> = sqlx::query_as(
        r#"update device set last_push_at = now() where id = $1
           returning user_id,
               (select client_seq from applied_op
                where shop_id = $2 and device_id = $1 and client_seq is not null
                order by client_seq desc limit 1),
               (select hlc from applied_op
                where shop_id = $2 and device_id = $1 and client_seq is not null
                order by client_seq desc limit 1)"#,
    )
    .bind(device)
    .bind(user.shop_id)
    .fetch_optional(&mut *conn)
    .await?;
    let last: Option<(i64, Option<String>)> = match touched {
        Some((owner, seq, hlc)) if owner == user.user_id => seq.map(|s| (s, hlc)),
        Some(_) => return Err(SyncError::DeviceTaken),
        None => {
            // The member's first REST change: a new device has no ops yet.
            register_device(conn, user, device).await?;
            None
        }
    };
    let (last_seq, last_hlc) = match last {
        Some((seq, hlc)) => (seq, hlc.and_then(|h| h.parse::<Hlc>().ok())),
        None => (0, None),
    };
    let mut clock = Hlc {
        device_id: DeviceId(device),
        ..last_hlc.unwrap_or_else(|| Hlc::zero(DeviceId(device)))
    };
    let op = Op {
        op_id: Uuid::now_v7(),
        device_id: DeviceId(device),
        client_seq: u64::try_from(last_seq).unwrap_or(0) + 1,
        hlc: clock.tick(server_now_ms()),
        body,
    };
    if let Err(r) = op.validate().and_then(|()| authorize(user.role, &op.body)) {
        return Err(rejection_error(r).into());
    }
    let raw = serde_json::to_value(&op).map_err(ApiError::internal)?;
    let mut batch = Batch::default();
    let checked = apply_checked(conn, user, device, version, &op, &raw, false, &mut batch).await?;
    let answer = checked.answer;
    if batch.finish(conn, user, version).await?.is_some() {
        return Err(ApiError::internal("a new op id was taken").into());
    }
    Ok(ServerApplied {
        answer,
        unprojected: checked.unprojected,
        spool_entries: checked.spool_entries,
    })
}

/// A refusal by the merge rules as the REST API's error.
pub fn rejection_error(r: Rejection) -> ApiError {
    match r.code {
        RejectCode::Malformed | RejectCode::Invalid | RejectCode::ClockAhead => {
            ApiError::Unprocessable {
                message: r.message,
                field: r.field,
            }
        }
        RejectCode::Forbidden => ApiError::Forbidden(r.message),
        RejectCode::Deleted | RejectCode::Conflict | RejectCode::InvalidTransition => {
            ApiError::Conflict(r.message)
        }
    }
}

async fn register_device(conn: &mut PgConnection, user: &AuthUser, device: Uuid) -> SyncResult<()> {
    // Another shop's device is invisible here (row-level security): the insert does nothing
    // and the update finds nothing, which is refused like another user's device. A known
    // device costs one round trip (the update); a new one three.
    let touch = r#"update device set last_push_at = now() where id = $1 returning user_id"#;
    let mut owner: Option<Uuid> = sqlx::query_scalar(touch)
        .bind(device)
        .fetch_optional(&mut *conn)
        .await?;
    if owner.is_none() {
        sqlx::query(
            r#"insert into device (id, shop_id, user_id) values ($1, $2, $3) on conflict (id) do nothing"#,
        )
        .bind(device)
        .bind(user.shop_id)
        .bind(user.user_id)
        .execute(&mut *conn)
        .await?;
        owner = sqlx::query_scalar(touch)
            .bind(device)
            .fetch_optional(&mut *conn)
            .await?;
    }
    match owner {
        Some(u) if u == user.user_id => Ok(()),
        _ => Err(SyncError::DeviceTaken),
    }
}

/// The cells of the rows this push has read, merged as the ops go.
#[derive(Default)]
struct Batch {
    state: MergeState,
    loaded: BTreeSet<EntityRef>,
    dirty: BTreeSet<EntityRef>,
    /// Stored answers by op id: from earlier pushes, and this push's so far.
    answered: std::collections::HashMap<Uuid, Value>,
    /// This batch's `applied_op` rows, written by [`Batch::finish`].
    records: Vec<Record>,
    /// Project without a savepoint per op ([`project::project_unguarded`]).
    fast: bool,
    /// A projection on the fast path failed with a data error: the transaction is aborted.
    failed_fast: bool,
    /// The fast path's sales and stock moves, not written yet ([`project::deferrable`]).
    pending: Deferred,
}

/// One `applied_op` row.
struct Record {
    op_id: Uuid,
    device_id: Uuid,
    client_seq: i64,
    hlc: String,
    kind: &'static str,
    body: Value,
    outcome: &'static str,
    result: Value,
}

async fn one_op(
    conn: &mut PgConnection,
    user: &AuthUser,
    device_id: Uuid,
    version: i64,
    now_ms: u64,
    raw: &Value,
    batch: &mut Batch,
) -> SyncResult<OpAnswer> {
    let raw_id = raw_op_id(raw);
    let reject = |r: Rejection| Ok(OpAnswer::rejected(raw_id, r, version));
    let mut op = match decode_op(raw) {
        Ok(op) => op,
        Err(r) => return reject(r),
    };
    if let Err(r) = op.validate() {
        return reject(r);
    }
    if op.device_id != DeviceId(device_id) {
        return reject(Rejection {
            code: RejectCode::Invalid,
            message: "the op was made on another device than the one pushing it; push it from the device that made it".into(),
            field: Some("device_id".into()),
        });
    }
    if let Err(e) = check_future(&op.hlc, now_ms, MAX_AHEAD_REFUSE_MS) {
        return reject(e.into());
    }
    let (hlc, clamped) = clamp_future(op.hlc, now_ms, MAX_AHEAD_CLAMP_MS);
    op.hlc = hlc;
    if let Err(r) = authorize(user.role, &op.body) {
        return reject(r);
    }
    // Business details are sealed at rest; an op body would keep them in plaintext.
    if let Err(r) = crate::crypto::refuse_plain_business(&op.body) {
        return reject(r);
    }

    // An op delivered before (in an earlier push, or earlier in this one).
    if let Some(stored) = batch.answered.get(&op.op_id) {
        return Ok(duplicate(op.op_id, stored.clone(), version));
    }

    let mut checked =
        apply_checked(conn, user, device_id, version, &op, raw, clamped, batch).await?;
    if let Some(note) = checked.unprojected {
        checked.answer.notes.push(note);
    }
    Ok(checked.answer)
}

/// What [`apply_checked`] did with one op.
struct Checked {
    answer: OpAnswer,
    /// Why the REST tables could not show the op (it still counts; see [`project`]).
    unprojected: Option<String>,
    /// The spool ledger rows written.
    spool_entries: Vec<Uuid>,
}

impl Checked {
    /// The fast path's transaction failed before the op was applied (`Batch::failed_fast`):
    /// the push is made again, guarded, and this answer is never sent.
    fn aborted(op_id: Uuid, version: i64) -> Self {
        Checked {
            answer: OpAnswer::rejected(
                Some(op_id),
                Rejection::new(RejectCode::Conflict, "the push is applied again"),
                version,
            ),
            unprojected: None,
            spool_entries: Vec::new(),
        }
    }
}

/// The part of applying an op that every writer shares, push and the REST API alike, for
/// an op that passed its envelope checks and was not delivered before: load its cells,
/// merge it with the core rules, record it in `applied_op`, and project it into the REST
/// tables. The caller holds the shop's version ([`take_version`]) and writes the changed
/// cells afterwards ([`Batch::finish`]).
#[allow(clippy::too_many_arguments)]
async fn apply_checked(
    conn: &mut PgConnection,
    user: &AuthUser,
    device_id: Uuid,
    version: i64,
    op: &Op,
    raw: &Value,
    clamped: bool,
    batch: &mut Batch,
) -> SyncResult<Checked> {
    batch.load_for(conn, user, op).await?;
    if batch.failed_fast {
        return Ok(Checked::aborted(op.op_id, version));
    }
    let rows = cells_needed(op, &batch.state);
    let result = apply(&mut batch.state, op);
    // A sale or stock op on the fast path is written with the batch's others; any other
    // projection first writes what the batch gathered, so that it finds the tables as they
    // would be had each op been written on its own.
    let defer = batch.fast && result.as_ref().is_ok_and(|a| project::deferrable(op, a));
    if result.is_ok() && !defer {
        batch.flush(conn, user, device_id).await?;
        if batch.failed_fast {
            return Ok(Checked::aborted(op.op_id, version));
        }
    }
    let mut answer = match &result {
        Ok(a) => OpAnswer::applied(op.op_id, a, version),
        Err(r) => OpAnswer::rejected(Some(op.op_id), r.clone(), version),
    };
    if clamped {
        answer.hlc = Some(op.hlc);
        answer.notes.push(
            "this device's clock is a little ahead of the server's; the change was dated at the server's limit".into(),
        );
    }

    // The unique key decides: an op is recorded (and counted) once. The rows of a batch are
    // inserted together when it ends ([`Batch::finish`]), in one statement: the shop's
    // version lock makes this push the only writer of the shop's ops meanwhile, and an op
    // id taken by another shop (the only way the insert can find one) rolls the whole
    // attempt back, projection included, so nothing is left to undo.
    let stored = serde_json::to_value(&answer).map_err(ApiError::internal)?;
    batch.records.push(Record {
        op_id: op.op_id,
        device_id,
        client_seq: i64::try_from(op.client_seq).unwrap_or(i64::MAX),
        hlc: op.hlc.to_sortable_string(),
        kind: op.body.kind(),
        body: raw.clone(),
        outcome: match answer.status {
            Status::Applied => "applied",
            Status::Rejected => "rejected",
            Status::Duplicate => "duplicate",
        },
        result: stored.clone(),
    });
    batch.answered.insert(op.op_id, stored);
    if defer {
        crate::audit::op_deferred(&mut batch.pending, device_id, op);
    } else {
        crate::audit::op_recorded(conn, device_id, op, result.is_ok()).await?;
    }
    match &result {
        Ok(applied) => {
            if let Some(r) = applied.touched.iter().find(|r| !batch.loaded.contains(r)) {
                // Writing a row that was never loaded would overwrite it: refuse the push.
                return Err(ApiError::internal(format!("{r:?} changed but not loaded")).into());
            }
            batch.dirty.extend(applied.touched.iter().copied());
        }
        // A refused op may still have merged something (an edit of a deleted row is kept
        // for an undelete): write back every row it could have changed.
        Err(_) => batch.dirty.extend(rows),
    }
    // A note about the REST tables is answered now but not stored (the log is append-only).
    let projected = match &result {
        Ok(applied) if defer => {
            project::project_deferred(op, applied, &batch.state, &mut batch.pending);
            project::Projected::default()
        }
        Ok(applied) if batch.fast => {
            match project::project_unguarded(conn, user, op, applied, &batch.state).await {
                Ok(p) => p,
                Err(e) if project::is_data_error(&e) => {
                    batch.failed_fast = true;
                    project::Projected::default()
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(applied) => project::project(conn, user, op, applied, &batch.state).await?,
        Err(_) => project::Projected::default(),
    };
    Ok(Checked {
        answer,
        unprojected: projected.note,
        spool_entries: projected.spool_entries,
    })
}

fn raw_op_id(raw: &Value) -> Option<Uuid> {
    raw.get("op_id")
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
}

fn duplicate(op_id: Uuid, stored: Value, version: i64) -> OpAnswer {
    match serde_json::from_value::<OpAnswer>(stored) {
        Ok(mut a) => {
            a.original = Some(a.status);
            a.status = Status::Duplicate;
            a
        }
        Err(_) => OpAnswer {
            op_id: Some(op_id),
            status: Status::Duplicate,
            original: None,
            code: None,
            reason: None,
            field: None,
            version,
            notes: Vec::new(),
            levels: Vec::new(),
            hlc: None,
        },
    }
}

/// The stamp of what the REST tables held before a row first reached the merge rules:
/// earlier than any op, so every op's change lands on top of it.
fn seed_stamp() -> printstall_core::sync::cells::Stamp {
    printstall_core::sync::cells::Stamp {
        hlc: Hlc::zero(DeviceId(Uuid::nil())),
        op_id: Uuid::nil(),
    }
}

pub(crate) fn kind_of(label: &str) -> Option<EntityKind> {
    serde_json::from_value(Value::String(label.to_owned())).ok()
}

impl Batch {
    /// Loads every cell `op` needs that this batch has not read yet (first writing what the
    /// batch gathered: a row is seeded from the REST tables as they stand).
    async fn load_for(
        &mut self,
        conn: &mut PgConnection,
        user: &AuthUser,
        op: &Op,
    ) -> SyncResult<()> {
        loop {
            let need: Vec<EntityRef> = cells_needed(op, &self.state)
                .into_iter()
                .filter(|r| !self.loaded.contains(r))
                .collect();
            if need.is_empty() {
                return Ok(());
            }
            self.flush(conn, user, op.device_id.0).await?;
            if self.failed_fast {
                return Ok(());
            }
            self.load(conn, user.shop_id, need).await?;
        }
    }

    /// Writes the sales and stock moves gathered on the fast path. A data error there marks
    /// the batch `failed_fast` (the push is made again with a savepoint per op).
    async fn flush(
        &mut self,
        conn: &mut PgConnection,
        user: &AuthUser,
        device: Uuid,
    ) -> SyncResult<()> {
        match self
            .pending
            .flush(conn, user.shop_id, user.user_id, device)
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if self.fast && project::is_data_error(&e) => {
                self.failed_fast = true;
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Loads, in one query, the cells the ops of a push name directly (the rows found only
    /// through other rows are loaded op by op, by [`Batch::load_for`]).
    async fn prefetch(
        &mut self,
        conn: &mut PgConnection,
        shop: Uuid,
        ops: &[Op],
    ) -> SyncResult<()> {
        let mut need = BTreeSet::new();
        for op in ops {
            need.extend(
                cells_needed(op, &self.state)
                    .into_iter()
                    .filter(|r| !self.loaded.contains(r)),
            );
        }
        if need.is_empty() {
            return Ok(());
        }
        self.load(conn, shop, need.into_iter().collect()).await
    }

    /// Reads the cells `need` into the state (seeding the ones the merge rules have not
    /// seen from the REST tables).
    async fn load(
        &mut self,
        conn: &mut PgConnection,
        shop: Uuid,
        need: Vec<EntityRef>,
    ) -> SyncResult<()> {
        let kinds: Vec<&str> = need.iter().map(|r| r.kind.label()).collect();
        let ids: Vec<Uuid> = need.iter().map(|r| r.id).collect();
        let rows = sqlx::query(
            r#"select c.kind, c.id, c.cell from sync_cell c
               join unnest($2::text[], $3::uuid[]) as w(kind, id) on w.kind = c.kind and w.id = c.id
               where c.shop_id = $1"#,
        )
        .bind(shop)
        .bind(&kinds)
        .bind(&ids)
        .fetch_all(&mut *conn)
        .await?;
        let mut found = BTreeSet::new();
        for row in rows {
            let kind = kind_of(row.get::<&str, _>("kind"))
                .ok_or_else(|| ApiError::internal("unknown kind in sync_cell"))?;
            let r = EntityRef {
                kind,
                id: row.get("id"),
            };
            // Read straight into the cell (no `Value` in between: a push reads every cell
            // it touches).
            let Jsonb(doc) = row
                .try_get::<Jsonb<CellDoc>, _>("cell")
                .map_err(|e| ApiError::internal(format!("sync_cell {r:?}: {e}")))?;
            self.state.put_cell(r, doc);
            found.insert(r);
        }
        let missing: Vec<EntityRef> = need
            .iter()
            .filter(|r| !found.contains(r))
            .copied()
            .collect();
        self.seed(conn, &missing).await?;
        self.loaded.extend(need);
        Ok(())
    }

    /// A product or spool made through the REST API before any op touched it: its merge
    /// cell starts from what the REST tables hold (fields, and the level as a count that
    /// every op comes after).
    async fn seed(&mut self, conn: &mut PgConnection, missing: &[EntityRef]) -> SyncResult<()> {
        let products: Vec<Uuid> = missing
            .iter()
            .filter(|r| r.kind == EntityKind::Product)
            .map(|r| r.id)
            .collect();
        let spools: Vec<Uuid> = missing
            .iter()
            .filter(|r| r.kind == EntityKind::Spool)
            .map(|r| r.id)
            .collect();
        let stamp = seed_stamp();
        if !products.is_empty() {
            let rows = sqlx::query(
                r#"select id, on_hand, jsonb_strip_nulls(jsonb_build_object(
                       'sku', sku, 'name', name, 'variant_id', variant_id, 'price', price,
                       'unit_cost', unit_cost, 'barcode', barcode, 'location', location,
                       'low_stock_threshold', low_stock_threshold, 'tags', tags,
                       'active', active)) as fields
                   from product where id = any($1)"#,
            )
            .bind(&products)
            .fetch_all(&mut *conn)
            .await?;
            for row in rows {
                let id: Uuid = row.get("id");
                let on_hand: i64 = row.get("on_hand");
                let fields: Value = row.get("fields");
                let mut doc = CellDoc::default();
                let mut cell = printstall_core::sync::cells::EntityCell::default();
                for (k, v) in fields.as_object().into_iter().flatten() {
                    cell.write(stamp, k, v.clone());
                }
                doc.entity = Some(cell);
                if on_hand != 0 {
                    let mut level = printstall_core::sync::cells::LevelCell::default();
                    level.set_count(stamp, on_hand);
                    doc.stock = Some(level);
                }
                self.state.put_cell(
                    EntityRef {
                        kind: EntityKind::Product,
                        id,
                    },
                    doc,
                );
            }
        }
        if !spools.is_empty() {
            let rows = sqlx::query(
                r#"select id, initial_net_cg, left_cg, jsonb_strip_nulls(jsonb_build_object(
                       'filament_id', filament_id, 'initial_net_cg', initial_net_cg,
                       'empty_spool_cg', empty_spool_cg, 'price_paid', price_paid,
                       'purchase_date', purchase_date, 'location', location,
                       'lot_number', lot_number, 'barcode', barcode, 'nfc_tag_id', nfc_tag_id,
                       'archived', archived)) as fields
                   from spool where id = any($1)"#,
            )
            .bind(&spools)
            .fetch_all(&mut *conn)
            .await?;
            for row in rows {
                let id: Uuid = row.get("id");
                let initial: i64 = row.get("initial_net_cg");
                let left: i64 = row.get("left_cg");
                let fields: Value = row.get("fields");
                let mut doc = CellDoc::default();
                let mut cell = printstall_core::sync::cells::EntityCell::default();
                for (k, v) in fields.as_object().into_iter().flatten() {
                    cell.write(stamp, k, v.clone());
                }
                doc.entity = Some(cell);
                if left != initial {
                    let mut level = printstall_core::sync::cells::LevelCell::default();
                    level.set_count(stamp, left);
                    doc.spool = Some(level);
                }
                self.state.put_cell(
                    EntityRef {
                        kind: EntityKind::Spool,
                        id,
                    },
                    doc,
                );
            }
        }
        let jobs: Vec<Uuid> = missing
            .iter()
            .filter(|r| r.kind == EntityKind::PrintJob)
            .map(|r| r.id)
            .collect();
        if !jobs.is_empty() {
            self.seed_jobs(conn, &jobs).await?;
        }
        Ok(())
    }

    /// A print job whose status the REST API set before its changes were ops: its steps
    /// start with the ones that lead to that status, before any op.
    async fn seed_jobs(&mut self, conn: &mut PgConnection, jobs: &[Uuid]) -> SyncResult<()> {
        use printstall_core::domain::print_job::JobStatus;
        use printstall_core::sync::cells::{JobCell, JobStep};
        use printstall_core::sync::op::{JobFail, JobFinish};
        let rows: Vec<(Uuid, String, Option<String>)> = sqlx::query_as(
            r#"select id, status, failure_reason from print_job
               where id = any($1) and status <> 'queued'"#,
        )
        .bind(jobs)
        .fetch_all(&mut *conn)
        .await?;
        for (id, status, reason) in rows {
            let job_id = printstall_core::domain::PrintJobId(id);
            let steps: Vec<JobStep> = match status.as_str() {
                "printing" => vec![JobStep::Transition {
                    to: JobStatus::Printing,
                }],
                "paused" => vec![
                    JobStep::Transition {
                        to: JobStatus::Printing,
                    },
                    JobStep::Transition {
                        to: JobStatus::Paused,
                    },
                ],
                "cancelled" => vec![JobStep::Transition {
                    to: JobStatus::Cancelled,
                }],
                // Their stock and filament are already in the seeded levels.
                "done" => vec![JobStep::Finish(JobFinish {
                    job_id,
                    produced: Vec::new(),
                    spools: Vec::new(),
                })],
                "failed" => vec![JobStep::Fail(JobFail {
                    job_id,
                    reason: reason.unwrap_or_else(|| "failed".into()),
                    spools: Vec::new(),
                })],
                _ => Vec::new(),
            };
            let mut cell = JobCell::default();
            for (i, step) in steps.into_iter().enumerate() {
                let mut stamp = seed_stamp();
                stamp.hlc.counter = u32::try_from(i).unwrap_or(u32::MAX);
                cell.steps.insert(stamp, step);
            }
            let doc = CellDoc {
                job: Some(cell),
                ..CellDoc::default()
            };
            self.state.put_cell(
                EntityRef {
                    kind: EntityKind::PrintJob,
                    id,
                },
                doc,
            );
        }
        Ok(())
    }

    /// Records the batch's ops in `applied_op`, writes the changed cells with this push's
    /// version (an emptied cell is written as `{}`, so pullers learn that it changed) and,
    /// when there are any, queues the shop's poke: delivered to every server process's
    /// listener when (and only if) the transaction commits. All in one statement. `Some(op
    /// id)` when an op id is taken by another shop (invisible here): the caller rolls back,
    /// so the cells written with it do not stay.
    async fn finish(
        &self,
        conn: &mut PgConnection,
        user: &AuthUser,
        version: i64,
    ) -> SyncResult<Option<Uuid>> {
        if self.records.is_empty() && self.dirty.is_empty() {
            return Ok(None);
        }
        let n = self.records.len();
        let (mut ids, mut devices, mut seqs, mut hlcs, mut kinds) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let (mut bodies, mut outcomes, mut results) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for r in &self.records {
            ids.push(r.op_id);
            devices.push(r.device_id);
            seqs.push(r.client_seq);
            hlcs.push(r.hlc.as_str());
            kinds.push(r.kind);
            bodies.push(&r.body);
            outcomes.push(r.outcome);
            results.push(&r.result);
        }
        let d = self.dirty.len();
        let mut cell_kinds = Vec::with_capacity(d);
        let mut cell_ids = Vec::with_capacity(d);
        let mut cells = Vec::with_capacity(d);
        for r in &self.dirty {
            cell_kinds.push(r.kind.label());
            cell_ids.push(r.id);
            cells.push(Jsonb(self.state.cell(*r).unwrap_or_default()));
        }
        let (inserted, _pokes): (Vec<Uuid>, i64) = sqlx::query_as(
            r#"with recorded as (
                   insert into applied_op (op_id, shop_id, device_id, user_id, client_seq, hlc,
                                           kind, body, outcome, result, version)
                   select w.op_id, $1, w.device_id, $3, w.client_seq, w.hlc, w.kind, w.body,
                          w.outcome, w.result, $2
                   from unnest($4::uuid[], $5::uuid[], $6::int8[], $7::text[], $8::text[],
                               $9::jsonb[], $10::text[], $11::jsonb[])
                        as w(op_id, device_id, client_seq, hlc, kind, body, outcome, result)
                   on conflict (op_id) do nothing
                   returning op_id
               ),
               written as (
                   insert into sync_cell (shop_id, kind, id, cell, version)
                   select $1, w.kind, w.id, w.cell, $2
                   from unnest($12::text[], $13::uuid[], $14::jsonb[]) as w(kind, id, cell)
                   on conflict (shop_id, kind, id) do update
                   set cell = excluded.cell, version = excluded.version
               ),
               poked as (
                   select pg_notify('printstall_sync', $15) where cardinality($13) > 0
               )
               select array(select op_id from recorded), (select count(*) from poked)"#,
        )
        .bind(user.shop_id)
        .bind(version)
        .bind(user.user_id)
        .bind(&ids)
        .bind(&devices)
        .bind(&seqs)
        .bind(&hlcs)
        .bind(&kinds)
        .bind(&bodies)
        .bind(&outcomes)
        .bind(&results)
        .bind(&cell_kinds)
        .bind(&cell_ids)
        .bind(&cells)
        .bind(format!("{}:{version}", user.shop_id))
        .fetch_one(&mut *conn)
        .await?;
        if inserted.len() == n {
            return Ok(None);
        }
        let inserted: BTreeSet<Uuid> = inserted.into_iter().collect();
        Ok(ids.into_iter().find(|id| !inserted.contains(id)))
    }
}

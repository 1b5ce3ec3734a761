//! The audit log (issue 7): who changed what, when, from which device.
//!
//! The rows are written by PostgreSQL itself: migration 0200 puts one trigger function on
//! every business table, which records each inserted, updated or deleted row (the changed
//! fields before and after) in `audit_log`, in the same transaction as the change. So every
//! writer is covered, the REST API, sync pushes, sign-up and invites alike, without each
//! handler having to remember it. This module gives the triggers their context, records
//! the ops themselves, and serves the log to the shop's owner:
//!
//! - [`op_recorded`]: called once per op by the sync apply path (pushes and REST changes
//!   made as ops): tells the triggers which device and op the following writes belong to,
//!   and records the op (kind and body) as an `op` entry.
//! - Sales and stock moves are written set-based, many ops per statement
//!   (`crate::sync::deferred`); the trigger cannot tell their ops apart, so those
//!   statements turn it off and write the same entries themselves, each with its op
//!   ([`op_deferred`] for the `op` entry).
//! - The signed-in session of a REST request (its refresh-token family) is set with the
//!   shop and user when its transaction begins ([`crate::tenancy::begin_session`]).
//! - `GET /api/v1/audit` (filters and paging) and `GET /api/v1/audit/export` (CSV), owner
//!   only.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::StreamExt;
use printstall_core::domain::member::Action;
use printstall_core::sync::Op;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::{PgConnection, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::api::common::{ApiJson, ApiQuery, ApiResult, db, invalid_field, require};
use crate::api::{ApiState, Routes};
use crate::auth::AuthUser;
use crate::error::ApiError;

/// Ties the writes that follow (in `conn`'s transaction) to `device_id` and `op`, and, when
/// the op was applied, records it. `rest` ops (the server's own device for a member's REST
/// change) and pushed ops are counted apart in the metrics.
pub async fn op_recorded(
    conn: &mut PgConnection,
    device_id: Uuid,
    op: &Op,
    applied: bool,
) -> Result<(), sqlx::Error> {
    crate::metrics::sync_op(applied, device_id.get_version_num() == 8);
    if !applied {
        // A refused op writes no business row: nothing to tie or record.
        return Ok(());
    }
    // One round trip: set the context for the triggers, then record the op itself.
    sqlx::query(
        r#"with ctx as materialized (
               select set_config('app.device_id', $1::text, true) as device,
                      set_config('app.op_id', $2::text, true) as op
           )
           insert into audit_log (shop_id, user_id, device_id, session_id, op_id, entity,
                                  entity_id, action, after)
           select app_shop_id(), app_user_id(), $1, app_setting_uuid('app.session_id'), $2,
                  'sync_op', $2, 'op', $3
           from ctx
           where app_shop_id() is not null"#,
    )
    .bind(device_id)
    .bind(op.op_id)
    .bind(op_entry(op))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// [`op_recorded`] for an op applied on a push's fast path, whose writes are gathered and
/// written together (`crate::sync::deferred`): its `op` entry is written with them.
pub fn op_deferred(pending: &mut crate::sync::deferred::Deferred, device_id: Uuid, op: &Op) {
    crate::metrics::sync_op(true, device_id.get_version_num() == 8);
    pending.op(device_id, op.op_id, op_entry(op));
}

/// What an `op` entry of the log holds: the op's kind, body and clock stamp.
fn op_entry(op: &Op) -> Value {
    let body = serde_json::to_value(&op.body).unwrap_or(Value::Null);
    json!({"kind": op.body.kind(), "body": body, "hlc": op.hlc.to_sortable_string()})
}

pub fn routes(r: Routes) -> Routes {
    r.route("/audit", &[Method::GET], get(list))
        .route("/audit/export", &[Method::GET], get(export))
}

/// `?entity=&entity_id=&user_id=&device_id=&session_id=&op_id=&action=&from=&to=&cursor=&limit=`
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// A table name (`product`, `sale`, ...) or `sync_op`.
    pub entity: Option<String>,
    pub entity_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    /// The sync device (or the member's server-side device for REST changes made as ops).
    pub device_id: Option<Uuid>,
    /// The signed-in session (`GET /auth/sessions`).
    pub session_id: Option<Uuid>,
    pub op_id: Option<Uuid>,
    /// `insert`, `update`, `delete` or `op`.
    pub action: Option<String>,
    /// From this instant on (RFC 3339), inclusive.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub from: Option<OffsetDateTime>,
    /// Before this instant (RFC 3339), exclusive.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub to: Option<OffsetDateTime>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

impl AuditQuery {
    fn check(&self) -> ApiResult<()> {
        if let Some(e) = &self.entity
            && (e.is_empty()
                || e.len() > 64
                || !e.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        {
            return Err(invalid_field(
                "entity",
                "is a table name such as product, sale or sync_op",
            ));
        }
        if let Some(a) = &self.action
            && !matches!(a.as_str(), "insert" | "update" | "delete" | "op")
        {
            return Err(invalid_field(
                "action",
                "must be insert, update, delete or op",
            ));
        }
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from > to
        {
            return Err(invalid_field("from", "must not be after `to`"));
        }
        Ok(())
    }

    fn limit(&self) -> ApiResult<i64> {
        match self.limit {
            None => Ok(50),
            Some(n) if (1..=200).contains(&n) => Ok(n),
            Some(_) => Err(invalid_field("limit", "must be between 1 and 200")),
        }
    }

    fn before_id(&self) -> ApiResult<Option<i64>> {
        match self.cursor.as_deref() {
            None | Some("") => Ok(None),
            Some(c) => c
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .map(Some)
                .ok_or_else(|| invalid_field("cursor", "is not a cursor from this API")),
        }
    }
}

/// One entry.
#[derive(Debug, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Entries with the same `tx_id` were one change.
    pub tx_id: i64,
    pub user_id: Option<Uuid>,
    /// The member's name, while they are still a member.
    pub user_name: Option<String>,
    pub device_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    pub op_id: Option<Uuid>,
    pub entity: String,
    pub entity_id: Option<Uuid>,
    pub action: String,
    /// The changed fields' old values (the whole row for a delete).
    pub before: Option<Value>,
    /// The changed fields' new values (the whole row for an insert; the op for `op`).
    pub after: Option<Value>,
}

#[derive(Debug, Serialize)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Newest first, `limit` entries before the id `before` (all when `None`).
async fn fetch(
    conn: &mut PgConnection,
    q: &AuditQuery,
    before: Option<i64>,
    limit: i64,
) -> ApiResult<Vec<AuditEntry>> {
    let rows = sqlx::query(
        r#"select l.id, l.at, l.tx_id, l.user_id, u.display_name as user_name, l.device_id,
                  l.session_id, l.op_id, l.entity, l.entity_id, l.action, l.before, l.after
           from audit_log l
           left join app_user u on u.id = l.user_id
           where ($1::bigint is null or l.id < $1)
             and ($2::text is null or l.entity = $2)
             and ($3::uuid is null or l.entity_id = $3)
             and ($4::uuid is null or l.user_id = $4)
             and ($5::uuid is null or l.device_id = $5)
             and ($6::uuid is null or l.session_id = $6)
             and ($7::uuid is null or l.op_id = $7)
             and ($8::text is null or l.action = $8)
             and ($9::timestamptz is null or l.at >= $9)
             and ($10::timestamptz is null or l.at < $10)
           order by l.id desc
           limit $11"#,
    )
    .bind(before)
    .bind(&q.entity)
    .bind(q.entity_id)
    .bind(q.user_id)
    .bind(q.device_id)
    .bind(q.session_id)
    .bind(q.op_id)
    .bind(&q.action)
    .bind(q.from)
    .bind(q.to)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    Ok(rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.get("id"),
            at: r.get("at"),
            tx_id: r.get("tx_id"),
            user_id: r.get("user_id"),
            user_name: r.get("user_name"),
            device_id: r.get("device_id"),
            session_id: r.get("session_id"),
            op_id: r.get("op_id"),
            entity: r.get("entity"),
            entity_id: r.get("entity_id"),
            action: r.get("action"),
            before: r.get("before"),
            after: r.get("after"),
        })
        .collect())
}

/// `GET /audit`: the shop's audit log, newest first (owner).
async fn list(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<ApiJson<AuditPage>> {
    require(&auth, Action::ManageShop)?;
    q.check()?;
    let limit = q.limit()?;
    let before = q.before_id()?;
    let mut tx = state.tx(&auth).await?;
    let mut items = fetch(&mut tx, &q, before, limit + 1).await?;
    tx.commit().await.map_err(db)?;
    let next_cursor = if items.len() > usize::try_from(limit).unwrap_or(50) {
        items.truncate(usize::try_from(limit).unwrap_or(50));
        items.last().map(|e| e.id.to_string())
    } else {
        None
    };
    Ok(ApiJson(AuditPage { items, next_cursor }))
}

const EXPORT_PAGE: i64 = 1000;
const CSV_HEADER: [&str; 13] = [
    "id",
    "at",
    "tx_id",
    "user_id",
    "user_name",
    "device_id",
    "session_id",
    "op_id",
    "entity",
    "entity_id",
    "action",
    "before",
    "after",
];

/// A cell as a spreadsheet will not run it as a formula.
fn cell(text: String) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text
    }
}

fn csv_rows(entries: &[AuditEntry], header: bool) -> Result<Vec<u8>, ApiError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    if header {
        w.write_record(CSV_HEADER).map_err(ApiError::internal)?;
    }
    let opt = |v: Option<Uuid>| v.map(|u| u.to_string()).unwrap_or_default();
    let json = |v: &Option<Value>| v.as_ref().map(Value::to_string).unwrap_or_default();
    for e in entries {
        let at =
            e.at.format(&time::format_description::well_known::Rfc3339)
                .map_err(ApiError::internal)?;
        w.write_record([
            e.id.to_string(),
            at,
            e.tx_id.to_string(),
            opt(e.user_id),
            cell(e.user_name.clone().unwrap_or_default()),
            opt(e.device_id),
            opt(e.session_id),
            opt(e.op_id),
            cell(e.entity.clone()),
            opt(e.entity_id),
            e.action.clone(),
            json(&e.before),
            json(&e.after),
        ])
        .map_err(ApiError::internal)?;
    }
    w.into_inner().map_err(ApiError::internal)
}

/// `GET /audit/export`: the entries matching the filters as CSV, newest first (owner).
/// Streamed page by page from one transaction, so a long log is never held in memory.
async fn export(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Response> {
    require(&auth, Action::ManageShop)?;
    q.check()?;
    if q.limit.is_some() {
        return Err(invalid_field(
            "limit",
            "the export has every matching entry; use from/to to narrow it",
        ));
    }
    let before = q.before_id()?;
    let mut tx = state.tx(&auth).await?;
    // The first page now, so a failure is an error answer rather than a cut-off file.
    let page = usize::try_from(EXPORT_PAGE).unwrap_or(1000);
    let first = fetch(&mut tx, &q, before, EXPORT_PAGE).await?;
    let head = csv_rows(&first, true)?;
    let start = (first.len() == page)
        .then(|| first.last().map(|e| e.id))
        .flatten();
    let pages = futures_util::stream::unfold(start.map(|b| (tx, q, b)), move |state| async move {
        let (mut tx, q, before) = state?;
        match fetch(&mut tx, &q, Some(before), EXPORT_PAGE).await {
            Ok(rows) => {
                let next = (rows.len() == page)
                    .then(|| rows.last().map(|e| e.id))
                    .flatten();
                let bytes =
                    csv_rows(&rows, false).map_err(|e| std::io::Error::other(e.to_string()));
                Some((bytes, next.map(|b| (tx, q, b))))
            }
            Err(e) => {
                tracing::error!(error = %e, "audit export failed mid-stream");
                Some((Err(std::io::Error::other("audit export failed")), None))
            }
        }
    });
    let body =
        futures_util::stream::once(async move { Ok::<_, std::io::Error>(head) }).chain(pages);
    // Fused: the compression layer may poll again after the end.
    let mut response = Body::from_stream(body.fuse()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"audit-{}.csv\"",
        auth.shop_id
    )) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn formulas_are_defused() {
        assert_eq!(cell("=SUM(A1)".into()), "'=SUM(A1)");
        assert_eq!(cell("Rex".into()), "Rex");
    }

    #[test]
    fn filters_are_checked() {
        let q = AuditQuery {
            entity: Some("product; drop".into()),
            ..Default::default()
        };
        assert!(q.check().is_err());
        let q = AuditQuery {
            cursor: Some("x".into()),
            ..Default::default()
        };
        assert!(q.before_id().is_err());
    }
}

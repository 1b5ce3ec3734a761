//! What the REST handlers share when they make their change as an op
//! ([`super::push::apply_server_op`]): the op applied with the request's rules for refusals,
//! and the fields of an edit in the spelling of `entity.set.v1`.

use printstall_core::sync::op::{EntitySet, EntityTarget};
use printstall_core::sync::{EntityKind, OpBody, RejectCode, Rejection};
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::PgConnection;
use uuid::Uuid;

use super::push::{ServerApplied, Status, apply_server_op, rejection_error};
use crate::api::common::{ApiResult, db};
use crate::auth::AuthUser;
use crate::error::ApiError;

/// Applies a REST change as an op in the request's transaction. A change the REST tables
/// could not show is the request's error (409); so, with `strict`, is an op the merge rules
/// refuse (422, 403 or 409 by its code). The handler returns the error and the transaction,
/// op included, is rolled back.
pub async fn apply(
    tx: &mut PgConnection,
    auth: &AuthUser,
    body: OpBody,
    strict: bool,
) -> ApiResult<ServerApplied> {
    let done = apply_server_op(tx, auth, body).await?;
    if let Some(note) = done.unprojected {
        return Err(ApiError::Conflict(note));
    }
    if strict && done.answer.status == Status::Rejected {
        let a = done.answer;
        return Err(rejection_error(Rejection {
            code: a.code.unwrap_or(RejectCode::Conflict),
            message: a.reason.unwrap_or_else(|| "the change was refused".into()),
            field: a.field,
        }));
    }
    Ok(done)
}

/// The fields of `next` that differ from `before` (every set field without `before`), in
/// the JSON spelling of `entity.set.v1` (the row type's own); `null` clears a field. The id
/// is never a field.
pub fn changed_fields<T: Serialize>(before: Option<&T>, next: &T) -> ApiResult<Map<String, Value>> {
    let to_map = |v: &T| match serde_json::to_value(v) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(ApiError::internal("a row is not a JSON object")),
    };
    let next = to_map(next)?;
    let before = before.map(to_map).transpose()?;
    Ok(next
        .into_iter()
        .filter(|(k, v)| k != "id" && !(before.is_none() && v.is_null()))
        .filter(|(k, v)| before.as_ref().is_none_or(|b| b.get(k) != Some(v)))
        .collect())
}

/// Records a REST create or edit of a row for devices: the fields of `next` that differ
/// from `before` (all of them for a new row) as one `entity.set.v1`, nothing when none
/// changed. `before` and `next` are the row in the spelling of the kind's patch type.
pub async fn set_changed<T: Serialize>(
    conn: &mut PgConnection,
    auth: &AuthUser,
    entity: EntityKind,
    id: Uuid,
    before: Option<&T>,
    next: &T,
    strict: bool,
) -> ApiResult<Option<ServerApplied>> {
    match set_op(entity, id, before, next)? {
        Some(body) => apply(conn, auth, body, strict).await.map(Some),
        None => Ok(None),
    }
}

/// The `entity.set.v1` of the fields of `next` that differ from `before` (all of them for
/// a new row); `None` when none changed.
pub fn set_op<T: Serialize>(
    entity: EntityKind,
    id: Uuid,
    before: Option<&T>,
    next: &T,
) -> ApiResult<Option<OpBody>> {
    let fields = changed_fields(before, next)?;
    Ok((!fields.is_empty()).then_some(OpBody::EntitySet(EntitySet { entity, id, fields })))
}

/// Archives the row `id` of `table` (a fixed name, never input; one with `archived_at`)
/// and records it for devices as an `entity.delete.v1` (a tombstone; archiving again is a
/// note, not a refusal). 404 when the row is not the shop's.
pub async fn archive(
    conn: &mut PgConnection,
    auth: &AuthUser,
    table: &str,
    what: &str,
    entity: EntityKind,
    id: Uuid,
) -> ApiResult<()> {
    super::push::lock_shop(conn, auth.shop_id).await?;
    let done = sqlx::query(&format!(
        "update {table} set archived_at = coalesce(archived_at, now()), updated_at = now() where id = $1"
    ))
    .bind(id)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    if done.rows_affected() == 0 {
        return Err(ApiError::NotFound(what.into()));
    }
    let target = EntityTarget { entity, id };
    apply(conn, auth, OpBody::EntityDelete(target), false).await?;
    Ok(())
}

//! What the REST handlers share when they make their change as an op
//! ([`super::push::apply_server_op`]): the op applied with the request's rules for refusals,
//! and the fields of an edit in the spelling of `entity.set.v1`.

use printstall_core::sync::{OpBody, RejectCode, Rejection};
use serde::Serialize;
use serde_json::{Map, Value};

use super::push::{ServerApplied, Status, apply_server_op, rejection_error};
use crate::api::common::{ApiResult, Tx};
use crate::auth::AuthUser;
use crate::error::ApiError;

/// Applies a REST change as an op in the request's transaction. A change the REST tables
/// could not show is the request's error (409); so, with `strict`, is an op the merge rules
/// refuse (422, 403 or 409 by its code). The handler returns the error and the transaction,
/// op included, is rolled back.
pub async fn apply(
    tx: &mut Tx,
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

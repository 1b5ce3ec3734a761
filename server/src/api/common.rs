//! What the resource modules share: the JSON body extractor with the one error shape,
//! database-error mapping, permission checks, JSON merge patches, and cursor pagination.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use printstall_core::domain::ValidationError;
use printstall_core::domain::member::{self, Action};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use super::ApiState;
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::tenancy;

pub type Tx = Transaction<'static, Postgres>;
pub type ApiResult<T> = Result<T, ApiError>;

/// A JSON body whose rejections use the API's error shape: malformed JSON is 400, a body of
/// the wrong shape (missing or wrongly typed fields) 422.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> ApiError {
    match r {
        JsonRejection::JsonDataError(e) => ApiError::Unprocessable {
            message: e.body_text().replace(
                "Failed to deserialize the JSON body into the target type: ",
                "",
            ),
            field: None,
        },
        JsonRejection::MissingJsonContentType(_) => ApiError::bad_request(
            "bad_content_type",
            "send the body as JSON with Content-Type: application/json",
        ),
        other => ApiError::bad_request(
            "bad_json",
            format!("the body is not valid JSON: {}", other.body_text()),
        ),
    }
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// JSON 404 for paths under `/api/v1` that do not exist.
pub async fn not_found() -> ApiError {
    ApiError::NotFound("this API path".into())
}

/// A core validation failure as 422 naming the field.
pub fn invalid(e: ValidationError) -> ApiError {
    ApiError::Unprocessable {
        message: e.to_string(),
        field: Some(e.field),
    }
}

pub fn invalid_field(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::Unprocessable {
        message: format!("{field}: {}", message.into()),
        field: Some(field.to_owned()),
    }
}

/// 403 unless the member's role may do `action` (the rule lives in core).
pub fn require(user: &AuthUser, action: Action) -> ApiResult<()> {
    member::require(user.role, action).map_err(|e| ApiError::Forbidden(e.to_string()))
}

/// Maps database errors by SQLSTATE and constraint name: unique keys to 409, references to
/// another shop's (invisible) or unknown row to 404, rows still in use to 409, checks to 422.
pub fn db(e: sqlx::Error) -> ApiError {
    if let sqlx::Error::Database(d) = &e {
        let constraint = d.constraint().unwrap_or_default().to_owned();
        match d.code().as_deref() {
            Some("23505") => {
                let message = match constraint.as_str() {
                    "product_sku_key" => {
                        "a product with this SKU already exists in the shop; choose another SKU"
                    }
                    "app_user_email_key" => {
                        "an account with this email already exists; sign in instead"
                    }
                    "membership_pkey" => "this account is already a member of the shop",
                    c if c.ends_with("_pkey") => "a record with this id already exists",
                    _ => "this record already exists",
                };
                return ApiError::Conflict(message.into());
            }
            Some("23503") => {
                if d.message().contains("still referenced") {
                    return ApiError::Conflict(
                        "it is still in use by other records; archive it instead".into(),
                    );
                }
                return ApiError::NotFound(referenced_thing(&constraint).into());
            }
            Some("23514") | Some("23502") => {
                return ApiError::Unprocessable {
                    message: format!("a value is out of range ({constraint})"),
                    field: None,
                };
            }
            Some("40001") | Some("40P01") => {
                return ApiError::Conflict(
                    "another change to the same records happened at once; try again".into(),
                );
            }
            _ => {}
        }
    }
    ApiError::from(e)
}

fn referenced_thing(constraint: &str) -> &'static str {
    match constraint {
        c if c.ends_with("_variant_fkey") => "variant",
        c if c.ends_with("_model_fkey") => "model",
        c if c.ends_with("_filament_fkey") => "filament",
        c if c.ends_with("_spool_fkey") => "spool",
        c if c.ends_with("_printer_fkey") => "printer",
        c if c.ends_with("_event_fkey") => "market event",
        c if c.ends_with("_product_fkey") => "product",
        c if c.ends_with("_job_fkey") => "print job",
        c if c.ends_with("_sale_fkey") => "sale",
        c if c.ends_with("_sliced_file_fkey") => "sliced file",
        _ => "referenced record",
    }
}

impl ApiState {
    /// A transaction as the app role, acting for the signed-in member's shop.
    pub async fn tx(&self, user: &AuthUser) -> ApiResult<Tx> {
        tenancy::begin_session(&self.app, user.shop_id, user.user_id, user.session_id)
            .await
            .map_err(db)
    }
}

/// Applies a JSON merge patch to `current`: the patch is first read as `P` (the core patch
/// type, which refuses unknown fields and wrong types), `null` is allowed only for the
/// fields in `nullable`, then the keys replace those of `current`.
pub fn merge_patch<T, P>(current: &T, patch: Value, nullable: &[&str]) -> ApiResult<(T, P)>
where
    T: Serialize + DeserializeOwned,
    P: DeserializeOwned,
{
    let Value::Object(patch_map) = patch else {
        return Err(ApiError::Unprocessable {
            message: "send a JSON object with the fields to change".into(),
            field: None,
        });
    };
    for (k, v) in &patch_map {
        if v.is_null() && !nullable.contains(&k.as_str()) {
            return Err(invalid_field(k, "cannot be null; leave it out to keep it"));
        }
    }
    let typed: P = serde_json::from_value(Value::Object(patch_map.clone()))
        .map_err(|e| invalid_field("body", e.to_string()))?;
    let mut merged = match serde_json::to_value(current).map_err(ApiError::internal)? {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    for (k, v) in patch_map {
        merged.insert(k, v);
    }
    let next: T = serde_json::from_value(Value::Object(merged))
        .map_err(|e| invalid_field("body", e.to_string()))?;
    Ok((next, typed))
}

/// `?cursor=&limit=&q=` of list endpoints.
#[derive(Debug, Deserialize, Default)]
pub struct ListQuery {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// Search text.
    pub q: Option<String>,
    /// Include archived rows.
    #[serde(default)]
    pub archived: bool,
}

impl ListQuery {
    pub fn limit(&self) -> ApiResult<i64> {
        match self.limit {
            None => Ok(50),
            Some(n) if (1..=200).contains(&n) => Ok(n),
            Some(_) => Err(invalid_field("limit", "must be between 1 and 200")),
        }
    }

    /// The id after which the page starts.
    pub fn after(&self) -> ApiResult<Option<Uuid>> {
        match self.cursor.as_deref() {
            None | Some("") => Ok(None),
            Some(c) => Uuid::parse_str(c)
                .map(Some)
                .map_err(|_| invalid_field("cursor", "is not a cursor from this API")),
        }
    }

    /// `q` as an ILIKE pattern (`%q%`, wildcards escaped), or `None`.
    pub fn pattern(&self) -> ApiResult<Option<String>> {
        match self.q.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(q) if q.chars().count() > 256 => Err(invalid_field(
                "q",
                "is too long; search with at most 256 characters",
            )),
            Some(q) => {
                let escaped = q
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                Ok(Some(format!("%{escaped}%")))
            }
        }
    }
}

/// One page of a list.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` fetched rows, ordered by `id_of`.
    pub fn from_rows(mut rows: Vec<T>, limit: i64, id_of: impl Fn(&T) -> Uuid) -> Self {
        let limit = usize::try_from(limit).unwrap_or(50);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|r| id_of(r).to_string())
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }
}

/// A fresh id (UUIDv7) unless the client sent one.
pub fn new_id(client: Option<Uuid>) -> Uuid {
    client.unwrap_or_else(Uuid::now_v7)
}

/// Converts a non-negative `u32` from core to the `integer` columns.
pub fn int(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// Reads an `integer` column back into core's `u32`.
pub fn uint(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

/// A path parameter whose rejection (e.g. an id that is not a UUID) uses the API's shape.
pub struct ApiPath<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|e| ApiError::bad_request("bad_path", e.body_text()))
    }
}

/// A query string whose rejection uses the API's shape.
pub struct ApiQuery<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e| ApiError::bad_request("bad_query", e.body_text()))
    }
}

/// Reads a creation body as the core type `T`, whose `id` the client may send (a new
/// UUIDv7 otherwise). Missing or wrongly typed fields are 422.
pub fn new_entity<T: DeserializeOwned>(body: Value) -> ApiResult<T> {
    let Value::Object(mut m) = body else {
        return Err(ApiError::Unprocessable {
            message: "send a JSON object".into(),
            field: None,
        });
    };
    if m.get("id").is_none_or(Value::is_null) {
        m.insert("id".into(), Value::String(Uuid::now_v7().to_string()));
    }
    serde_json::from_value(Value::Object(m)).map_err(|e| invalid_field("body", e.to_string()))
}

/// The JSON spelling of a core enum (`"pla"`, `"failed_print"`), as stored in text columns.
pub fn label<T: Serialize>(v: &T) -> ApiResult<String> {
    match serde_json::to_value(v).map_err(ApiError::internal)? {
        Value::String(s) => Ok(s),
        other => Err(ApiError::internal(format!("not a label: {other}"))),
    }
}

/// A core enum back from its text column.
pub fn parse_label<T: DeserializeOwned>(s: String) -> ApiResult<T> {
    serde_json::from_value(Value::String(s)).map_err(ApiError::internal)
}

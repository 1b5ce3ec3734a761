//! The right to erasure (issue 7): an owner deletes the shop, a user deletes their account.
//!
//! - `POST /api/v1/shop/delete {password, shop_name}` (owner): every row of the shop in
//!   every table (the known tables in dependency order, then any other table with a
//!   `shop_id` column, found in `information_schema`), its sessions and invites, the shop
//!   row itself, and every object under `shops/<id>/` in the file store (all versions).
//!   The rows go in one transaction that also records the store prefix in `storage_purge`;
//!   the objects are deleted right after it commits, and a prefix left over by a failure is
//!   retried when the server starts ([`purge_pending`]). Members' accounts stay (they may
//!   belong to other shops); each can delete their own.
//! - `POST /api/v1/account/delete {password, email?, delete_owned_shops?}`: signed in with a
//!   bearer token, or (for an account that no longer belongs to any shop, so cannot get a
//!   token) with `email`; the password is asked again either way, and failures count
//!   against the sign-in limits. An owner must pass `delete_owned_shops: true` (each owned
//!   shop is erased as above) or is refused with 409. The account row, its memberships,
//!   sessions (refresh tokens), devices and invites go; the records the shops keep for their
//!   books (sales, ledger entries, print jobs, files, the op log) stay but lose the link to
//!   the person: every column that references the account is set to null
//!   ([`anonymise_user_references`]), and audit entries are anonymised
//!   ([`anonymise_audit_for_user`]).
//!
//! Access tokens already issued stay valid until they expire (15 minutes), but every write
//! that names the deleted user or shop fails its foreign key, and reads find nothing of an
//! erased shop.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum_extra::extract::cookie::{Cookie, CookieJar};
use printstall_core::domain::member::{self, Action};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::api::common::{ApiJson, ApiResult, db, require};
use crate::api::{ApiState, Routes};
use crate::auth::{AuthFail, AuthUser, REFRESH_COOKIE, tokens};
use crate::error::ApiError;
use crate::storage::{ObjectKey, Storage};
use crate::tenancy;

pub fn routes(r: Routes) -> Routes {
    r.route("/shop/delete", &[Method::POST], post(delete_shop))
        .route("/account/delete", &[Method::POST], post(delete_account))
}

#[derive(Debug, thiserror::Error)]
pub enum EraseError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("file store: {0}")]
    Storage(#[from] crate::storage::StorageError),
}

impl From<EraseError> for ApiError {
    fn from(e: EraseError) -> Self {
        match e {
            EraseError::Db(e) => db(e),
            EraseError::Storage(e) => ApiError::internal(e),
        }
    }
}

/// What an erasure removed.
#[derive(Debug, Default, Serialize)]
pub struct Erased {
    /// Rows deleted, shop and account tables together.
    pub rows: u64,
    /// Objects deleted from the file store.
    pub objects: u64,
    /// Shops erased.
    pub shops: Vec<Uuid>,
    /// Rows whose reference to the deleted account was set to null.
    pub anonymised: u64,
    /// The account was deleted.
    pub account_deleted: bool,
    /// Whether some objects could not be deleted yet (retried at the next start).
    pub files_pending: bool,
}

/// The shop tables in an order that satisfies their foreign keys. Tables not named here
/// (added later) are swept after these by [`sweep_other_tables`].
const SHOP_TABLES: &[&str] = &[
    "stock_entry",
    "sale_line",
    "spool_usage",
    "event_stock_plan",
    "variant_filament",
    "file_upload",
    "sale",
    "print_job",
    "product",
    "printer",
    "spool",
    "sliced_file",
    "model_variant",
    "model",
    "filament",
    "market_event",
    "applied_op",
    "sync_cell",
    "device",
    "shop_sync",
    "invite",
    "refresh_token",
    "membership",
];

fn quoted(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// Deletes every row of `shop_id` and the shop itself in one transaction on the owner
/// connection, then the shop's files. `tenancy` is set so forced row-level security lets
/// the owner connection see the shop's rows even when it is not a superuser.
pub async fn erase_shop(
    owner: &PgPool,
    storage: &Storage,
    shop_id: Uuid,
    user_id: Uuid,
) -> Result<Erased, EraseError> {
    let mut erased = Erased::default();
    let mut tx = crate::db::begin(owner).await?;
    tenancy::set_tenant(&mut tx, Some(shop_id), Some(user_id)).await?;
    // The shop's row first: concurrent writers of the shop wait, then fail their keys.
    sqlx::query(r#"select id from shop where id = $1 for update"#)
        .bind(shop_id)
        .fetch_optional(&mut *tx)
        .await?;
    // References between rows of the shop that would block the deletes below.
    sqlx::query(r#"update model_variant set sliced_file_id = null where shop_id = $1"#)
        .bind(shop_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(r#"update printer set loaded_spool_id = null where shop_id = $1"#)
        .bind(shop_id)
        .execute(&mut *tx)
        .await?;
    delete_audit_of_shop(&mut tx, shop_id).await?;
    for table in SHOP_TABLES {
        let sql = format!("delete from {} where shop_id = $1", quoted(table));
        erased.rows += sqlx::query(&sql)
            .bind(shop_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }
    erased.rows += sweep_other_tables(&mut tx, shop_id).await?;
    erased.rows += sqlx::query(r#"delete from shop where id = $1"#)
        .bind(shop_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let prefix = ObjectKey::shop_prefix(shop_id);
    sqlx::query(r#"insert into storage_purge (prefix) values ($1) on conflict do nothing"#)
        .bind(prefix.as_str())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    erased.shops.push(shop_id);
    match purge(owner, storage, &prefix).await {
        Ok(n) => erased.objects = n,
        Err(e) => {
            tracing::error!(%prefix, error = %e, "the erased shop's files could not all be deleted yet; retried at the next start");
            erased.files_pending = true;
        }
    }
    tracing::info!(shop = %shop_id, rows = erased.rows, objects = erased.objects, "shop erased");
    Ok(erased)
}

/// Deletes the rows of tables this module does not name (added by later migrations) that
/// have a `shop_id` column. Their foreign keys may need some of them gone before others, so
/// it makes passes, each table in a savepoint, until a pass deletes nothing more.
async fn sweep_other_tables(tx: &mut PgConnection, shop_id: Uuid) -> Result<u64, sqlx::Error> {
    let tables: Vec<String> = sqlx::query_scalar(
        r#"select c.table_name::text from information_schema.columns c
           join information_schema.tables t
             on t.table_schema = c.table_schema and t.table_name = c.table_name
           where c.table_schema = current_schema() and c.column_name = 'shop_id'
             and t.table_type = 'BASE TABLE'
           order by 1"#,
    )
    .fetch_all(&mut *tx)
    .await?;
    let others: Vec<String> = tables
        .into_iter()
        .filter(|t| !SHOP_TABLES.contains(&t.as_str()))
        .collect();
    let mut total = 0;
    let mut last_error = None;
    for _pass in 0..=others.len() {
        let mut deleted = 0;
        last_error = None;
        for table in &others {
            sqlx::query("savepoint erase_sweep")
                .execute(&mut *tx)
                .await?;
            let sql = format!("delete from {} where shop_id = $1", quoted(table));
            match sqlx::query(&sql).bind(shop_id).execute(&mut *tx).await {
                Ok(done) => {
                    deleted += done.rows_affected();
                    sqlx::query("release savepoint erase_sweep")
                        .execute(&mut *tx)
                        .await?;
                }
                Err(e) => {
                    sqlx::query("rollback to savepoint erase_sweep")
                        .execute(&mut *tx)
                        .await?;
                    last_error = Some(e);
                }
            }
        }
        total += deleted;
        if last_error.is_none() || deleted == 0 {
            break;
        }
    }
    match last_error {
        Some(e) => Err(e),
        None => Ok(total),
    }
}

// ---------------------------------------------------------------------------------------
// The audit log (migration 0200) and erasure.
// - An erased shop's audit entries go with it. Its transaction turns the audit trigger off
//   first (`app.audit = off`, local to the transaction), so that deleting the shop's rows
//   does not write fresh entries about them.
// - Entries a shop keeps for its books lose the person: their user, session and device
//   columns are nulled, and the person's id is replaced by the nil UUID wherever it appears
//   in the before/after values (`taken_by`, `user_id`, ...). This also runs with the trigger
//   off, so nulling references elsewhere does not log the id again.
// ---------------------------------------------------------------------------------------

/// Turns the audit trigger off for the rest of the transaction.
async fn audit_off(tx: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query(r#"select set_config('app.audit', 'off', true)"#)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Deletes the audit entries of an erased shop (see the note above).
async fn delete_audit_of_shop(tx: &mut PgConnection, shop_id: Uuid) -> Result<(), sqlx::Error> {
    audit_off(tx).await?;
    sqlx::query(r#"delete from audit_log where shop_id = $1"#)
        .bind(shop_id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Anonymises the audit entries of a deleted account that shops keep for their books (see
/// the note above). Runs before [`anonymise_user_references`], in the same transaction,
/// for the shop the transaction is set to.
pub async fn anonymise_audit_for_user(
    tx: &mut PgConnection,
    user_id: Uuid,
) -> Result<u64, sqlx::Error> {
    audit_off(tx).await?;
    let nil = Uuid::nil().to_string();
    let id = user_id.to_string();
    let rows = sqlx::query(
        r#"update audit_log
              set user_id = case when user_id = $1 then null else user_id end,
                  session_id = case when user_id = $1 then null else session_id end,
                  device_id = case when user_id = $1
                                     or device_id in (select id from device where user_id = $1)
                                   then null else device_id end,
                  entity_id = case when entity_id = $1 then null else entity_id end,
                  before = replace(before::text, $2, $3)::jsonb,
                  after = replace(after::text, $2, $3)::jsonb
            where user_id = $1
               or entity_id = $1
               or device_id in (select id from device where user_id = $1)
               or strpos(coalesce(before::text, '') || coalesce(after::text, ''), $2) > 0"#,
    )
    .bind(user_id)
    .bind(&id)
    .bind(&nil)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(rows)
}

/// Sets to null every column in any table that references `app_user (id)` without a
/// cascade, for `user_id` (found in `pg_constraint`, so columns added later are covered);
/// rows of such a column that cannot be null are deleted. Returns the rows changed.
pub async fn anonymise_user_references(
    tx: &mut PgConnection,
    user_id: Uuid,
) -> Result<u64, sqlx::Error> {
    // Invites the person made or redeemed: spent or pending codes, not books.
    let mut changed = sqlx::query(r#"delete from invite where created_by = $1 or used_by = $1"#)
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let references = sqlx::query(
        r#"select cl.relname::text as table_name, a.attname::text as column_name,
                  a.attnotnull as not_null
           from pg_constraint c
           join pg_class cl on cl.oid = c.conrelid
           join pg_namespace n on n.oid = cl.relnamespace
           join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
           where c.contype = 'f' and c.confrelid = 'app_user'::regclass
             and cardinality(c.conkey) = 1
             and c.confdeltype not in ('c', 'n')
             and n.nspname = current_schema()
           order by 1, 2"#,
    )
    .fetch_all(&mut *tx)
    .await?;
    for r in references {
        let table: String = r.get("table_name");
        let column: String = r.get("column_name");
        let not_null: bool = r.get("not_null");
        let sql = if not_null {
            format!(
                "delete from {} where {} = $1",
                quoted(&table),
                quoted(&column)
            )
        } else {
            format!(
                "update {} set {col} = null where {col} = $1",
                quoted(&table),
                col = quoted(&column)
            )
        };
        changed += sqlx::query(&sql)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }
    Ok(changed)
}

/// Deletes an account: its shops first when `delete_owned_shops` (else the caller refused),
/// then, in one transaction, anonymises what the remaining shops keep and deletes the
/// account row (memberships, sessions and devices follow by cascade).
pub async fn erase_user(
    owner: &PgPool,
    storage: &Storage,
    user_id: Uuid,
    owned_shops: &[Uuid],
) -> Result<Erased, EraseError> {
    let mut erased = Erased::default();
    for shop in owned_shops {
        let e = erase_shop(owner, storage, *shop, user_id).await?;
        erased.rows += e.rows;
        erased.objects += e.objects;
        erased.shops.extend(e.shops);
        erased.files_pending |= e.files_pending;
    }
    let mut tx = crate::db::begin(owner).await?;
    // The shops the person is still a member of: row-level security (forced) shows their
    // rows only with the shop set.
    tenancy::set_tenant(&mut tx, None, Some(user_id)).await?;
    let shops: Vec<Uuid> =
        sqlx::query_scalar(r#"select shop_id from membership where user_id = $1"#)
            .bind(user_id)
            .fetch_all(&mut *tx)
            .await?;
    for shop in shops.iter().map(Some).chain([None]) {
        tenancy::set_tenant(&mut tx, shop.copied(), Some(user_id)).await?;
        erased.anonymised += anonymise_audit_for_user(&mut tx, user_id).await?;
        erased.anonymised += anonymise_user_references(&mut tx, user_id).await?;
    }
    tenancy::set_tenant(&mut tx, None, Some(user_id)).await?;
    for table in ["refresh_token", "device", "membership"] {
        erased.rows += sqlx::query(&format!("delete from {table} where user_id = $1"))
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }
    erased.rows += sqlx::query(r#"delete from app_user where id = $1"#)
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    erased.account_deleted = true;
    tracing::info!(user = %user_id, shops = erased.shops.len(), "account erased");
    Ok(erased)
}

/// Deletes the objects under `prefix`, then its `storage_purge` row.
async fn purge(owner: &PgPool, storage: &Storage, prefix: &ObjectKey) -> Result<u64, EraseError> {
    let n = storage.delete_prefix(prefix).await?;
    sqlx::query(r#"delete from storage_purge where prefix = $1"#)
        .bind(prefix.as_str())
        .execute(owner)
        .await?;
    Ok(n)
}

/// Retries the file deletions that an erasure could not finish (run at start).
pub async fn purge_pending(owner: &PgPool, storage: &Storage) -> Result<u64, EraseError> {
    let prefixes: Vec<String> =
        sqlx::query_scalar(r#"select prefix from storage_purge order by requested_at"#)
            .fetch_all(owner)
            .await?;
    let mut total = 0;
    for raw in prefixes {
        let Ok(prefix) = ObjectKey::parse(&raw) else {
            continue;
        };
        total += purge(owner, storage, &prefix).await?;
    }
    Ok(total)
}

// ---------------------------------------------------------------------------------------
// HTTP

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteShopIn {
    /// The owner's password, asked again.
    pub password: String,
    /// The shop's name, typed as a confirmation.
    pub shop_name: String,
}

async fn check_password(state: &ApiState, user_id: Uuid, password: &str) -> ApiResult<()> {
    let hash: Option<String> =
        sqlx::query_scalar(r#"select password_hash from app_user where id = $1"#)
            .bind(user_id)
            .fetch_optional(&state.owner)
            .await
            .map_err(db)?;
    let Some(hash) = hash else {
        return Err(ApiError::Unauthorized);
    };
    if tokens::verify_password(password.to_owned(), hash).await {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "the password is wrong; type it again".into(),
        ))
    }
}

fn removal_cookie() -> Cookie<'static> {
    let mut c = Cookie::build((REFRESH_COOKIE, ""))
        .http_only(true)
        .secure(true)
        .path("/api/v1/auth")
        .build();
    c.make_removal();
    c
}

async fn delete_shop(
    State(state): State<ApiState>,
    auth: AuthUser,
    jar: CookieJar,
    ApiJson(input): ApiJson<DeleteShopIn>,
) -> ApiResult<Response> {
    require(&auth, Action::ManageShop)?;
    check_password(&state, auth.user_id, &input.password).await?;
    let mut tx = state.tx(&auth).await?;
    let name: Option<String> = sqlx::query_scalar(r#"select name from shop where id = $1"#)
        .bind(auth.shop_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
    tx.commit().await.map_err(db)?;
    let Some(name) = name else {
        return Err(ApiError::NotFound("shop".into()));
    };
    if name.trim().to_lowercase() != input.shop_name.trim().to_lowercase() {
        return Err(ApiError::Unprocessable {
            message: "shop_name: type the shop's name exactly to confirm that everything of it is deleted".into(),
            field: Some("shop_name".into()),
        });
    }
    let erased = erase_shop(&state.owner, &state.storage, auth.shop_id, auth.user_id).await?;
    Ok((jar.add(removal_cookie()), axum::Json(erased)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccountIn {
    pub password: String,
    /// Needed when not signed in (an account left without a shop has no token).
    #[serde(default)]
    pub email: Option<String>,
    /// Erase the shops this account owns too (otherwise an owner is refused with 409).
    #[serde(default)]
    pub delete_owned_shops: bool,
}

fn client_address(request: &Request) -> String {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

async fn delete_account(
    State(state): State<ApiState>,
    jar: CookieJar,
    request: Request,
) -> Result<Response, AuthFail> {
    let address = client_address(&request);
    let (mut parts, body) = request.into_parts();
    let signed_in = if parts.headers.contains_key(header::AUTHORIZATION) {
        Some(AuthUser::from_request_parts(&mut parts, &state).await?)
    } else {
        None
    };
    let request = Request::from_parts(parts, body);
    let ApiJson(input) =
        <ApiJson<DeleteAccountIn> as axum::extract::FromRequest<ApiState>>::from_request(
            request, &state,
        )
        .await?;
    let (user_id, account) = match (signed_in, input.email.as_deref()) {
        (Some(user), _) => (user.user_id, format!("user:{}", user.user_id)),
        (None, Some(email)) => {
            let email = member::normalize_email(email);
            state
                .limiter
                .check(&email, &address)
                .map_err(AuthFail::TooMany)?;
            let id: Option<Uuid> =
                sqlx::query_scalar(r#"select id from app_user where lower(email) = $1"#)
                    .bind(&email)
                    .fetch_optional(&state.owner)
                    .await
                    .map_err(db)?;
            let Some(id) = id else {
                state.limiter.record_failure(&email, &address);
                return Err(ApiError::Unauthorized.into());
            };
            (id, email)
        }
        (None, None) => {
            return Err(ApiError::Unprocessable {
                message: "email: sign in first, or send the account's email with its password"
                    .into(),
                field: Some("email".into()),
            }
            .into());
        }
    };
    state
        .limiter
        .check(&account, &address)
        .map_err(AuthFail::TooMany)?;
    if let Err(e) = check_password(&state, user_id, &input.password).await {
        state.limiter.record_failure(&account, &address);
        return Err(e.into());
    }
    let owned: Vec<Uuid> = {
        let mut tx = crate::db::begin(&state.owner).await.map_err(db)?;
        tenancy::set_tenant(&mut tx, None, Some(user_id))
            .await
            .map_err(db)?;
        let owned = sqlx::query_scalar(
            r#"select shop_id from membership where user_id = $1 and role = 'owner' order by shop_id"#,
        )
        .bind(user_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        owned
    };
    if !owned.is_empty() && !input.delete_owned_shops {
        return Err(ApiError::Conflict(format!(
            "this account owns {} shop(s) ({}); export what you need, then send delete_owned_shops: true to erase them with the account",
            owned.len(),
            owned
                .iter()
                .map(Uuid::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .into());
    }
    let erased = erase_user(&state.owner, &state.storage, user_id, &owned)
        .await
        .map_err(ApiError::from)?;
    Ok((jar.add(removal_cookie()), axum::Json(erased)).into_response())
}

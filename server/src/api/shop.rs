//! The signed-in member's shop.
//!
//! Its business details (legal name, tax id, legal address, payment notes) are sealed in
//! the application before they are stored (`crate::crypto`); they are set with
//! `PUT /shop/business` (owner) and read back opened. Payment notes are shown to owners only.
//!
//! `PATCH /shop` (owner) changes the settings through the same path as the app's Settings
//! screen: an `entity.set.v1` op on the shop, applied by the sync code, so devices pull the
//! change; business details in it are sealed into their columns (never into an op).
//!
//! Members: `PATCH /shop/members/{user_id}` changes a member's role and `DELETE` removes
//! them (owner); the shop always keeps an owner. A member who loses a role or the shop
//! loses their sessions of the shop at once.

use axum::extract::State;
use axum::http::Method;
use axum::routing::{get, put};
use printstall_core::domain::member::{Action, Role};
use printstall_core::domain::shop::BusinessDetails;
use printstall_core::domain::validation::{self as v, max_len};
use printstall_core::sync::op::{EntitySet, validate_fields};
use printstall_core::sync::{EntityKind, OpBody};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use super::common::{ApiJson, ApiPath, ApiResult, Tx, db, invalid, invalid_field, require};
use super::{ApiState, Routes};
use crate::auth::AuthUser;
use crate::crypto::{KeyRing, shop_context};
use crate::error::ApiError;

pub fn routes(r: Routes) -> Routes {
    r.route(
        "/shop",
        &[Method::GET, Method::PATCH],
        get(read).patch(change),
    )
    .route("/shop/members", &[Method::GET], get(members))
    .route("/shop/business", &[Method::PUT], put(set_business))
    .route(
        "/shop/members/{user_id}",
        &[Method::PATCH, Method::DELETE],
        axum::routing::patch(change_member).delete(remove_member),
    )
}

#[derive(Debug, Serialize)]
pub struct ShopOut {
    pub id: Uuid,
    pub name: String,
    pub currency: String,
    pub time_zone: String,
    pub tax_rate_bp: i32,
    pub prices_include_tax: bool,
    /// The signed-in member's role here.
    pub role: Role,
    /// Legal details for receipts and exports (stored encrypted).
    pub business: BusinessOut,
}

#[derive(Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct BusinessOut {
    pub legal_name: Option<String>,
    pub tax_id: Option<String>,
    pub address: Option<String>,
    /// Owners only (absent for sellers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_notes: Option<String>,
}

/// `PUT /shop/business`: every field; absent or `null` clears it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessIn {
    #[serde(default)]
    pub legal_name: Option<String>,
    #[serde(default)]
    pub tax_id: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    /// Bank details, payment terms and the like.
    #[serde(default)]
    pub payment_notes: Option<String>,
}

const SHOP_COLUMNS: &str = "id, name, currency, time_zone, tax_rate_bp, prices_include_tax, \
    legal_name, tax_id, address, payment_notes";

/// Opens the sealed business columns of a `shop` row.
pub fn open_business(ring: &KeyRing, shop_id: Uuid, r: &PgRow) -> ApiResult<BusinessOut> {
    let open = |column: &str| -> ApiResult<Option<String>> {
        let stored: Option<String> = r.try_get(column).map_err(ApiError::internal)?;
        stored
            .map(|s| ring.open_stored(&s, &shop_context(shop_id, column)))
            .transpose()
            .map_err(ApiError::internal)
    };
    Ok(BusinessOut {
        legal_name: open("legal_name")?,
        tax_id: open("tax_id")?,
        address: open("address")?,
        payment_notes: open("payment_notes")?,
    })
}

fn shop_out(ring: &KeyRing, auth: &AuthUser, r: &PgRow) -> ApiResult<ShopOut> {
    let id: Uuid = r.get("id");
    let mut business = open_business(ring, id, r)?;
    if auth.role != Role::Owner {
        business.payment_notes = None;
    }
    Ok(ShopOut {
        id,
        name: r.get("name"),
        currency: r.get("currency"),
        time_zone: r.get("time_zone"),
        tax_rate_bp: r.get("tax_rate_bp"),
        prices_include_tax: r.get("prices_include_tax"),
        role: auth.role,
        business,
    })
}

async fn read(State(state): State<ApiState>, auth: AuthUser) -> ApiResult<ApiJson<ShopOut>> {
    require(&auth, Action::LookUp)?;
    let mut tx = state.tx(&auth).await?;
    let r = sqlx::query(&format!("select {SHOP_COLUMNS} from shop where id = $1"))
        .bind(auth.shop_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?
        .ok_or_else(|| ApiError::NotFound("shop".into()))?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(shop_out(&state.crypto, &auth, &r)?))
}

fn blank_is_none(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

async fn set_business(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiJson(input): ApiJson<BusinessIn>,
) -> ApiResult<ApiJson<ShopOut>> {
    require(&auth, Action::ManageShop)?;
    let mut tx = state.tx(&auth).await?;
    let r = write_business(&state, &auth, &mut tx, input).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(shop_out(&state.crypto, &auth, &r)?))
}

/// Checks, seals and stores every business detail of `input` (absent or blank: cleared);
/// answers the shop's row.
async fn write_business(
    state: &ApiState,
    auth: &AuthUser,
    tx: &mut Tx,
    input: BusinessIn,
) -> ApiResult<PgRow> {
    let details = BusinessDetails {
        legal_name: blank_is_none(input.legal_name),
        tax_id: blank_is_none(input.tax_id),
        address: blank_is_none(input.address),
    };
    details.validate().map_err(invalid)?;
    let payment_notes = blank_is_none(input.payment_notes);
    v::notes(
        "business.payment_notes",
        payment_notes.as_deref(),
        max_len::NOTES,
    )
    .map_err(invalid)?;
    let seal = |column: &str, value: &Option<String>| {
        value
            .as_deref()
            .map(|p| state.crypto.seal(p, &shop_context(auth.shop_id, column)))
    };
    sqlx::query(&format!(
        "update shop set legal_name = $2, tax_id = $3, address = $4, payment_notes = $5, \
         updated_at = now() where id = $1 returning {SHOP_COLUMNS}"
    ))
    .bind(auth.shop_id)
    .bind(seal("legal_name", &details.legal_name))
    .bind(seal("tax_id", &details.tax_id))
    .bind(seal("address", &details.address))
    .bind(seal("payment_notes", &payment_notes))
    .fetch_optional(&mut **tx)
    .await
    .map_err(db)?
    .ok_or_else(|| ApiError::NotFound("shop".into()))
}

/// `PATCH /shop` (owner): a JSON merge patch of `name`, `currency`, `time_zone`,
/// `tax_rate_bp`, `prices_include_tax`, `machine_cost_per_hour` (kept in the synced
/// settings only) and `business` (`legal_name`, `tax_id`, `address`, `payment_notes`; each
/// one given replaces it, `null` clears it). The settings are one `entity.set.v1` op on the
/// shop, checked and applied by core's rules as a device's would be, so devices pull them;
/// the business details are sealed into their columns. One transaction: a refusal changes
/// nothing.
async fn change(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiJson(patch): ApiJson<Value>,
) -> ApiResult<ApiJson<ShopOut>> {
    require(&auth, Action::ManageShop)?;
    let Value::Object(mut fields) = patch else {
        return Err(ApiError::Unprocessable {
            message: "send a JSON object with the settings to change".into(),
            field: None,
        });
    };
    let business = fields.remove("business");
    if fields.contains_key("payment_notes") {
        return Err(invalid_field(
            "payment_notes",
            "belongs in business: {\"business\": {\"payment_notes\": …}}",
        ));
    }
    // None: unchanged; Some(None): all cleared; Some(Some(m)): the fields of m replaced.
    let business: Option<Option<Map<String, Value>>> = match business {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::Object(m)) => Some(Some(m)),
        Some(_) => {
            return Err(invalid_field(
                "business",
                "send an object of legal_name, tax_id, address and payment_notes, or null",
            ));
        }
    };
    if fields.is_empty() && business.is_none() {
        return Err(invalid_field("body", "is empty; send at least one setting"));
    }
    if !fields.is_empty() {
        validate_fields(EntityKind::Shop, &fields).map_err(invalid)?;
    }
    let mut tx = state.tx(&auth).await?;
    if let Some(Value::String(tz)) = fields.get("time_zone") {
        ensure_known_time_zone(&mut tx, "time_zone", tz).await?;
    }
    crate::sync::push::lock_shop(&mut tx, auth.shop_id).await?;
    if let Some(given) = business {
        let input = match given {
            None => BusinessIn::default(),
            Some(given) => {
                let current =
                    sqlx::query(&format!("select {SHOP_COLUMNS} from shop where id = $1"))
                        .bind(auth.shop_id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db)?
                        .ok_or_else(|| ApiError::NotFound("shop".into()))?;
                let now = open_business(&state.crypto, auth.shop_id, &current)?;
                let mut merged = match serde_json::to_value(&now).map_err(ApiError::internal)? {
                    Value::Object(m) => m,
                    _ => Map::new(),
                };
                for (k, v) in given {
                    if !matches!(v, Value::Null | Value::String(_)) {
                        return Err(invalid_field(
                            &format!("business.{k}"),
                            "must be text or null",
                        ));
                    }
                    merged.insert(k, v);
                }
                serde_json::from_value(Value::Object(merged))
                    .map_err(|e| invalid_field("business", e.to_string()))?
            }
        };
        write_business(&state, &auth, &mut tx, input).await?;
    }
    if !fields.is_empty() {
        let body = OpBody::EntitySet(EntitySet {
            entity: EntityKind::Shop,
            id: auth.shop_id,
            fields,
        });
        crate::sync::rest::apply(&mut tx, &auth, body, true).await?;
    }
    let r = sqlx::query(&format!("select {SHOP_COLUMNS} from shop where id = $1"))
        .bind(auth.shop_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?
        .ok_or_else(|| ApiError::NotFound("shop".into()))?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(shop_out(&state.crypto, &auth, &r)?))
}

#[derive(Debug, Serialize)]
pub struct MemberOut {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// When they joined.
    #[serde(with = "time::serde::rfc3339")]
    pub joined_at: time::OffsetDateTime,
}

#[derive(Debug, Serialize)]
pub struct MembersOut {
    /// Owner first, then by when they joined.
    pub members: Vec<MemberOut>,
}

/// `GET /shop/members`: who works in this shop (the Settings screen lists them). A stall
/// has a handful of members, so this is one list, not pages.
async fn members(State(state): State<ApiState>, auth: AuthUser) -> ApiResult<ApiJson<MembersOut>> {
    require(&auth, Action::LookUp)?;
    let mut tx = state.tx(&auth).await?;
    let rows = sqlx::query(
        r#"select u.id, u.email, u.display_name, m.role, m.created_at
           from membership m join app_user u on u.id = m.user_id
           where m.shop_id = $1
           order by m.role = 'owner' desc, m.created_at, u.id
           limit 1000"#,
    )
    .bind(auth.shop_id)
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(MembersOut {
        members: rows.iter().map(member_from_row).collect(),
    }))
}

/// A member's row (`id`, `email`, `display_name`, `role`, `created_at`) as the API shows it.
fn member_from_row(r: &PgRow) -> MemberOut {
    let role: String = r.get("role");
    MemberOut {
        user_id: r.get("id"),
        email: r.get("email"),
        display_name: r.get("display_name"),
        role: if role == "owner" {
            Role::Owner
        } else {
            Role::Seller
        },
        joined_at: r.get("created_at"),
    }
}

/// `PATCH /shop/members/{user_id}`: the new role.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberChange {
    pub role: Role,
}

fn role_label(role: Role) -> &'static str {
    match role {
        Role::Owner => "owner",
        Role::Seller => "seller",
    }
}

/// Locks the shop's memberships (so two owners changing roles at once queue, and the shop
/// cannot lose its last owner between the check and the change) and answers the role of
/// `user_id` and the number of owners. 404 when `user_id` is no member of this shop.
async fn lock_members(tx: &mut Tx, shop_id: Uuid, user_id: Uuid) -> ApiResult<(Role, usize)> {
    let rows: Vec<(Uuid, String)> = sqlx::query_as(
        r#"select user_id, role from membership where shop_id = $1 order by user_id for update"#,
    )
    .bind(shop_id)
    .fetch_all(&mut **tx)
    .await
    .map_err(db)?;
    let owners = rows.iter().filter(|(_, r)| r == "owner").count();
    let role = rows
        .iter()
        .find(|(u, _)| *u == user_id)
        .map(|(_, r)| {
            if r == "owner" {
                Role::Owner
            } else {
                Role::Seller
            }
        })
        .ok_or_else(|| ApiError::NotFound("member".into()))?;
    Ok((role, owners))
}

/// Ends every session `user_id` has in `shop_id` (their refresh tokens, and through the
/// `sid` claim their access tokens, at once). Refresh tokens are the owner connection's.
async fn end_sessions_in_shop(state: &ApiState, shop_id: Uuid, user_id: Uuid) -> ApiResult<u64> {
    let mut owner_tx = crate::db::begin(&state.owner).await.map_err(db)?;
    crate::tenancy::set_tenant(&mut owner_tx, Some(shop_id), Some(user_id))
        .await
        .map_err(db)?;
    let ended = sqlx::query(
        r#"update refresh_token set revoked_at = now()
           where shop_id = $1 and user_id = $2 and revoked_at is null"#,
    )
    .bind(shop_id)
    .bind(user_id)
    .execute(&mut *owner_tx)
    .await
    .map_err(db)?
    .rows_affected();
    owner_tx.commit().await.map_err(db)?;
    Ok(ended)
}

const LAST_OWNER: &str = "this is the shop's only owner; make another member owner first";

async fn member_out(tx: &mut Tx, shop_id: Uuid, user_id: Uuid) -> ApiResult<MemberOut> {
    let r = sqlx::query(
        r#"select u.id, u.email, u.display_name, m.role, m.created_at
           from membership m join app_user u on u.id = m.user_id
           where m.shop_id = $1 and m.user_id = $2"#,
    )
    .bind(shop_id)
    .bind(user_id)
    .fetch_optional(&mut **tx)
    .await
    .map_err(db)?
    .ok_or_else(|| ApiError::NotFound("member".into()))?;
    Ok(member_from_row(&r))
}

/// `PATCH /shop/members/{user_id}` (owner): `{"role": "owner" | "seller"}`. The only owner
/// cannot become a seller (409). A member who becomes a seller loses their sessions of this
/// shop at once (their access tokens carry the old role); a new owner's role applies from
/// their next sign-in or refresh.
async fn change_member(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(user_id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<MemberChange>,
) -> ApiResult<ApiJson<MemberOut>> {
    require(&auth, Action::ManageMembers)?;
    let mut tx = state.tx(&auth).await?;
    let (role, owners) = lock_members(&mut tx, auth.shop_id, user_id).await?;
    if role == input.role {
        let out = member_out(&mut tx, auth.shop_id, user_id).await?;
        tx.commit().await.map_err(db)?;
        return Ok(ApiJson(out));
    }
    if role == Role::Owner && owners <= 1 {
        return Err(ApiError::Conflict(LAST_OWNER.into()));
    }
    sqlx::query(r#"update membership set role = $3 where shop_id = $1 and user_id = $2"#)
        .bind(auth.shop_id)
        .bind(user_id)
        .bind(role_label(input.role))
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    let out = member_out(&mut tx, auth.shop_id, user_id).await?;
    if role == Role::Owner {
        end_sessions_in_shop(&state, auth.shop_id, user_id).await?;
    }
    tx.commit().await.map_err(db)?;
    tracing::info!(member = %user_id, role = role_label(input.role), "member's role changed");
    Ok(ApiJson(out))
}

/// `DELETE /shop/members/{user_id}` (owner): the member leaves the shop (204); their
/// sessions of the shop end at once. The only owner cannot be removed (409). What they
/// recorded stays, under their id.
async fn remove_member(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(user_id): ApiPath<Uuid>,
) -> ApiResult<axum::http::StatusCode> {
    require(&auth, Action::ManageMembers)?;
    let mut tx = state.tx(&auth).await?;
    let (role, owners) = lock_members(&mut tx, auth.shop_id, user_id).await?;
    if role == Role::Owner && owners <= 1 {
        return Err(ApiError::Conflict(LAST_OWNER.into()));
    }
    sqlx::query(r#"delete from membership where shop_id = $1 and user_id = $2"#)
        .bind(auth.shop_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    end_sessions_in_shop(&state, auth.shop_id, user_id).await?;
    tx.commit().await.map_err(db)?;
    tracing::info!(member = %user_id, "member removed from the shop");
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// 422 unless PostgreSQL knows the time zone `tz`. Core checks a zone's shape only (it runs
/// in the browser too); the reports convert times with PostgreSQL, which must know the zone.
pub async fn ensure_known_time_zone(tx: &mut Tx, field: &str, tz: &str) -> ApiResult<()> {
    let known: bool =
        sqlx::query_scalar(r#"select exists (select from pg_timezone_names where name = $1)"#)
            .bind(tz)
            .fetch_one(&mut **tx)
            .await
            .map_err(db)?;
    if known {
        Ok(())
    } else {
        Err(invalid_field(
            field,
            format!(
                "`{tz}` is not a time zone name; pick one like Europe/Berlin or America/New_York"
            ),
        ))
    }
}

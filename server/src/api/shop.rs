//! The signed-in member's shop.
//!
//! Its business details (legal name, tax id, legal address, payment notes) are sealed in
//! the application before they are stored (`crate::crypto`); they are set with
//! `PUT /shop/business` (owner) and read back opened. Payment notes are shown to owners only.

use axum::extract::State;
use axum::http::Method;
use axum::routing::{get, put};
use printstall_core::domain::member::{Action, Role};
use printstall_core::domain::shop::BusinessDetails;
use printstall_core::domain::validation::{self as v, max_len};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use super::common::{ApiJson, ApiResult, db, invalid, require};
use super::{ApiState, Routes};
use crate::auth::AuthUser;
use crate::crypto::{KeyRing, shop_context};
use crate::error::ApiError;

pub fn routes(r: Routes) -> Routes {
    r.route("/shop", &[Method::GET], get(read))
        .route("/shop/members", &[Method::GET], get(members))
        .route("/shop/business", &[Method::PUT], put(set_business))
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
#[derive(Debug, Deserialize)]
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
    let mut tx = state.tx(&auth).await?;
    let r = sqlx::query(&format!(
        "update shop set legal_name = $2, tax_id = $3, address = $4, payment_notes = $5, \
         updated_at = now() where id = $1 returning {SHOP_COLUMNS}"
    ))
    .bind(auth.shop_id)
    .bind(seal("legal_name", &details.legal_name))
    .bind(seal("tax_id", &details.tax_id))
    .bind(seal("address", &details.address))
    .bind(seal("payment_notes", &payment_notes))
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
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        let role: String = r.get("role");
        items.push(MemberOut {
            user_id: r.get("id"),
            email: r.get("email"),
            display_name: r.get("display_name"),
            role: if role == "owner" {
                Role::Owner
            } else {
                Role::Seller
            },
            joined_at: r.get("created_at"),
        });
    }
    Ok(ApiJson(MembersOut { members: items }))
}

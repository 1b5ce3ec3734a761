//! The signed-in member's shop.

use axum::extract::State;
use axum::http::Method;
use axum::routing::get;
use printstall_core::domain::member::{Action, Role};
use serde::Serialize;
use sqlx::Row;
use uuid::Uuid;

use super::common::{ApiJson, ApiResult, db, require};
use super::{ApiState, Routes};
use crate::auth::AuthUser;

pub fn routes(r: Routes) -> Routes {
    r.route("/shop", &[Method::GET], get(read))
        .route("/shop/members", &[Method::GET], get(members))
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
}

async fn read(State(state): State<ApiState>, auth: AuthUser) -> ApiResult<ApiJson<ShopOut>> {
    require(&auth, Action::LookUp)?;
    let mut tx = state.tx(&auth).await?;
    let r = sqlx::query(
        r#"select id, name, currency, time_zone, tax_rate_bp, prices_include_tax from shop where id = $1"#,
    )
    .bind(auth.shop_id)
    .fetch_one(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(ShopOut {
        id: r.get("id"),
        name: r.get("name"),
        currency: r.get("currency"),
        time_zone: r.get("time_zone"),
        tax_rate_bp: r.get("tax_rate_bp"),
        prices_include_tax: r.get("prices_include_tax"),
        role: auth.role,
    }))
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

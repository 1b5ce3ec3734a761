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

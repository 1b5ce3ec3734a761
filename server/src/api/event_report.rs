//! `GET /events/{id}/report`: a market event's sales report by core's rules
//! ([`printstall_core::domain::event_report`]), from the server's own tables: the sales
//! taken for the event (by event id, whatever their day) and the sales taken for no event
//! on its days in the shop's time zone; voided sales are left out. Cost of goods uses the
//! unit cost entered on each product (the app also derives one from sliced grams).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::Method;
use axum::routing::get;
use printstall_core::domain::event_report::{EventReport, event_report};
use printstall_core::domain::member::Action;
use printstall_core::domain::sale::{Discount, NewSale, SaleLine};
use printstall_core::domain::{MarketEventId, ProductId, SaleId};
use printstall_core::money::Minor;
use serde::Serialize;
use sqlx::Row;
use uuid::Uuid;

use super::common::{ApiJson, ApiPath, ApiResult, db, require};
use super::sales::parse_method;
use super::{ApiState, Routes};
use crate::auth::AuthUser;
use crate::error::ApiError;

pub fn routes(r: Routes) -> Routes {
    r.route("/events/{id}/report", &[Method::GET], get(report))
}

#[derive(Debug, Serialize)]
pub struct EventReportOut {
    pub event_id: MarketEventId,
    /// Of the sales counted, those taken for this event by id (the rest were taken for no
    /// event on one of its days).
    pub sales_for_event: usize,
    #[serde(flatten)]
    pub report: EventReport,
}

async fn report(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<ApiJson<EventReportOut>> {
    require(&auth, Action::LookUp)?;
    let mut tx = state.tx(&auth).await?;
    let event = sqlx::query(
        r#"select e.starts_on, e.ends_on, e.booth_fee, s.time_zone
           from market_event e join shop s on s.id = e.shop_id where e.id = $1"#,
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?
    .ok_or_else(|| ApiError::NotFound("market event".into()))?;
    let starts_on: time::Date = event.get("starts_on");
    let ends_on: time::Date = event.get("ends_on");
    let time_zone: String = event.get("time_zone");
    let sales = sqlx::query(
        r#"select id, event_id, discount_type, discount_value, payment_method, tax_rate_bp,
                  prices_include_tax, taken_at
           from sale
           where not voided
             and (event_id = $1
                  or (event_id is null
                      and (taken_at at time zone $4)::date between $2 and $3))
           order by id"#,
    )
    .bind(id)
    .bind(starts_on)
    .bind(ends_on)
    .bind(&time_zone)
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    let ids: Vec<Uuid> = sales.iter().map(|r| r.get("id")).collect();
    let mut lines: BTreeMap<Uuid, Vec<SaleLine>> = BTreeMap::new();
    for l in sqlx::query(
        r#"select sale_id, product_id, quantity, unit_price from sale_line
           where sale_id = any($1) order by sale_id, line_no"#,
    )
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?
    {
        lines.entry(l.get("sale_id")).or_default().push(SaleLine {
            product_id: ProductId(l.get("product_id")),
            quantity: u32::try_from(l.get::<i32, _>("quantity")).unwrap_or(0),
            unit_price: Minor(l.get("unit_price")),
        });
    }
    let plan: Vec<(ProductId, u32)> = sqlx::query(
        r#"select product_id, target from event_stock_plan where event_id = $1 order by product_id"#,
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?
    .iter()
    .map(|r| {
        (
            ProductId(r.get("product_id")),
            u32::try_from(r.get::<i32, _>("target")).unwrap_or(0),
        )
    })
    .collect();
    let costs: BTreeMap<Uuid, i64> =
        sqlx::query(r#"select id, unit_cost from product where unit_cost is not null"#)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?
            .iter()
            .map(|r| (r.get("id"), r.get("unit_cost")))
            .collect();
    tx.commit().await.map_err(db)?;

    let mut for_event = 0;
    let sales: Vec<NewSale> = sales
        .iter()
        .map(|r| {
            let event_id: Option<Uuid> = r.get("event_id");
            if event_id == Some(id) {
                for_event += 1;
            }
            let value: i64 = r.get("discount_value");
            NewSale {
                sale_id: SaleId(r.get("id")),
                event_id: event_id.map(MarketEventId),
                lines: lines.remove(&r.get::<Uuid, _>("id")).unwrap_or_default(),
                discount: match r.get::<String, _>("discount_type").as_str() {
                    "amount" => Discount::Amount {
                        amount: Minor(value),
                    },
                    "percent" => Discount::Percent {
                        bp: u32::try_from(value).unwrap_or(0),
                    },
                    _ => Discount::None,
                },
                payment_method: parse_method(r.get::<String, _>("payment_method").as_str()),
                tax_rate_bp: u32::try_from(r.get::<i32, _>("tax_rate_bp")).unwrap_or(0),
                prices_include_tax: r.get("prices_include_tax"),
                taken_at: r.get("taken_at"),
            }
        })
        .collect();
    let fee = event.get::<Option<i64>, _>("booth_fee").map(Minor);
    let report = event_report(&sales, &plan, |p| costs.get(&p.0).copied().map(Minor), fee);
    Ok(ApiJson(EventReportOut {
        event_id: MarketEventId(id),
        sales_for_event: for_event,
        report,
    }))
}

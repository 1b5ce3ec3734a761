//! Sales: record one (lines, totals by core's rule, stock goes down in the same
//! transaction), list (by event, time taken, payment method) and read them, and void one
//! (owner; its stock comes back as `returned` ledger rows). Recording and voiding are ops of
//! the member's server-side device, applied by the sync code, so devices pull them.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::routing::get;
use printstall_core::domain::member::Action;
use printstall_core::domain::sale::{Discount, NewSale, PaymentMethod, SaleLine, SaleTotals};
use printstall_core::domain::validation::{self as v, max_len};
use printstall_core::domain::{MarketEventId, ProductId, SaleId};
use printstall_core::money::Minor;
use printstall_core::sync::OpBody;
use printstall_core::sync::op::SaleVoid;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use time::OffsetDateTime;
use uuid::Uuid;

use super::common::{
    ApiJson, ApiPath, ApiQuery, ApiResult, ListQuery, Page, Tx, db, invalid, invalid_field, new_id,
    require,
};
use super::products::{apply_op, ensure_exists};
use super::{ApiState, Routes};
use crate::auth::AuthUser;
use crate::error::ApiError;

pub fn routes(r: Routes) -> Routes {
    r.route(
        "/sales",
        &[Method::GET, Method::POST],
        get(list).post(record),
    )
    .route("/sales/{id}", &[Method::GET], get(read))
    .route(
        "/sales/{id}/void",
        &[Method::POST],
        axum::routing::post(void),
    )
}

#[derive(Debug, Deserialize)]
pub struct RecordSaleIn {
    /// Made by the device, so that a retried request does not sell twice.
    #[serde(default)]
    pub id: Option<Uuid>,
    #[serde(default)]
    pub event_id: Option<MarketEventId>,
    pub lines: Vec<SaleLine>,
    #[serde(default)]
    pub discount: Discount,
    pub payment_method: PaymentMethod,
    /// When it was taken (default: now).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub taken_at: Option<OffsetDateTime>,
    /// Not used: a REST sale is recorded by the member's server-side device (kept so that
    /// older clients that send it are not refused).
    #[serde(default)]
    pub device_id: Option<Uuid>,
}

#[derive(Debug, Serialize)]
pub struct SaleOut {
    pub id: Uuid,
    pub event_id: Option<Uuid>,
    pub lines: Vec<SaleLine>,
    pub discount: Discount,
    pub payment_method: PaymentMethod,
    pub tax_rate_bp: u32,
    pub prices_include_tax: bool,
    pub totals: SaleTotals,
    #[serde(with = "time::serde::rfc3339")]
    pub taken_at: OffsetDateTime,
    pub taken_by: Option<Uuid>,
    pub device_id: Option<Uuid>,
    pub voided: bool,
}

pub(crate) fn parse_method(s: &str) -> PaymentMethod {
    match s {
        "cash" => PaymentMethod::Cash,
        "card" => PaymentMethod::Card,
        _ => PaymentMethod::Other,
    }
}

/// `POST /sales`: one transaction: the sale, its lines, and a `sold` ledger row per product,
/// applied as a `sale.record.v1` op by the server-side device of the member (its id is the
/// answer's `device_id`; a `device_id` in the request is not used).
/// Stock may go below zero (the sale happened); the product's level is then flagged.
async fn record(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiJson(input): ApiJson<RecordSaleIn>,
) -> ApiResult<(StatusCode, ApiJson<SaleOut>)> {
    require(&auth, Action::Sell)?;
    let mut tx = state.tx(&auth).await?;
    let shop = sqlx::query(r#"select tax_rate_bp, prices_include_tax from shop where id = $1"#)
        .bind(auth.shop_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
    let sale = NewSale {
        sale_id: SaleId(new_id(input.id)),
        event_id: input.event_id,
        lines: input.lines,
        discount: input.discount,
        payment_method: input.payment_method,
        tax_rate_bp: u32::try_from(shop.get::<i32, _>("tax_rate_bp")).unwrap_or(0),
        prices_include_tax: shop.get("prices_include_tax"),
        taken_at: input.taken_at.unwrap_or_else(OffsetDateTime::now_utc),
    };
    sale.validate().map_err(invalid)?;
    sale.totals().map_err(invalid)?;
    // Refusals the REST API has always answered, before the op: a sale id in use is 409,
    // an unknown (or another shop's) product or event 404.
    id_free(&mut tx, auth.shop_id, sale.sale_id.0).await?;
    let products: std::collections::BTreeSet<Uuid> =
        sale.lines.iter().map(|l| l.product_id.0).collect();
    for product in &products {
        ensure_exists(&mut tx, "product", "product", *product).await?;
    }
    if let Some(event) = sale.event_id {
        ensure_exists(&mut tx, "market_event", "market event", event.0).await?;
    }
    // The sale as a `sale.record.v1` op, with the code a push uses: the sale, its lines and
    // a `sold` ledger row per product are written by the op's projection, and devices pull
    // it. The shop's version lock queues concurrent sales (REST and pushes alike).
    apply_op(&mut tx, &auth, OpBody::SaleRecord(sale.clone()), true).await?;
    let out = fetch(&mut tx, sale.sale_id.0).await?;
    tx.commit().await.map_err(db)?;
    Ok((StatusCode::CREATED, ApiJson(out)))
}

/// 409 when a sale with `id` exists, in this shop or in another: the id's primary key is
/// tried with a placeholder row in a savepoint (unique keys see every shop's rows; row-level
/// security would hide another shop's from a lookup). Both answers are the same, so an id
/// never tells a shop that another shop has that sale.
async fn id_free(tx: &mut Tx, shop_id: Uuid, id: Uuid) -> ApiResult<()> {
    let mut probe = sqlx::Connection::begin(&mut **tx).await.map_err(db)?;
    let tried = sqlx::query(
        r#"insert into sale (id, shop_id, subtotal, discount, total, tax, payment_method,
                             tax_rate_bp, prices_include_tax, taken_at)
           values ($1, $2, 0, 0, 0, 0, 'cash', 0, true, now())"#,
    )
    .bind(id)
    .bind(shop_id)
    .execute(&mut *probe)
    .await;
    probe.rollback().await.map_err(db)?;
    match tried {
        Ok(_) => Ok(()),
        Err(e) => Err(db(e)),
    }
}

async fn fetch(tx: &mut Tx, id: Uuid) -> ApiResult<SaleOut> {
    let r = sqlx::query(
        r#"select id, event_id, discount_type, discount_value, subtotal, discount, total, tax,
                  payment_method, tax_rate_bp, prices_include_tax, taken_at, taken_by,
                  device_id, voided
           from sale where id = $1"#,
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
    .map_err(db)?
    .ok_or_else(|| ApiError::NotFound("sale".into()))?;
    let lines = sqlx::query(
        r#"select product_id, quantity, unit_price from sale_line where sale_id = $1 order by line_no"#,
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await
    .map_err(db)?
    .iter()
    .map(|l| SaleLine {
        product_id: ProductId(l.get("product_id")),
        quantity: u32::try_from(l.get::<i32, _>("quantity")).unwrap_or(0),
        unit_price: Minor(l.get("unit_price")),
    })
    .collect();
    Ok(sale_from_row(&r, lines))
}

fn sale_from_row(r: &sqlx::postgres::PgRow, lines: Vec<SaleLine>) -> SaleOut {
    let value: i64 = r.get("discount_value");
    let discount = match r.get::<String, _>("discount_type").as_str() {
        "amount" => Discount::Amount {
            amount: Minor(value),
        },
        "percent" => Discount::Percent {
            bp: u32::try_from(value).unwrap_or(0),
        },
        _ => Discount::None,
    };
    let total: i64 = r.get("total");
    let tax: i64 = r.get("tax");
    SaleOut {
        id: r.get("id"),
        event_id: r.get("event_id"),
        lines,
        discount,
        payment_method: parse_method(r.get::<String, _>("payment_method").as_str()),
        tax_rate_bp: u32::try_from(r.get::<i32, _>("tax_rate_bp")).unwrap_or(0),
        prices_include_tax: r.get("prices_include_tax"),
        totals: SaleTotals {
            subtotal: Minor(r.get("subtotal")),
            discount: Minor(r.get("discount")),
            total: Minor(total),
            tax: Minor(tax),
            net: Minor(total - tax),
        },
        taken_at: r.get("taken_at"),
        taken_by: r.get("taken_by"),
        device_id: r.get("device_id"),
        voided: r.get("voided"),
    }
}

async fn read(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<ApiJson<SaleOut>> {
    require(&auth, Action::LookUp)?;
    let mut tx = state.tx(&auth).await?;
    let out = fetch(&mut tx, id).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(out))
}

/// `GET /sales` filters, with the common cursor and limit.
#[derive(Debug, Deserialize, Default)]
pub struct SalesQuery {
    pub cursor: Option<String>,
    pub limit: Option<i64>,
    /// Sales taken for this market event.
    pub event_id: Option<Uuid>,
    /// Taken at or after this instant (RFC 3339).
    pub from: Option<String>,
    /// Taken before this instant (RFC 3339).
    pub to: Option<String>,
    /// `cash`, `card` or `other`.
    pub payment_method: Option<String>,
}

fn instant(field: &str, v: Option<&str>) -> ApiResult<Option<OffsetDateTime>> {
    v.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).map_err(|_| {
                invalid_field(field, "is not an RFC 3339 time, e.g. 2026-12-05T09:00:00Z")
            })
        })
        .transpose()
}

/// `GET /sales`: newest id last, by cursor; lines are left out (read one sale for them).
/// `?event_id=` (the sales taken for that event by id), `?from=&to=` (on `taken_at`: from
/// inclusive, to exclusive, RFC 3339), `?payment_method=cash|card|other`.
async fn list(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiQuery(sq): ApiQuery<SalesQuery>,
) -> ApiResult<ApiJson<Page<SaleOut>>> {
    require(&auth, Action::LookUp)?;
    let q = ListQuery {
        cursor: sq.cursor,
        limit: sq.limit,
        ..Default::default()
    };
    let limit = q.limit()?;
    let from = instant("from", sq.from.as_deref())?;
    let to = instant("to", sq.to.as_deref())?;
    if let (Some(f), Some(t)) = (from, to)
        && t < f
    {
        return Err(invalid_field("to", "is before from"));
    }
    let method = match sq.payment_method.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(m @ ("cash" | "card" | "other")) => Some(m.to_owned()),
        Some(_) => {
            return Err(invalid_field(
                "payment_method",
                "is not a payment method; use cash, card or other",
            ));
        }
    };
    let mut tx = state.tx(&auth).await?;
    let rows = sqlx::query(
        r#"select id, event_id, discount_type, discount_value, subtotal, discount, total, tax,
                  payment_method, tax_rate_bp, prices_include_tax, taken_at, taken_by,
                  device_id, voided
           from sale
           where ($1::uuid is null or id > $1)
             and ($3::uuid is null or event_id = $3)
             and ($4::timestamptz is null or taken_at >= $4)
             and ($5::timestamptz is null or taken_at < $5)
             and ($6::text is null or payment_method = $6)
           order by id limit $2"#,
    )
    .bind(q.after()?)
    .bind(limit + 1)
    .bind(sq.event_id)
    .bind(from)
    .bind(to)
    .bind(method)
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    let items = rows.iter().map(|r| sale_from_row(r, Vec::new())).collect();
    Ok(ApiJson(Page::from_rows(items, limit, |s| s.id)))
}

/// `POST /sales/{id}/void`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoidIn {
    /// Why (kept in the books).
    pub reason: String,
}

/// `POST /sales/{id}/void` (owner): the sale never happened: it stays, marked `voided`, and
/// each product's stock comes back as a `returned` ledger row, by core's rule, as a
/// `sale.void.v1` op (devices pull it). A sale already voided is 409 and changes nothing.
async fn void(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<VoidIn>,
) -> ApiResult<ApiJson<SaleOut>> {
    require(&auth, Action::VoidSale)?;
    let reason = input.reason.trim().to_owned();
    v::required_text("reason", &reason, max_len::NAME * 4).map_err(invalid)?;
    let mut tx = state.tx(&auth).await?;
    // The shop's version lock first: a concurrent void of the same sale waits, then sees it.
    crate::sync::push::lock_shop(&mut tx, auth.shop_id).await?;
    let before = fetch(&mut tx, id).await?;
    if before.voided {
        return Err(ApiError::Conflict("this sale is already voided".into()));
    }
    let body = OpBody::SaleVoid(SaleVoid {
        sale_id: SaleId(id),
        reason,
    });
    apply_op(&mut tx, &auth, body, true).await?;
    let out = fetch(&mut tx, id).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(out))
}

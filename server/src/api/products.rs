//! Products and their stock ledger: CRUD, list with search, adjust and count stock.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::routing::{get, post};
use printstall_core::domain::member::Action;
use printstall_core::domain::product::{self, Product, ProductPatch, StockLevel, StockReason};
use printstall_core::domain::{ProductId, VariantId};
use printstall_core::money::Minor;
use printstall_core::sync::op::{EntityTarget, StockAdjust, StockCount};
use printstall_core::sync::{EntityKind, OpBody};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;
use uuid::Uuid;

use super::common::{
    ApiJson, ApiPath, ApiQuery, ApiResult, ListQuery, Page, Tx, db, int, invalid, merge_patch,
    new_id, require,
};
use super::{ApiState, Routes};
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::sync::push::lock_shop;
use crate::sync::rest;

pub fn routes(r: Routes) -> Routes {
    r.route(
        "/products",
        &[Method::GET, Method::POST],
        get(list).post(create),
    )
    .route(
        "/products/{id}",
        &[Method::GET, Method::PATCH, Method::DELETE],
        get(read).patch(update).delete(archive),
    )
    .route("/products/{id}/adjust", &[Method::POST], post(adjust))
    .route("/products/{id}/count", &[Method::POST], post(count))
    .route("/products/{id}/ledger", &[Method::GET], get(ledger))
}

/// A product with its stock level and flags.
#[derive(Debug, Serialize)]
pub struct ProductOut {
    #[serde(flatten)]
    pub product: Product,
    pub stock: StockLevel,
    pub archived: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Input to create a product: the core type with an optional client-made id.
#[derive(Debug, Deserialize)]
pub struct NewProduct {
    #[serde(default)]
    pub id: Option<Uuid>,
    pub sku: String,
    pub name: String,
    #[serde(default)]
    pub variant_id: Option<VariantId>,
    pub price: Minor,
    #[serde(default)]
    pub unit_cost: Option<Minor>,
    #[serde(default)]
    pub barcode: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub low_stock_threshold: Option<u32>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

pub(crate) const COLUMNS: &str = "id, sku, name, variant_id, price, unit_cost, barcode, location, \
    low_stock_threshold, tags, active, on_hand, archived_at, updated_at";

pub(crate) fn from_row(r: &PgRow) -> ProductOut {
    let product = Product {
        id: ProductId(r.get("id")),
        sku: r.get("sku"),
        name: r.get("name"),
        variant_id: r.get::<Option<Uuid>, _>("variant_id").map(VariantId),
        price: Minor(r.get("price")),
        unit_cost: r.get::<Option<i64>, _>("unit_cost").map(Minor),
        barcode: r.get("barcode"),
        location: r.get("location"),
        low_stock_threshold: r
            .get::<Option<i32>, _>("low_stock_threshold")
            .and_then(|t| u32::try_from(t).ok()),
        tags: r.get("tags"),
        active: r.get("active"),
    };
    let on_hand: i64 = r.get("on_hand");
    ProductOut {
        stock: product.level(on_hand),
        product,
        archived: r.get::<Option<OffsetDateTime>, _>("archived_at").is_some(),
        updated_at: r.get("updated_at"),
    }
}

pub async fn fetch(tx: &mut Tx, id: Uuid) -> ApiResult<ProductOut> {
    let row = sqlx::query(&format!("select {COLUMNS} from product where id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db)?
        .ok_or_else(|| ApiError::NotFound("product".into()))?;
    Ok(from_row(&row))
}

async fn list(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<ApiJson<Page<ProductOut>>> {
    require(&auth, Action::LookUp)?;
    let limit = q.limit()?;
    let text = q.q.as_deref().map(str::trim);
    // A `q` of three characters or more has trigrams: the candidates come from
    // `product_search_trigram` by equality, which the shop policy lets use its index, and
    // ILIKE checks only them (migration 0520). A shorter `q` filters the shop's rows.
    let by_trigrams = text.is_some_and(|t| t.chars().count() >= 3);
    let sql = if by_trigrams {
        format!(
            r#"with hits as (
                   select product_id as id from product_search_trigram
                   where trigram = any(array(select search_trigrams(array[$3])))
                   group by product_id
                   having count(*) = (select count(*) from search_trigrams(array[$3]))
                   union
                   select id from product where barcode = $3
               )
               select {COLUMNS}
               from (select id from hits where $1::uuid is null or id > $1 order by id) h
               join product using (id)
               where (name ilike $2 or sku ilike $2 or barcode = $3)
                 and ($4 or archived_at is null)
               order by id
               limit $5"#
        )
    } else {
        format!(
            r#"select {COLUMNS} from product
               where ($1::uuid is null or id > $1)
                 and ($2::text is null or name ilike $2 or sku ilike $2 or barcode = $3)
                 and ($4 or archived_at is null)
               order by id
               limit $5"#
        )
    };
    let mut tx = state.tx(&auth).await?;
    let rows = sqlx::query(&sql)
        .bind(q.after()?)
        .bind(q.pattern()?)
        .bind(text)
        .bind(q.archived)
        .bind(limit + 1)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
    tx.commit().await.map_err(db)?;
    let items = rows.iter().map(from_row).collect();
    Ok(ApiJson(Page::from_rows(items, limit, |p| p.product.id.0)))
}

async fn read(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<ApiJson<ProductOut>> {
    require(&auth, Action::LookUp)?;
    let mut tx = state.tx(&auth).await?;
    let out = fetch(&mut tx, id).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(out))
}

async fn create(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiJson(input): ApiJson<NewProduct>,
) -> ApiResult<(StatusCode, ApiJson<ProductOut>)> {
    require(&auth, Action::EditCatalogue)?;
    require(&auth, Action::EditPrices)?;
    let p = Product {
        id: ProductId(new_id(input.id)),
        sku: input.sku,
        name: input.name,
        variant_id: input.variant_id,
        price: input.price,
        unit_cost: input.unit_cost,
        barcode: input.barcode,
        location: input.location,
        low_stock_threshold: input.low_stock_threshold,
        tags: input.tags,
        active: input.active,
    };
    p.validate().map_err(invalid)?;
    let mut tx = state.tx(&auth).await?;
    // The shop's writers queue here first, as a push does, before any row lock is taken.
    lock_shop(&mut tx, auth.shop_id).await?;
    sqlx::query(
        r#"insert into product (id, shop_id, sku, name, variant_id, price, unit_cost, barcode,
                                location, low_stock_threshold, tags, active)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"#,
    )
    .bind(p.id.0)
    .bind(auth.shop_id)
    .bind(&p.sku)
    .bind(p.name.trim())
    .bind(p.variant_id.map(|v| v.0))
    .bind(p.price.0)
    .bind(p.unit_cost.map(|c| c.0))
    .bind(&p.barcode)
    .bind(&p.location)
    .bind(p.low_stock_threshold.map(int))
    .bind(&p.tags)
    .bind(p.active)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    // Every field, as an `entity.set.v1`, so that devices pull the new product.
    let made = fetch(&mut tx, p.id.0).await?.product;
    rest::set_changed(
        &mut tx,
        &auth,
        EntityKind::Product,
        p.id.0,
        None,
        &made,
        true,
    )
    .await?;
    let out = fetch(&mut tx, p.id.0).await?;
    tx.commit().await.map_err(db)?;
    Ok((StatusCode::CREATED, ApiJson(out)))
}

async fn update(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<Value>,
) -> ApiResult<ApiJson<ProductOut>> {
    require(&auth, Action::EditCatalogue)?;
    let mut tx = state.tx(&auth).await?;
    lock_shop(&mut tx, auth.shop_id).await?;
    let current = fetch(&mut tx, id).await?;
    let (next, typed): (Product, ProductPatch) =
        merge_patch(&current.product, patch, ProductPatch::NULLABLE)?;
    typed.validate().map_err(invalid)?;
    if typed.price.is_some() || typed.unit_cost.is_some() {
        require(&auth, Action::EditPrices)?;
    }
    next.validate().map_err(invalid)?;
    sqlx::query(
        r#"update product set sku = $2, name = $3, variant_id = $4, price = $5, unit_cost = $6,
                  barcode = $7, location = $8, low_stock_threshold = $9, tags = $10, active = $11,
                  updated_at = now()
           where id = $1"#,
    )
    .bind(id)
    .bind(&next.sku)
    .bind(next.name.trim())
    .bind(next.variant_id.map(|v| v.0))
    .bind(next.price.0)
    .bind(next.unit_cost.map(|c| c.0))
    .bind(&next.barcode)
    .bind(&next.location)
    .bind(next.low_stock_threshold.map(int))
    .bind(&next.tags)
    .bind(next.active)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    // The fields that changed, as an `entity.set.v1` for devices. An archived product may
    // still be edited here: the merge rules refuse the op (deletes win) but keep its values
    // for an undelete, as they do for a device's edit.
    let written = fetch(&mut tx, id).await?.product;
    rest::set_changed(
        &mut tx,
        &auth,
        EntityKind::Product,
        id,
        Some(&current.product),
        &written,
        false,
    )
    .await?;
    let out = fetch(&mut tx, id).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(out))
}

/// Applies a REST change as an op (kept under this name for the sales handlers).
pub use crate::sync::rest::apply as apply_op;

/// 404 unless the row `id` of `table` is the shop's (a fixed table name, never input).
pub async fn ensure_exists(tx: &mut Tx, table: &str, what: &str, id: Uuid) -> ApiResult<()> {
    let found: Option<i32> = sqlx::query_scalar(&format!("select 1 from {table} where id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db)?;
    found
        .map(|_| ())
        .ok_or_else(|| ApiError::NotFound(what.into()))
}

/// `DELETE /products/{id}`: archives (the ledger keeps referring to it).
async fn archive(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    require(&auth, Action::Delete)?;
    let mut tx = state.tx(&auth).await?;
    lock_shop(&mut tx, auth.shop_id).await?;
    let done = sqlx::query(
        r#"update product set archived_at = coalesce(archived_at, now()), active = false,
                  updated_at = now() where id = $1"#,
    )
    .bind(id)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    if done.rows_affected() == 0 {
        return Err(ApiError::NotFound("product".into()));
    }
    // A tombstone for devices (a second archive is a note, not a refusal).
    let target = EntityTarget {
        entity: EntityKind::Product,
        id,
    };
    apply_op(&mut tx, &auth, OpBody::EntityDelete(target), false).await?;
    tx.commit().await.map_err(db)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct AdjustIn {
    /// Units added (positive) or removed (negative).
    pub quantity: i64,
    /// `adjusted`, `returned`, `damaged` or `produced`.
    pub reason: StockReason,
    #[serde(default)]
    pub event_id: Option<Uuid>,
}

/// `POST /products/{id}/adjust`: a `stock.adjust.v1` op.
async fn adjust(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<AdjustIn>,
) -> ApiResult<ApiJson<ProductOut>> {
    require(&auth, Action::AdjustStock)?;
    input
        .reason
        .validate_delta("quantity", input.quantity)
        .map_err(invalid)?;
    let mut tx = state.tx(&auth).await?;
    ensure_exists(&mut tx, "product", "product", id).await?;
    if let Some(event) = input.event_id {
        ensure_exists(&mut tx, "market_event", "market event", event).await?;
    }
    let body = OpBody::StockAdjust(StockAdjust {
        product_id: ProductId(id),
        delta: input.quantity,
        reason: input.reason,
        job_id: None,
        event_id: input.event_id.map(printstall_core::domain::MarketEventId),
        note: None,
    });
    apply_op(&mut tx, &auth, body, true).await?;
    let out = fetch(&mut tx, id).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(out))
}

#[derive(Debug, Deserialize)]
pub struct CountIn {
    /// Units counted on the shelf.
    pub counted: i64,
}

/// `POST /products/{id}/count`: a stock-take (`stock.count.v1`); the ledger records the
/// difference as `counted`.
async fn count(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<CountIn>,
) -> ApiResult<ApiJson<ProductOut>> {
    require(&auth, Action::AdjustStock)?;
    product::validate_count("counted", input.counted).map_err(invalid)?;
    let mut tx = state.tx(&auth).await?;
    ensure_exists(&mut tx, "product", "product", id).await?;
    // A count by the core rule: it sets the level; deltas stamped after it (a phone's sale
    // made later but pushed first) stay on top of it.
    let body = OpBody::StockCount(StockCount {
        product_id: ProductId(id),
        counted: input.counted,
        event_id: None,
        note: None,
    });
    apply_op(&mut tx, &auth, body, true).await?;
    let out = fetch(&mut tx, id).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(out))
}

#[derive(Debug, Serialize)]
pub struct LedgerRow {
    pub id: Uuid,
    pub quantity: i64,
    pub reason: String,
    pub job_id: Option<Uuid>,
    pub sale_id: Option<Uuid>,
    pub event_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// `GET /products/{id}/ledger`: the stock ledger, oldest first, by cursor.
async fn ledger(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<ApiJson<Page<LedgerRow>>> {
    require(&auth, Action::LookUp)?;
    let limit = q.limit()?;
    let mut tx = state.tx(&auth).await?;
    fetch(&mut tx, id).await?;
    let rows = sqlx::query(
        r#"select id, quantity, reason, job_id, sale_id, event_id, user_id, at from stock_entry
           where product_id = $1 and ($2::uuid is null or id > $2)
           order by id limit $3"#,
    )
    .bind(id)
    .bind(q.after()?)
    .bind(limit + 1)
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    let items = rows
        .iter()
        .map(|r| LedgerRow {
            id: r.get("id"),
            quantity: r.get("quantity"),
            reason: r.get("reason"),
            job_id: r.get("job_id"),
            sale_id: r.get("sale_id"),
            event_id: r.get("event_id"),
            user_id: r.get("user_id"),
            at: r.get("at"),
        })
        .collect();
    Ok(ApiJson(Page::from_rows(items, limit, |r| r.id)))
}

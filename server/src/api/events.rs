//! Market events: CRUD, archive, and the stock plan (target units per product, with what is
//! on hand and still to print by core's `shortfall`).

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::routing::get;
use printstall_core::domain::market_event::{self, MarketEvent, MarketEventPatch, PlanLine};
use printstall_core::domain::member::Action;
use printstall_core::domain::{MarketEventId, ProductId};
use printstall_core::money::Minor;
use printstall_core::sync::op::EventPlan;
use printstall_core::sync::{EntityKind, OpBody};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;
use uuid::Uuid;

use super::common::{
    ApiJson, ApiPath, ApiQuery, ApiResult, ListQuery, Page, Tx, db, invalid, invalid_field,
    merge_patch, new_entity, require, uint,
};
use super::models::archive_row;
use super::products::ensure_exists;
use super::{ApiState, Routes};
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::sync::push::lock_shop;
use crate::sync::rest;

/// Most lines in one event's plan.
const MAX_PLAN_LINES: usize = 500;

pub fn routes(r: Routes) -> Routes {
    r.route(
        "/events",
        &[Method::GET, Method::POST],
        get(list).post(create),
    )
    .route(
        "/events/{id}",
        &[Method::GET, Method::PATCH, Method::DELETE],
        get(read).patch(update).delete(archive),
    )
    .route(
        "/events/{id}/plan",
        &[Method::GET, Method::PUT],
        get(read_plan).put(set_plan),
    )
}

#[derive(Debug, Serialize)]
pub struct EventOut {
    #[serde(flatten)]
    pub event: MarketEvent,
    pub archived: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

const COLUMNS: &str =
    "id, name, starts_on, ends_on, location, booth_fee, theme_tags, notes, archived_at, updated_at";

fn from_row(r: &PgRow) -> EventOut {
    EventOut {
        event: MarketEvent {
            id: MarketEventId(r.get("id")),
            name: r.get("name"),
            starts_on: r.get("starts_on"),
            ends_on: r.get("ends_on"),
            location: r.get("location"),
            booth_fee: r.get::<Option<i64>, _>("booth_fee").map(Minor),
            theme_tags: r.get("theme_tags"),
            notes: r.get("notes"),
        },
        archived: r.get::<Option<OffsetDateTime>, _>("archived_at").is_some(),
        updated_at: r.get("updated_at"),
    }
}

pub async fn fetch(tx: &mut Tx, id: Uuid) -> ApiResult<EventOut> {
    let row = sqlx::query(&format!("select {COLUMNS} from market_event where id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db)?
        .ok_or_else(|| ApiError::NotFound("market event".into()))?;
    Ok(from_row(&row))
}

/// `GET /events`: by id (UUIDv7: creation order); `q` searches name, location and tags.
async fn list(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<ApiJson<Page<EventOut>>> {
    require(&auth, Action::LookUp)?;
    let limit = q.limit()?;
    let mut tx = state.tx(&auth).await?;
    let rows = sqlx::query(&format!(
        r#"select {COLUMNS} from market_event
           where ($1::uuid is null or id > $1)
             and ($2::text is null or name ilike $2 or location ilike $2 or $3 = any(theme_tags))
             and ($4 or archived_at is null)
           order by id
           limit $5"#
    ))
    .bind(q.after()?)
    .bind(q.pattern()?)
    .bind(q.q.as_deref().map(str::trim))
    .bind(q.archived)
    .bind(limit + 1)
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    let items = rows.iter().map(from_row).collect();
    Ok(ApiJson(Page::from_rows(items, limit, |e| e.event.id.0)))
}

async fn read(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<ApiJson<EventOut>> {
    require(&auth, Action::LookUp)?;
    let mut tx = state.tx(&auth).await?;
    let out = fetch(&mut tx, id).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(out))
}

async fn write(tx: &mut Tx, auth: &AuthUser, e: &MarketEvent, insert: bool) -> ApiResult<()> {
    let sql = if insert {
        r#"insert into market_event (id, shop_id, name, starts_on, ends_on, location, booth_fee,
                                     theme_tags, notes)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9)"#
    } else {
        r#"update market_event set name = $3, starts_on = $4, ends_on = $5, location = $6,
                  booth_fee = $7, theme_tags = $8, notes = $9, updated_at = now()
           where id = $1 and shop_id = $2"#
    };
    sqlx::query(sql)
        .bind(e.id.0)
        .bind(auth.shop_id)
        .bind(e.name.trim())
        .bind(e.starts_on)
        .bind(e.ends_on)
        .bind(&e.location)
        .bind(e.booth_fee.map(|f| f.0))
        .bind(&e.theme_tags)
        .bind(&e.notes)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    Ok(())
}

async fn create(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(StatusCode, ApiJson<EventOut>)> {
    require(&auth, Action::EditCatalogue)?;
    let e: MarketEvent = new_entity(body)?;
    if e.booth_fee.is_some() {
        require(&auth, Action::EditPrices)?;
    }
    e.validate().map_err(invalid)?;
    let mut tx = state.tx(&auth).await?;
    // The shop's writers queue here first, as a push does, before any row lock is taken.
    lock_shop(&mut tx, auth.shop_id).await?;
    write(&mut tx, &auth, &e, true).await?;
    // Every field, as an `entity.set.v1`, so that devices pull the new event.
    let made = fetch(&mut tx, e.id.0).await?.event;
    rest::set_changed(
        &mut tx,
        &auth,
        EntityKind::MarketEvent,
        e.id.0,
        None,
        &made,
        true,
    )
    .await?;
    let out = fetch(&mut tx, e.id.0).await?;
    tx.commit().await.map_err(db)?;
    Ok((StatusCode::CREATED, ApiJson(out)))
}

async fn update(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<Value>,
) -> ApiResult<ApiJson<EventOut>> {
    require(&auth, Action::EditCatalogue)?;
    let mut tx = state.tx(&auth).await?;
    lock_shop(&mut tx, auth.shop_id).await?;
    let current = fetch(&mut tx, id).await?;
    let (next, typed): (MarketEvent, MarketEventPatch) =
        merge_patch(&current.event, patch, MarketEventPatch::NULLABLE)?;
    typed.validate().map_err(invalid)?;
    if next.booth_fee != current.event.booth_fee {
        require(&auth, Action::EditPrices)?;
    }
    next.validate().map_err(invalid)?;
    write(&mut tx, &auth, &next, false).await?;
    // The changed fields for devices, merged last-writer-wins with a phone's edits (the
    // row then holds the merged values). An archived event may still be edited here: the
    // rules refuse the op (deletes win) but keep its values for an undelete.
    let written = fetch(&mut tx, id).await?.event;
    rest::set_changed(
        &mut tx,
        &auth,
        EntityKind::MarketEvent,
        id,
        Some(&current.event),
        &written,
        false,
    )
    .await?;
    let out = fetch(&mut tx, id).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(out))
}

/// `DELETE /events/{id}`: archives (its sales keep referring to it).
async fn archive(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    archive_row(
        &state,
        &auth,
        "market_event",
        "market event",
        EntityKind::MarketEvent,
        id,
    )
    .await
}

/// One line of a plan as read back: the target, what is on hand, what is still to print.
#[derive(Debug, Serialize)]
pub struct PlanLineOut {
    pub product_id: Uuid,
    pub sku: String,
    pub name: String,
    pub target: u32,
    pub on_hand: i64,
    /// `target - max(on_hand, 0)`, at least 0 (core's `shortfall`).
    pub shortfall: u32,
}

#[derive(Debug, Serialize)]
pub struct PlanOut {
    pub event_id: Uuid,
    pub lines: Vec<PlanLineOut>,
}

async fn fetch_plan(tx: &mut Tx, event_id: Uuid) -> ApiResult<PlanOut> {
    let rows = sqlx::query(
        r#"select p.id, p.sku, p.name, p.on_hand, l.target
           from event_stock_plan l join product p on p.id = l.product_id
           where l.event_id = $1 order by p.sku"#,
    )
    .bind(event_id)
    .fetch_all(&mut **tx)
    .await
    .map_err(db)?;
    let lines = rows
        .iter()
        .map(|r| {
            let target = uint(r.get("target"));
            let on_hand: i64 = r.get("on_hand");
            PlanLineOut {
                product_id: r.get("id"),
                sku: r.get("sku"),
                name: r.get("name"),
                target,
                on_hand,
                shortfall: market_event::shortfall(target, on_hand),
            }
        })
        .collect();
    Ok(PlanOut { event_id, lines })
}

async fn read_plan(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<ApiJson<PlanOut>> {
    require(&auth, Action::LookUp)?;
    let mut tx = state.tx(&auth).await?;
    fetch(&mut tx, id).await?;
    let out = fetch_plan(&mut tx, id).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(out))
}

#[derive(Debug, Deserialize)]
pub struct PlanIn {
    /// The whole plan; a target of 0 leaves the product out.
    pub lines: Vec<PlanLine>,
}

/// `PUT /events/{id}/plan`: replaces the plan in one transaction.
async fn set_plan(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<PlanIn>,
) -> ApiResult<ApiJson<PlanOut>> {
    require(&auth, Action::EditCatalogue)?;
    if input.lines.len() > MAX_PLAN_LINES {
        return Err(invalid_field(
            "lines",
            format!(
                "has {} lines; plan at most {MAX_PLAN_LINES} products",
                input.lines.len()
            ),
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, line) in input.lines.iter().enumerate() {
        line.validate()
            .map_err(|e| invalid(e.within(&format!("lines[{i}]"))))?;
        if !seen.insert(line.product_id) {
            return Err(invalid_field(
                &format!("lines[{i}].product_id"),
                "lists a product twice; keep one line per product",
            ));
        }
    }
    let mut tx = state.tx(&auth).await?;
    lock_shop(&mut tx, auth.shop_id).await?;
    ensure_exists(&mut tx, "market_event", "market event", id).await?;
    for line in &input.lines {
        ensure_exists(&mut tx, "product", "product", line.product_id.0).await?;
    }
    // The whole plan as one `event.plan.v1` per line (a target of 0 for the products it no
    // longer lists), merged per line by the sync rules as a phone's plan edits are.
    let old: Vec<Uuid> =
        sqlx::query_scalar("select product_id from event_stock_plan where event_id = $1")
            .bind(id)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
    let mut targets: BTreeMap<Uuid, u32> = old.into_iter().map(|p| (p, 0)).collect();
    for line in &input.lines {
        targets.insert(line.product_id.0, line.target);
    }
    for (product, target) in targets {
        let body = OpBody::EventPlan(EventPlan {
            event_id: MarketEventId(id),
            product_id: ProductId(product),
            target,
        });
        rest::apply(&mut tx, &auth, body, true).await?;
    }
    let out = fetch_plan(&mut tx, id).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(out))
}

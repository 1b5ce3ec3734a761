//! Printers: CRUD, archive, the spool loaded on each, and what printers reported through
//! the Spoolman-compatible API (the spool ledger rows their devices made).

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::routing::get;
use printstall_core::domain::member::Action;
use printstall_core::domain::printer::{BuildVolume, Printer, PrinterPatch};
use printstall_core::domain::{Centigrams, FilamentId, PrinterId, SpoolId};
use printstall_core::sync::EntityKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;
use uuid::Uuid;

use super::common::{
    ApiJson, ApiPath, ApiQuery, ApiResult, ListQuery, Page, Tx, db, int, invalid, merge_patch,
    new_entity, require, uint,
};
use super::models::archive_row;
use super::{ApiState, Routes};
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::sync::push::lock_shop;
use crate::sync::rest;

pub fn routes(r: Routes) -> Routes {
    r.route(
        "/printers",
        &[Method::GET, Method::POST],
        get(list).post(create),
    )
    .route(
        "/printers/{id}",
        &[Method::GET, Method::PATCH, Method::DELETE],
        get(read).patch(update).delete(archive),
    )
    .route("/printer-history", &[Method::GET], get(history))
}

#[derive(Debug, Serialize)]
pub struct PrinterOut {
    #[serde(flatten)]
    pub printer: Printer,
    /// The loaded spool's filament and grams left.
    pub loaded_spool: Option<LoadedSpool>,
    pub archived: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Columns of `printer p left join spool s on s.id = p.loaded_spool_id` ([`FROM`]).
#[derive(Debug, Serialize)]
pub struct LoadedSpool {
    pub filament_id: FilamentId,
    pub left_cg: Centigrams,
}

const COLUMNS: &str = "p.id, p.name, p.model, p.nozzle_um, p.build_x_mm, p.build_y_mm, \
    p.build_z_mm, p.notes, p.loaded_spool_id, p.archived_at, p.updated_at, \
    s.filament_id as loaded_filament_id, s.left_cg as loaded_left_cg";

const FROM: &str = "printer p left join spool s on s.id = p.loaded_spool_id";

fn from_row(r: &PgRow) -> PrinterOut {
    let x: Option<i32> = r.get("build_x_mm");
    let y: Option<i32> = r.get("build_y_mm");
    let z: Option<i32> = r.get("build_z_mm");
    let build_volume = match (x, y, z) {
        (Some(x), Some(y), Some(z)) => Some(BuildVolume {
            x_mm: uint(x),
            y_mm: uint(y),
            z_mm: uint(z),
        }),
        _ => None,
    };
    PrinterOut {
        printer: Printer {
            id: PrinterId(r.get("id")),
            name: r.get("name"),
            model: r.get("model"),
            nozzle_um: r.get::<Option<i32>, _>("nozzle_um").map(uint),
            build_volume,
            notes: r.get("notes"),
            loaded_spool_id: r.get::<Option<Uuid>, _>("loaded_spool_id").map(SpoolId),
        },
        loaded_spool: match (
            r.get::<Option<Uuid>, _>("loaded_filament_id"),
            r.get::<Option<i64>, _>("loaded_left_cg"),
        ) {
            (Some(f), Some(left)) => Some(LoadedSpool {
                filament_id: FilamentId(f),
                left_cg: Centigrams(left),
            }),
            _ => None,
        },
        archived: r.get::<Option<OffsetDateTime>, _>("archived_at").is_some(),
        updated_at: r.get("updated_at"),
    }
}

pub async fn fetch(tx: &mut Tx, id: Uuid) -> ApiResult<PrinterOut> {
    let row = sqlx::query(&format!("select {COLUMNS} from {FROM} where p.id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db)?
        .ok_or_else(|| ApiError::NotFound("printer".into()))?;
    Ok(from_row(&row))
}

async fn list(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<ApiJson<Page<PrinterOut>>> {
    require(&auth, Action::LookUp)?;
    let limit = q.limit()?;
    let mut tx = state.tx(&auth).await?;
    let rows = sqlx::query(&format!(
        r#"select {COLUMNS} from {FROM}
           where ($1::uuid is null or p.id > $1)
             and ($2::text is null or p.name ilike $2 or p.model ilike $2)
             and ($3 or p.archived_at is null)
           order by p.id
           limit $4"#
    ))
    .bind(q.after()?)
    .bind(q.pattern()?)
    .bind(q.archived)
    .bind(limit + 1)
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    let items = rows.iter().map(from_row).collect();
    Ok(ApiJson(Page::from_rows(items, limit, |p| p.printer.id.0)))
}

async fn read(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<ApiJson<PrinterOut>> {
    require(&auth, Action::LookUp)?;
    let mut tx = state.tx(&auth).await?;
    let out = fetch(&mut tx, id).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(out))
}

async fn write(tx: &mut Tx, auth: &AuthUser, p: &Printer, insert: bool) -> ApiResult<()> {
    let sql = if insert {
        r#"insert into printer (id, shop_id, name, model, nozzle_um, build_x_mm, build_y_mm,
                                build_z_mm, notes, loaded_spool_id)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"#
    } else {
        r#"update printer set name = $3, model = $4, nozzle_um = $5, build_x_mm = $6,
                  build_y_mm = $7, build_z_mm = $8, notes = $9, loaded_spool_id = $10,
                  updated_at = now()
           where id = $1 and shop_id = $2"#
    };
    let bv = p.build_volume;
    sqlx::query(sql)
        .bind(p.id.0)
        .bind(auth.shop_id)
        .bind(p.name.trim())
        .bind(&p.model)
        .bind(p.nozzle_um.map(int))
        .bind(bv.map(|b| int(b.x_mm)))
        .bind(bv.map(|b| int(b.y_mm)))
        .bind(bv.map(|b| int(b.z_mm)))
        .bind(&p.notes)
        .bind(p.loaded_spool_id.map(|s| s.0))
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    Ok(())
}

async fn create(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(StatusCode, ApiJson<PrinterOut>)> {
    require(&auth, Action::EditCatalogue)?;
    let p: Printer = new_entity(body)?;
    p.validate().map_err(invalid)?;
    let mut tx = state.tx(&auth).await?;
    // The shop's writers queue here first, as a push does, before any row lock is taken.
    lock_shop(&mut tx, auth.shop_id).await?;
    write(&mut tx, &auth, &p, true).await?;
    // Every field, as an `entity.set.v1`, so that devices pull the new printer.
    let made = fetch(&mut tx, p.id.0).await?.printer;
    rest::set_changed(
        &mut tx,
        &auth,
        EntityKind::Printer,
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

/// `PATCH /printers/{id}`: also loads or unloads a spool (`loaded_spool_id`).
async fn update(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<Value>,
) -> ApiResult<ApiJson<PrinterOut>> {
    require(&auth, Action::EditCatalogue)?;
    let mut tx = state.tx(&auth).await?;
    lock_shop(&mut tx, auth.shop_id).await?;
    let current = fetch(&mut tx, id).await?;
    let (next, typed): (Printer, PrinterPatch) =
        merge_patch(&current.printer, patch, PrinterPatch::NULLABLE)?;
    typed.validate().map_err(invalid)?;
    next.validate().map_err(invalid)?;
    write(&mut tx, &auth, &next, false).await?;
    // The changed fields for devices (see `events::update`).
    let written = fetch(&mut tx, id).await?.printer;
    rest::set_changed(
        &mut tx,
        &auth,
        EntityKind::Printer,
        id,
        Some(&current.printer),
        &written,
        false,
    )
    .await?;
    let out = fetch(&mut tx, id).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(out))
}

/// `DELETE /printers/{id}`: archives (jobs keep referring to it).
async fn archive(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    archive_row(&state, &auth, "printer", "printer", EntityKind::Printer, id).await
}

/// `GET /printer-history` filters: one printer (`printer_id`), or one token's reports
/// (`printer_token_id`, for a token without a printer), with the common cursor and limit.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    pub cursor: Option<String>,
    pub limit: Option<i64>,
    pub printer_id: Option<Uuid>,
    pub printer_token_id: Option<Uuid>,
}

/// One use (or weighing) a printer reported: the spool ledger row, with the spool's
/// filament for display.
#[derive(Debug, Serialize)]
pub struct ReportRow {
    pub id: Uuid,
    pub printer_name: String,
    pub printer_id: Option<Uuid>,
    pub printer_token_id: Option<Uuid>,
    pub spool_id: Uuid,
    /// Grams taken off (negative: given back or found by a weighing).
    pub used_cg: Centigrams,
    pub reason: String,
    pub filament_id: Uuid,
    pub brand: String,
    pub material: String,
    pub colour_name: String,
    pub colour_hex: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// `GET /printer-history`: newest first, by cursor.
async fn history(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiQuery(hq): ApiQuery<HistoryQuery>,
) -> ApiResult<ApiJson<Page<ReportRow>>> {
    require(&auth, Action::LookUp)?;
    let q = ListQuery {
        cursor: hq.cursor,
        limit: hq.limit,
        ..Default::default()
    };
    let limit = q.limit()?;
    let mut tx = state.tx(&auth).await?;
    let rows = sqlx::query(
        r#"select u.id, u.printer_name, u.printer_id, u.printer_token_id, u.spool_id, u.used_cg,
                  u.reason, u.at, f.id as filament_id, f.brand, f.material, f.colour_name,
                  f.colour_hex
           from spool_usage u
           join spool s on s.id = u.spool_id
           join filament f on f.id = s.filament_id
           where u.printer_name is not null
             and ($1::uuid is null or u.id < $1)
             and ($2::uuid is null or u.printer_id = $2)
             and ($3::uuid is null or u.printer_token_id = $3)
           order by u.id desc
           limit $4"#,
    )
    .bind(q.after()?)
    .bind(hq.printer_id)
    .bind(hq.printer_token_id)
    .bind(limit + 1)
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    let items = rows
        .iter()
        .map(|r| ReportRow {
            id: r.get("id"),
            printer_name: r.get("printer_name"),
            printer_id: r.get("printer_id"),
            printer_token_id: r.get("printer_token_id"),
            spool_id: r.get("spool_id"),
            used_cg: Centigrams(r.get("used_cg")),
            reason: r.get("reason"),
            filament_id: r.get("filament_id"),
            brand: r.get("brand"),
            material: r.get("material"),
            colour_name: r.get("colour_name"),
            colour_hex: r.get("colour_hex"),
            at: r.get("at"),
        })
        .collect();
    Ok(ApiJson(Page::from_rows(items, limit, |r| r.id)))
}

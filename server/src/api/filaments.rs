//! Filaments (the kind, as on a shelf label): CRUD, list with search by brand, material
//! and colour.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::routing::get;
use printstall_core::domain::filament::{Colour, Filament, FilamentPatch, Material};
use printstall_core::domain::member::Action;
use printstall_core::domain::{Centigrams, FilamentId};
use printstall_core::money::Minor;
use printstall_core::sync::EntityKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use super::common::{
    ApiJson, ApiPath, ApiQuery, ApiResult, ListQuery, Page, Tx, db, invalid, label, merge_patch,
    new_entity, parse_label, require,
};
use super::{ApiState, Routes};
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::sync::push::lock_shop;
use crate::sync::rest;

pub fn routes(r: Routes) -> Routes {
    r.route(
        "/filaments",
        &[Method::GET, Method::POST],
        get(list).post(create),
    )
    .route(
        "/filaments/{id}",
        &[Method::GET, Method::PATCH, Method::DELETE],
        get(read).patch(update).delete(archive),
    )
}

/// A filament with its flags.
#[derive(Debug, Serialize)]
pub struct FilamentOut {
    #[serde(flatten)]
    pub filament: Filament,
    pub archived: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

pub(crate) const COLUMNS: &str = "id, brand, material, colour_name, colour_hex, multi_hexes, diameter, \
    density_mg_cm3, net_weight_cg, empty_spool_cg, price_per_spool, nozzle_temp_c, bed_temp_c, \
    article_number, ean, archived_at, updated_at";

fn temp(v: Option<i32>) -> Option<u16> {
    v.and_then(|t| u16::try_from(t).ok())
}

pub(crate) fn from_row(r: &PgRow) -> ApiResult<FilamentOut> {
    let filament = Filament {
        id: FilamentId(r.get("id")),
        brand: r.get("brand"),
        material: parse_label(r.get("material"))?,
        colour: Colour {
            name: r.get("colour_name"),
            hex: r.get("colour_hex"),
            multi_hexes: r.get("multi_hexes"),
        },
        diameter: parse_label(r.get("diameter"))?,
        density_mg_cm3: u32::try_from(r.get::<i32, _>("density_mg_cm3")).unwrap_or(0),
        net_weight_cg: Centigrams(r.get("net_weight_cg")),
        empty_spool_cg: r.get::<Option<i64>, _>("empty_spool_cg").map(Centigrams),
        price_per_spool: r.get::<Option<i64>, _>("price_per_spool").map(Minor),
        nozzle_temp_c: temp(r.get("nozzle_temp_c")),
        bed_temp_c: temp(r.get("bed_temp_c")),
        article_number: r.get("article_number"),
        ean: r.get("ean"),
    };
    Ok(FilamentOut {
        filament,
        archived: r.get::<Option<OffsetDateTime>, _>("archived_at").is_some(),
        updated_at: r.get("updated_at"),
    })
}

pub async fn fetch(conn: &mut PgConnection, id: Uuid) -> ApiResult<FilamentOut> {
    let row = sqlx::query(&format!("select {COLUMNS} from filament where id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?
        .ok_or_else(|| ApiError::NotFound("filament".into()))?;
    from_row(&row)
}

/// `?material=` besides the common list parameters (`q` searches brand, colour name,
/// material, article number and EAN).
#[derive(Debug, Deserialize, Default)]
pub struct FilamentQuery {
    pub cursor: Option<String>,
    pub limit: Option<i64>,
    pub q: Option<String>,
    #[serde(default)]
    pub archived: bool,
    pub material: Option<Material>,
}

async fn list(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiQuery(fq): ApiQuery<FilamentQuery>,
) -> ApiResult<ApiJson<Page<FilamentOut>>> {
    require(&auth, Action::LookUp)?;
    let q = ListQuery {
        cursor: fq.cursor,
        limit: fq.limit,
        q: fq.q,
        archived: fq.archived,
    };
    let limit = q.limit()?;
    let material = fq.material.as_ref().map(label).transpose()?;
    let mut tx = state.tx(&auth).await?;
    let rows = sqlx::query(&format!(
        r#"select {COLUMNS} from filament
           where ($1::uuid is null or id > $1)
             and ($2::text is null or brand ilike $2 or colour_name ilike $2
                  or article_number ilike $2 or material = lower($3) or ean = $3)
             and ($4 or archived_at is null)
             and ($5::text is null or material = $5)
           order by id
           limit $6"#
    ))
    .bind(q.after()?)
    .bind(q.pattern()?)
    .bind(q.q.as_deref().map(str::trim))
    .bind(q.archived)
    .bind(material)
    .bind(limit + 1)
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    let items = rows.iter().map(from_row).collect::<ApiResult<Vec<_>>>()?;
    Ok(ApiJson(Page::from_rows(items, limit, |f| f.filament.id.0)))
}

async fn read(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<ApiJson<FilamentOut>> {
    require(&auth, Action::LookUp)?;
    let mut tx = state.tx(&auth).await?;
    let out = fetch(&mut tx, id).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(out))
}

async fn write(tx: &mut Tx, auth: &AuthUser, f: &Filament, insert: bool) -> ApiResult<()> {
    let sql = if insert {
        r#"insert into filament (id, shop_id, brand, material, colour_name, colour_hex,
                                 multi_hexes, diameter, density_mg_cm3, net_weight_cg,
                                 empty_spool_cg, price_per_spool, nozzle_temp_c, bed_temp_c,
                                 article_number, ean)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"#
    } else {
        r#"update filament set brand = $3, material = $4, colour_name = $5, colour_hex = $6,
                  multi_hexes = $7, diameter = $8, density_mg_cm3 = $9, net_weight_cg = $10,
                  empty_spool_cg = $11, price_per_spool = $12, nozzle_temp_c = $13,
                  bed_temp_c = $14, article_number = $15, ean = $16, updated_at = now()
           where id = $1 and shop_id = $2"#
    };
    sqlx::query(sql)
        .bind(f.id.0)
        .bind(auth.shop_id)
        .bind(f.brand.trim())
        .bind(label(&f.material)?)
        .bind(f.colour.name.trim())
        .bind(&f.colour.hex)
        .bind(&f.colour.multi_hexes)
        .bind(label(&f.diameter)?)
        .bind(i32::try_from(f.density_mg_cm3).unwrap_or(i32::MAX))
        .bind(f.net_weight_cg.0)
        .bind(f.empty_spool_cg.map(|c| c.0))
        .bind(f.price_per_spool.map(|p| p.0))
        .bind(f.nozzle_temp_c.map(i32::from))
        .bind(f.bed_temp_c.map(i32::from))
        .bind(&f.article_number)
        .bind(&f.ean)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    Ok(())
}

async fn create(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(StatusCode, ApiJson<FilamentOut>)> {
    require(&auth, Action::EditCatalogue)?;
    let f: Filament = new_entity(body)?;
    if f.price_per_spool.is_some() {
        require(&auth, Action::EditPrices)?;
    }
    f.validate().map_err(invalid)?;
    let mut tx = state.tx(&auth).await?;
    // The shop's writers queue here first, as a push does, before any row lock is taken.
    lock_shop(&mut tx, auth.shop_id).await?;
    write(&mut tx, &auth, &f, true).await?;
    // Every field, as an `entity.set.v1`, so that devices pull the new filament.
    let made = fetch(&mut tx, f.id.0).await?.filament;
    rest::set_changed(
        &mut tx,
        &auth,
        EntityKind::Filament,
        f.id.0,
        None,
        &made,
        true,
    )
    .await?;
    let out = fetch(&mut tx, f.id.0).await?;
    tx.commit().await.map_err(db)?;
    Ok((StatusCode::CREATED, ApiJson(out)))
}

async fn update(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<Value>,
) -> ApiResult<ApiJson<FilamentOut>> {
    require(&auth, Action::EditCatalogue)?;
    let mut tx = state.tx(&auth).await?;
    lock_shop(&mut tx, auth.shop_id).await?;
    let current = fetch(&mut tx, id).await?;
    let (next, typed): (Filament, FilamentPatch) =
        merge_patch(&current.filament, patch, FilamentPatch::NULLABLE)?;
    typed.validate().map_err(invalid)?;
    if next.price_per_spool != current.filament.price_per_spool {
        require(&auth, Action::EditPrices)?;
    }
    next.validate().map_err(invalid)?;
    write(&mut tx, &auth, &next, false).await?;
    // The changed fields for devices. An archived filament may still be edited here: the
    // rules refuse the op (deletes win) but keep its values for an undelete.
    let written = fetch(&mut tx, id).await?.filament;
    rest::set_changed(
        &mut tx,
        &auth,
        EntityKind::Filament,
        id,
        Some(&current.filament),
        &written,
        false,
    )
    .await?;
    let out = fetch(&mut tx, id).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(out))
}

/// `DELETE /filaments/{id}`: archives (spools and variants keep referring to it).
async fn archive(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    super::models::archive_row(
        &state,
        &auth,
        "filament",
        "filament",
        EntityKind::Filament,
        id,
    )
    .await
}

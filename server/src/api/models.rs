//! Models (base designs) and their variants (slicer settings as key/values, filament needs
//! per unit: M:N with filaments): CRUD, archive, list with search.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::routing::get;
use printstall_core::domain::member::Action;
use printstall_core::domain::model::{Licence, Model, ModelPatch};
use printstall_core::domain::variant::{FilamentNeed, ModelVariant, SlicerSettings, VariantPatch};
use printstall_core::domain::{Centigrams, FilamentId, ModelId, SlicedFileId, VariantId};
use printstall_core::sync::EntityKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::common::{
    ApiJson, ApiPath, ApiQuery, ApiResult, ListQuery, Page, Tx, db, int, invalid, label,
    merge_patch, new_entity, parse_label, require, uint,
};
use super::{ApiState, Routes};
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::sync::push::lock_shop;
use crate::sync::rest;

pub fn routes(r: Routes) -> Routes {
    r.route(
        "/models",
        &[Method::GET, Method::POST],
        get(list_models).post(create_model),
    )
    .route(
        "/models/{id}",
        &[Method::GET, Method::PATCH, Method::DELETE],
        get(read_model).patch(update_model).delete(archive_model),
    )
    .route(
        "/variants",
        &[Method::GET, Method::POST],
        get(list_variants).post(create_variant),
    )
    .route(
        "/variants/{id}",
        &[Method::GET, Method::PATCH, Method::DELETE],
        get(read_variant)
            .patch(update_variant)
            .delete(archive_variant),
    )
}

// ---------------------------------------------------------------------------------------
// Models

#[derive(Debug, Serialize)]
pub struct ModelOut {
    #[serde(flatten)]
    pub model: Model,
    /// Core's hint that the licence name looks non-commercial while selling is allowed.
    pub licence_looks_non_commercial: bool,
    pub archived: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

const MODEL_COLUMNS: &str = "id, name, designer_name, source_url, source_site, licence_name, \
    licence_allows_selling, category, tags, notes, archived_at, updated_at";

fn model_from_row(r: &PgRow) -> ApiResult<ModelOut> {
    let model = Model {
        id: ModelId(r.get("id")),
        name: r.get("name"),
        designer_name: r.get("designer_name"),
        source_url: r.get("source_url"),
        source_site: parse_label(r.get("source_site"))?,
        licence: Licence {
            name: r.get("licence_name"),
            allows_selling: r.get("licence_allows_selling"),
        },
        category: r.get("category"),
        tags: r.get("tags"),
        notes: r.get("notes"),
    };
    Ok(ModelOut {
        licence_looks_non_commercial: model.licence.looks_non_commercial(),
        model,
        archived: r.get::<Option<OffsetDateTime>, _>("archived_at").is_some(),
        updated_at: r.get("updated_at"),
    })
}

async fn fetch_model(tx: &mut Tx, id: Uuid) -> ApiResult<ModelOut> {
    let row = sqlx::query(&format!("select {MODEL_COLUMNS} from model where id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db)?
        .ok_or_else(|| ApiError::NotFound("model".into()))?;
    model_from_row(&row)
}

async fn list_models(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<ApiJson<Page<ModelOut>>> {
    require(&auth, Action::LookUp)?;
    let limit = q.limit()?;
    let mut tx = state.tx(&auth).await?;
    let rows = sqlx::query(&format!(
        r#"select {MODEL_COLUMNS} from model
           where ($1::uuid is null or id > $1)
             and ($2::text is null or name ilike $2 or designer_name ilike $2
                  or category ilike $2 or $3 = any(tags))
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
    let items = rows
        .iter()
        .map(model_from_row)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(ApiJson(Page::from_rows(items, limit, |m| m.model.id.0)))
}

async fn read_model(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<ApiJson<ModelOut>> {
    require(&auth, Action::LookUp)?;
    let mut tx = state.tx(&auth).await?;
    let out = fetch_model(&mut tx, id).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(out))
}

async fn write_model(tx: &mut Tx, auth: &AuthUser, m: &Model, insert: bool) -> ApiResult<()> {
    let sql = if insert {
        r#"insert into model (id, shop_id, name, designer_name, source_url, source_site,
                              licence_name, licence_allows_selling, category, tags, notes)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"#
    } else {
        r#"update model set name = $3, designer_name = $4, source_url = $5, source_site = $6,
                  licence_name = $7, licence_allows_selling = $8, category = $9, tags = $10,
                  notes = $11, updated_at = now()
           where id = $1 and shop_id = $2"#
    };
    sqlx::query(sql)
        .bind(m.id.0)
        .bind(auth.shop_id)
        .bind(m.name.trim())
        .bind(&m.designer_name)
        .bind(&m.source_url)
        .bind(label(&m.source_site)?)
        .bind(m.licence.name.trim())
        .bind(m.licence.allows_selling)
        .bind(&m.category)
        .bind(&m.tags)
        .bind(&m.notes)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    Ok(())
}

async fn create_model(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(StatusCode, ApiJson<ModelOut>)> {
    require(&auth, Action::EditCatalogue)?;
    let m: Model = new_entity(body)?;
    m.validate().map_err(invalid)?;
    let mut tx = state.tx(&auth).await?;
    // The shop's writers queue here first, as a push does, before any row lock is taken.
    lock_shop(&mut tx, auth.shop_id).await?;
    write_model(&mut tx, &auth, &m, true).await?;
    // Every field, as an `entity.set.v1`, so that devices pull the new model.
    let made = fetch_model(&mut tx, m.id.0).await?.model;
    rest::set_changed(&mut tx, &auth, EntityKind::Model, m.id.0, None, &made, true).await?;
    let out = fetch_model(&mut tx, m.id.0).await?;
    tx.commit().await.map_err(db)?;
    Ok((StatusCode::CREATED, ApiJson(out)))
}

async fn update_model(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<Value>,
) -> ApiResult<ApiJson<ModelOut>> {
    require(&auth, Action::EditCatalogue)?;
    let mut tx = state.tx(&auth).await?;
    lock_shop(&mut tx, auth.shop_id).await?;
    let current = fetch_model(&mut tx, id).await?;
    let (next, typed): (Model, ModelPatch) =
        merge_patch(&current.model, patch, ModelPatch::NULLABLE)?;
    typed.validate().map_err(invalid)?;
    next.validate().map_err(invalid)?;
    write_model(&mut tx, &auth, &next, false).await?;
    // The changed fields for devices (see `events::update`).
    let written = fetch_model(&mut tx, id).await?.model;
    rest::set_changed(
        &mut tx,
        &auth,
        EntityKind::Model,
        id,
        Some(&current.model),
        &written,
        false,
    )
    .await?;
    let out = fetch_model(&mut tx, id).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(out))
}

/// Sets `archived_at` on a row of `table` (a fixed name, never user input), a tombstone for
/// devices ([`crate::sync::rest::archive`]).
pub async fn archive_row(
    state: &ApiState,
    auth: &AuthUser,
    table: &'static str,
    what: &'static str,
    entity: EntityKind,
    id: Uuid,
) -> ApiResult<StatusCode> {
    require(auth, Action::Delete)?;
    let mut tx = state.tx(auth).await?;
    crate::sync::rest::archive(&mut tx, auth, table, what, entity, id).await?;
    tx.commit().await.map_err(db)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /models/{id}`: archives (variants and products keep referring to it).
async fn archive_model(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    archive_row(&state, &auth, "model", "model", EntityKind::Model, id).await
}

// ---------------------------------------------------------------------------------------
// Variants

#[derive(Debug, Serialize)]
pub struct VariantOut {
    #[serde(flatten)]
    pub variant: ModelVariant,
    pub archived: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

const VARIANT_COLUMNS: &str = "id, model_id, name, slicer_settings, parts_per_plate, \
    print_time_s, sliced_file_id, archived_at, updated_at";

fn variant_from_row(r: &PgRow, needs: Vec<FilamentNeed>) -> ApiResult<VariantOut> {
    let settings: Json<SlicerSettings> =
        r.try_get("slicer_settings").map_err(ApiError::internal)?;
    Ok(VariantOut {
        variant: ModelVariant {
            id: VariantId(r.get("id")),
            model_id: ModelId(r.get("model_id")),
            name: r.get("name"),
            slicer_settings: settings.0,
            parts_per_plate: uint(r.get("parts_per_plate")),
            print_time_s: r.get::<Option<i32>, _>("print_time_s").map(uint),
            sliced_file_id: r.get::<Option<Uuid>, _>("sliced_file_id").map(SlicedFileId),
            filament_needs: needs,
        },
        archived: r.get::<Option<OffsetDateTime>, _>("archived_at").is_some(),
        updated_at: r.get("updated_at"),
    })
}

async fn needs_of(tx: &mut Tx, ids: &[Uuid]) -> ApiResult<HashMap<Uuid, Vec<FilamentNeed>>> {
    let rows = sqlx::query(
        r#"select variant_id, filament_id, per_unit_cg from variant_filament
           where variant_id = any($1) order by filament_id"#,
    )
    .bind(ids)
    .fetch_all(&mut **tx)
    .await
    .map_err(db)?;
    let mut out: HashMap<Uuid, Vec<FilamentNeed>> = HashMap::new();
    for r in rows {
        out.entry(r.get("variant_id"))
            .or_default()
            .push(FilamentNeed {
                filament_id: FilamentId(r.get("filament_id")),
                per_unit_cg: Centigrams(r.get("per_unit_cg")),
            });
    }
    Ok(out)
}

pub async fn fetch_variant(tx: &mut Tx, id: Uuid) -> ApiResult<VariantOut> {
    let row = sqlx::query(&format!(
        "select {VARIANT_COLUMNS} from model_variant where id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
    .map_err(db)?
    .ok_or_else(|| ApiError::NotFound("variant".into()))?;
    let mut needs = needs_of(tx, &[id]).await?;
    variant_from_row(&row, needs.remove(&id).unwrap_or_default())
}

/// `?model_id=` besides the common list parameters (`q` searches the name).
#[derive(Debug, Deserialize, Default)]
pub struct VariantQuery {
    pub cursor: Option<String>,
    pub limit: Option<i64>,
    pub q: Option<String>,
    #[serde(default)]
    pub archived: bool,
    pub model_id: Option<Uuid>,
}

async fn list_variants(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiQuery(vq): ApiQuery<VariantQuery>,
) -> ApiResult<ApiJson<Page<VariantOut>>> {
    require(&auth, Action::LookUp)?;
    let q = ListQuery {
        cursor: vq.cursor,
        limit: vq.limit,
        q: vq.q,
        archived: vq.archived,
    };
    let limit = q.limit()?;
    let mut tx = state.tx(&auth).await?;
    let rows = sqlx::query(&format!(
        r#"select {VARIANT_COLUMNS} from model_variant
           where ($1::uuid is null or id > $1)
             and ($2::text is null or name ilike $2)
             and ($3 or archived_at is null)
             and ($4::uuid is null or model_id = $4)
           order by id
           limit $5"#
    ))
    .bind(q.after()?)
    .bind(q.pattern()?)
    .bind(q.archived)
    .bind(vq.model_id)
    .bind(limit + 1)
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.get("id")).collect();
    let mut needs = needs_of(&mut tx, &ids).await?;
    tx.commit().await.map_err(db)?;
    let items = rows
        .iter()
        .map(|r| {
            let id: Uuid = r.get("id");
            variant_from_row(r, needs.remove(&id).unwrap_or_default())
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(ApiJson(Page::from_rows(items, limit, |v| v.variant.id.0)))
}

async fn read_variant(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<ApiJson<VariantOut>> {
    require(&auth, Action::LookUp)?;
    let mut tx = state.tx(&auth).await?;
    let out = fetch_variant(&mut tx, id).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(out))
}

async fn write_variant(
    tx: &mut Tx,
    auth: &AuthUser,
    v: &ModelVariant,
    insert: bool,
) -> ApiResult<()> {
    let sql = if insert {
        r#"insert into model_variant (id, shop_id, model_id, name, slicer_settings,
                                      parts_per_plate, print_time_s, sliced_file_id)
           values ($1, $2, $3, $4, $5, $6, $7, $8)"#
    } else {
        r#"update model_variant set model_id = $3, name = $4, slicer_settings = $5,
                  parts_per_plate = $6, print_time_s = $7, sliced_file_id = $8,
                  updated_at = now()
           where id = $1 and shop_id = $2"#
    };
    sqlx::query(sql)
        .bind(v.id.0)
        .bind(auth.shop_id)
        .bind(v.model_id.0)
        .bind(v.name.trim())
        .bind(Json(&v.slicer_settings))
        .bind(int(v.parts_per_plate))
        .bind(v.print_time_s.map(int))
        .bind(v.sliced_file_id.map(|f| f.0))
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    sqlx::query("delete from variant_filament where variant_id = $1")
        .bind(v.id.0)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    for n in &v.filament_needs {
        sqlx::query(
            r#"insert into variant_filament (shop_id, variant_id, filament_id, per_unit_cg)
               values ($1, $2, $3, $4)"#,
        )
        .bind(auth.shop_id)
        .bind(v.id.0)
        .bind(n.filament_id.0)
        .bind(n.per_unit_cg.0)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    }
    Ok(())
}

async fn create_variant(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(StatusCode, ApiJson<VariantOut>)> {
    require(&auth, Action::EditCatalogue)?;
    let v: ModelVariant = new_entity(body)?;
    v.validate().map_err(invalid)?;
    let mut tx = state.tx(&auth).await?;
    lock_shop(&mut tx, auth.shop_id).await?;
    write_variant(&mut tx, &auth, &v, true).await?;
    // Every field (filament needs included), as an `entity.set.v1`, for devices.
    let made = fetch_variant(&mut tx, v.id.0).await?.variant;
    rest::set_changed(
        &mut tx,
        &auth,
        EntityKind::Variant,
        v.id.0,
        None,
        &made,
        true,
    )
    .await?;
    let out = fetch_variant(&mut tx, v.id.0).await?;
    tx.commit().await.map_err(db)?;
    Ok((StatusCode::CREATED, ApiJson(out)))
}

/// `PATCH /variants/{id}`: `slicer_settings` and `filament_needs` are replaced as a whole.
async fn update_variant(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<Value>,
) -> ApiResult<ApiJson<VariantOut>> {
    require(&auth, Action::EditCatalogue)?;
    let mut tx = state.tx(&auth).await?;
    lock_shop(&mut tx, auth.shop_id).await?;
    let current = fetch_variant(&mut tx, id).await?;
    let (next, typed): (ModelVariant, VariantPatch) =
        merge_patch(&current.variant, patch, VariantPatch::NULLABLE)?;
    typed.validate().map_err(invalid)?;
    next.validate().map_err(invalid)?;
    write_variant(&mut tx, &auth, &next, false).await?;
    let written = fetch_variant(&mut tx, id).await?.variant;
    rest::set_changed(
        &mut tx,
        &auth,
        EntityKind::Variant,
        id,
        Some(&current.variant),
        &written,
        false,
    )
    .await?;
    let out = fetch_variant(&mut tx, id).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(out))
}

/// `DELETE /variants/{id}`: archives (jobs and products keep referring to it).
async fn archive_variant(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    archive_row(
        &state,
        &auth,
        "model_variant",
        "variant",
        EntityKind::Variant,
        id,
    )
    .await
}

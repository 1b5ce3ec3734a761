//! `POST /imports/spoolman`: vendors, filaments and spools from Spoolman's exports (JSON or
//! CSV, inline) or from a running Spoolman given its address ([`crate::spoolman::import`]).
//! `dry_run` previews what would be created and updated. Records that cannot be imported
//! are listed one by one (422) and nothing is imported.

use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use printstall_core::domain::member::Action;
use serde_json::json;

use super::common::{ApiJson, ApiResult, db, require};
use super::{ApiState, Routes};
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::spoolman::import::{self, SpoolmanImportIn};

pub fn routes(r: Routes) -> Routes {
    r.route("/imports/spoolman", &[Method::POST], post(spoolman))
}

async fn spoolman(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiJson(input): ApiJson<SpoolmanImportIn>,
) -> ApiResult<Response> {
    require(&auth, Action::EditCatalogue)?;
    require(&auth, Action::EditPrices)?;
    let inline = input.vendors.is_some() || input.filaments.is_some() || input.spools.is_some();
    let data = match (&input.url, inline) {
        (Some(_), true) => {
            return Err(ApiError::Unprocessable {
                message: "send either `url` or the exports, not both".into(),
                field: Some("url".into()),
            });
        }
        (None, false) => {
            return Err(ApiError::Unprocessable {
                message: "send `url` (a running Spoolman) or `spools` (and `filaments`, `vendors`) from its exports".into(),
                field: Some("spools".into()),
            });
        }
        (Some(url), false) => import::fetch(url).await?,
        (None, true) => input.records().map_err(|e| ApiError::Unprocessable {
            message: format!("{}: {}", e.resource, e.message),
            field: Some(e.resource.into()),
        })?,
    };
    let mut tx = state.tx(&auth).await?;
    let report = import::import(&mut tx, &auth, &data, input.dry_run).await?;
    if !report.errors.is_empty() {
        let body = json!({
            "error": {
                "code": "invalid_records",
                "message": format!(
                    "{} records cannot be imported (listed in `report.errors`); nothing was imported",
                    report.errors.len()
                ),
            },
            "report": report,
        });
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response());
    }
    if input.dry_run {
        // A preview changes nothing.
        tx.rollback().await.map_err(db)?;
    } else {
        tx.commit().await.map_err(db)?;
    }
    Ok(ApiJson(report).into_response())
}

//! `GET /api/v1/sync/pull?cursor=&limit=`: the cells changed after an opaque cursor,
//! keyset-paged on (version, kind, id).
//!
//! The cursor is `base64url("v1.<epoch>.<version>.<kind>.<id>")`: the shop's epoch and the
//! last row sent. A push gives every cell it changes the push's version, and versions are
//! committed in order (see the lock in [`super::push`]), so a row committed after a page
//! was read always sorts after that page's last row: nothing is skipped. A cursor from
//! another epoch (the database was restored or reset) is answered `409 resync_required`.

use axum::Json;
use axum::extract::State;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;
use uuid::Uuid;

use super::{Member, SyncError, SyncResult, SyncState};
use crate::api::common::ApiQuery;
use crate::error::ApiError;

const DEFAULT_LIMIT: i64 = 500;
const MAX_LIMIT: i64 = 2000;

#[derive(Debug, Deserialize)]
pub struct PullQuery {
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct PulledCell {
    pub kind: String,
    pub id: Uuid,
    pub version: i64,
    /// `printstall_core::sync::CellDoc`; `{}` when everything in it was undone.
    pub cell: Value,
}

#[derive(Debug, Serialize)]
pub struct PullOut {
    pub cells: Vec<PulledCell>,
    /// Send it back to get what changed after this page.
    pub cursor: String,
    /// More pages follow now.
    pub more: bool,
    /// The shop's version when this page was read.
    pub version: i64,
}

/// A position in the shop's change order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub epoch: Uuid,
    pub version: i64,
    pub kind: String,
    pub id: Uuid,
}

impl Cursor {
    pub fn start(epoch: Uuid) -> Self {
        Cursor {
            epoch,
            version: 0,
            kind: String::new(),
            id: Uuid::nil(),
        }
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "v1.{}.{}.{}.{}",
            self.epoch.simple(),
            self.version,
            self.kind,
            self.id.simple()
        ))
    }

    pub fn decode(text: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let mut parts = text.split('.');
        if parts.next()? != "v1" {
            return None;
        }
        let epoch = Uuid::parse_str(parts.next()?).ok()?;
        let version = parts.next()?.parse().ok()?;
        let kind = parts.next()?.to_owned();
        let id = Uuid::parse_str(parts.next()?).ok()?;
        if parts.next().is_some() {
            return None;
        }
        Some(Cursor {
            epoch,
            version,
            kind,
            id,
        })
    }
}

pub async fn handler(
    State(st): State<SyncState>,
    Member(user): Member,
    ApiQuery(q): ApiQuery<PullQuery>,
) -> SyncResult<Json<PullOut>> {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::Unprocessable {
            message: format!("limit is {limit}; ask for 1 to {MAX_LIMIT} cells"),
            field: Some("limit".into()),
        }
        .into());
    }
    let after = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(text) => Some(Cursor::decode(text).ok_or_else(|| {
            ApiError::bad_request(
                "bad_cursor",
                "the cursor is not one this server gave out; pull again from an empty cursor",
            )
        })?),
        None => None,
    };
    let mut tx = crate::tenancy::begin(&st.api.app, user.shop_id, user.user_id).await?;
    let read = r#"select version, epoch from shop_sync where shop_id = $1"#;
    let row = match sqlx::query(read)
        .bind(user.shop_id)
        .fetch_optional(&mut *tx)
        .await?
    {
        Some(row) => row,
        None => {
            // No writer has made the shop's row yet.
            sqlx::query(
                r#"insert into shop_sync (shop_id) values ($1) on conflict (shop_id) do nothing"#,
            )
            .bind(user.shop_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(read)
                .bind(user.shop_id)
                .fetch_one(&mut *tx)
                .await?
        }
    };
    let shop_version: i64 = row.get("version");
    let epoch: Uuid = row.get("epoch");
    let after = match after {
        Some(c) if c.epoch != epoch => return Err(SyncError::ResyncRequired),
        Some(c) => c,
        None => Cursor::start(epoch),
    };
    let rows = sqlx::query(
        r#"select kind, id, version, cell from sync_cell
           where shop_id = $1 and (version, kind, id) > ($2, $3, $4)
           order by version, kind, id
           limit $5"#,
    )
    .bind(user.shop_id)
    .bind(after.version)
    .bind(&after.kind)
    .bind(after.id)
    .bind(limit + 1)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    let cells: Vec<PulledCell> = rows
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(|r| PulledCell {
            kind: r.get("kind"),
            id: r.get("id"),
            version: r.get("version"),
            cell: r.get("cell"),
        })
        .collect();
    let cursor = cells.last().map_or(after.clone(), |c| Cursor {
        epoch,
        version: c.version,
        kind: c.kind.clone(),
        id: c.id,
    });
    Ok(Json(PullOut {
        cells,
        cursor: cursor.encode(),
        more,
        version: shop_version,
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn cursor_round_trips_and_refuses_junk() {
        let c = Cursor {
            epoch: Uuid::now_v7(),
            version: 42,
            kind: "print_job".into(),
            id: Uuid::now_v7(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("not a cursor"), None);
        assert_eq!(Cursor::decode(&URL_SAFE_NO_PAD.encode("v1.x.1.a.b")), None);
    }
}

//! The owner's digest of low stock and low filament: the setting per shop
//! (`GET`/`PUT /shop/digest`) and the sending, done by `printstall digest` (run it from cron
//! or a systemd timer, e.g. each morning). A shop with nothing low gets no message.

use axum::extract::State;
use axum::http::Method;
use axum::routing::get;
use printstall_core::domain::member::Action;
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use super::messages::{self, LowFilament, LowProduct};
use super::{EMAIL_OFF, Mailer, deliverable};
use crate::api::common::{ApiJson, ApiResult, Tx, db, invalid_field, require};
use crate::api::{ApiState, Routes};
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::tenancy;

/// Default filament threshold: 250 g.
pub const DEFAULT_LOW_FILAMENT_CG: i64 = 25_000;
const MAX_LOW_FILAMENT_CG: i64 = 100_000_000;

pub fn routes(r: Routes) -> Routes {
    r.route(
        "/shop/digest",
        &[Method::GET, Method::PUT],
        get(read).put(update),
    )
}

#[derive(Debug, Serialize)]
pub struct DigestOut {
    /// Whether the owners get the digest by email.
    pub enabled: bool,
    /// A filament is low when its spools hold less than this (centigrams).
    pub low_filament_cg: i64,
    /// `on` when this server can send mail, `off` otherwise.
    pub email: &'static str,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_sent_at: Option<OffsetDateTime>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestIn {
    pub enabled: bool,
    #[serde(default)]
    pub low_filament_cg: Option<i64>,
}

fn email_state(state: &ApiState) -> &'static str {
    if state.mailer.is_some() { "on" } else { "off" }
}

async fn read(State(state): State<ApiState>, auth: AuthUser) -> ApiResult<ApiJson<DigestOut>> {
    require(&auth, Action::ManageShop)?;
    let mut tx = state.tx(&auth).await?;
    let row = sqlx::query(
        r#"select enabled, low_filament_cg, last_sent_at from shop_digest where shop_id = $1"#,
    )
    .bind(auth.shop_id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(match row {
        Some(r) => DigestOut {
            enabled: r.get("enabled"),
            low_filament_cg: r.get("low_filament_cg"),
            email: email_state(&state),
            last_sent_at: r.get("last_sent_at"),
        },
        None => DigestOut {
            enabled: false,
            low_filament_cg: DEFAULT_LOW_FILAMENT_CG,
            email: email_state(&state),
            last_sent_at: None,
        },
    }))
}

async fn update(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiJson(input): ApiJson<DigestIn>,
) -> ApiResult<ApiJson<DigestOut>> {
    require(&auth, Action::ManageShop)?;
    if let Some(cg) = input.low_filament_cg
        && !(0..=MAX_LOW_FILAMENT_CG).contains(&cg)
    {
        return Err(invalid_field(
            "low_filament_cg",
            "must be between 0 and 100000000 centigrams (1 t)",
        ));
    }
    if input.enabled && state.mailer.is_none() {
        return Err(ApiError::bad_request(
            "email_off",
            format!("{EMAIL_OFF}, so the digest cannot be switched on"),
        ));
    }
    let mut tx = state.tx(&auth).await?;
    let r = sqlx::query(
        r#"insert into shop_digest (shop_id, enabled, low_filament_cg)
           values ($1, $2, coalesce($3, $4))
           on conflict (shop_id) do update
              set enabled = excluded.enabled,
                  low_filament_cg = coalesce($3, shop_digest.low_filament_cg),
                  updated_at = now()
           returning enabled, low_filament_cg, last_sent_at"#,
    )
    .bind(auth.shop_id)
    .bind(input.enabled)
    .bind(input.low_filament_cg)
    .bind(DEFAULT_LOW_FILAMENT_CG)
    .fetch_one(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(DigestOut {
        enabled: r.get("enabled"),
        low_filament_cg: r.get("low_filament_cg"),
        email: email_state(&state),
        last_sent_at: r.get("last_sent_at"),
    }))
}

/// What one run of `printstall digest` did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DigestReport {
    /// Shops with the digest switched on.
    pub shops: usize,
    /// Messages sent (one per owner with a deliverable address).
    pub sent: usize,
    /// Shops with nothing low (no message).
    pub nothing_low: usize,
    /// Messages the SMTP server did not take.
    pub failed: usize,
}

/// What is low at one shop.
pub struct LowReport {
    pub shop_name: String,
    pub products: Vec<LowProduct>,
    pub filaments: Vec<LowFilament>,
    pub owners: Vec<String>,
}

/// Reads what is low at `shop_id`, on a transaction acting for that shop.
pub async fn low_report(
    tx: &mut Tx,
    shop_id: Uuid,
    low_filament_cg: i64,
) -> Result<LowReport, sqlx::Error> {
    let shop_name: String = sqlx::query_scalar(r#"select name from shop where id = $1"#)
        .bind(shop_id)
        .fetch_one(&mut **tx)
        .await?;
    let products = sqlx::query(
        r#"select sku, name, on_hand, low_stock_threshold from product
           where shop_id = $1 and archived_at is null and active
             and low_stock_threshold is not null and on_hand <= low_stock_threshold
           order by lower(name), sku"#,
    )
    .bind(shop_id)
    .fetch_all(&mut **tx)
    .await?
    .into_iter()
    .map(|r| LowProduct {
        sku: r.get("sku"),
        name: r.get("name"),
        on_hand: r.get("on_hand"),
        threshold: i64::from(r.get::<i32, _>("low_stock_threshold")),
    })
    .collect();
    let filaments = sqlx::query(
        r#"select f.brand, f.material, f.colour_name,
                  coalesce(sum(s.left_cg) filter (where not s.archived), 0)::bigint as left_cg,
                  count(s.id) filter (where not s.archived) as spools
           from filament f
           join spool s on s.shop_id = f.shop_id and s.filament_id = f.id
           where f.shop_id = $1 and f.archived_at is null
           group by f.id, f.brand, f.material, f.colour_name
           having coalesce(sum(s.left_cg) filter (where not s.archived), 0) < $2
           order by lower(f.brand), lower(f.colour_name)"#,
    )
    .bind(shop_id)
    .bind(low_filament_cg)
    .fetch_all(&mut **tx)
    .await?
    .into_iter()
    .map(|r| LowFilament {
        label: format!(
            "{} {} {}",
            r.get::<String, _>("brand"),
            r.get::<String, _>("material").to_ascii_uppercase(),
            r.get::<String, _>("colour_name")
        ),
        left_cg: r.get("left_cg"),
        spools: r.get("spools"),
    })
    .collect();
    let owners = sqlx::query_scalar(
        r#"select u.email from membership m join app_user u on u.id = m.user_id
           where m.shop_id = $1 and m.role = 'owner'
           order by m.created_at"#,
    )
    .bind(shop_id)
    .fetch_all(&mut **tx)
    .await?;
    Ok(LowReport {
        shop_name,
        products,
        filaments,
        owners,
    })
}

/// Sends the digest of every shop that switched it on (or only `only_shop`), on the owner
/// connection `pool`. Errors of one message are counted and logged; the run goes on.
pub async fn send_digests(
    pool: &PgPool,
    mailer: &Mailer,
    only_shop: Option<Uuid>,
) -> Result<DigestReport, sqlx::Error> {
    let shops = sqlx::query(
        r#"select shop_id, low_filament_cg from shop_digest
           where enabled and ($1::uuid is null or shop_id = $1)
           order by shop_id"#,
    )
    .bind(only_shop)
    .fetch_all(pool)
    .await?;
    let mut report = DigestReport {
        shops: shops.len(),
        ..DigestReport::default()
    };
    for row in shops {
        let shop_id: Uuid = row.get("shop_id");
        let mut tx = crate::db::begin(pool).await?;
        tenancy::set_tenant(&mut tx, Some(shop_id), None).await?;
        let low = low_report(&mut tx, shop_id, row.get("low_filament_cg")).await?;
        if low.products.is_empty() && low.filaments.is_empty() {
            report.nothing_low += 1;
            tx.commit().await?;
            continue;
        }
        let text = messages::digest(
            mailer.public_url(),
            &low.shop_name,
            &low.products,
            &low.filaments,
            row.get("low_filament_cg"),
        );
        let mut sent_here = 0;
        for owner in low.owners.iter().filter(|e| deliverable(e)) {
            match mailer.send(owner, &text.subject, text.body.clone()).await {
                Ok(()) => sent_here += 1,
                Err(e) => {
                    report.failed += 1;
                    tracing::warn!(%shop_id, error = %e, "a digest could not be sent");
                }
            }
        }
        if sent_here > 0 {
            sqlx::query(r#"update shop_digest set last_sent_at = now() where shop_id = $1"#)
                .bind(shop_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        report.sent += sent_here;
    }
    Ok(report)
}

//! Spoolman's response shapes (its OpenAPI `Vendor`, `Filament`, `Spool`), read from our
//! tables. Optional fields that are empty are left out, as Spoolman does
//! (`response_model_exclude_none`).

use std::collections::BTreeMap;

use printstall_core::domain::Centigrams;
use printstall_core::domain::filament::Material;
use printstall_core::domain::spoolman as sm;
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use time::OffsetDateTime;

/// The Spoolman version whose API this one follows (clients show it).
pub const SPOOLMAN_VERSION: &str = "0.22.1";

fn when(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
        .replace("+00:00", "Z")
}

#[derive(Debug, Clone, Serialize)]
pub struct SmVendorOut {
    pub id: i64,
    pub registered: String,
    pub name: String,
    pub extra: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SmFilamentOut {
    pub id: i64,
    pub registered: String,
    pub name: String,
    pub vendor: SmVendorOut,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub material: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    pub density: f64,
    pub diameter: f64,
    pub weight: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spool_weight: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub article_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings_extruder_temp: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings_bed_temp: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color_hex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multi_color_hexes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multi_color_direction: Option<String>,
    pub extra: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SmSpoolOut {
    pub id: i64,
    pub registered: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_used: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used: Option<String>,
    pub filament: SmFilamentOut,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    pub remaining_weight: f64,
    pub initial_weight: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spool_weight: Option<f64>,
    pub used_weight: f64,
    pub remaining_length: f64,
    pub used_length: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lot_nr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub archived: bool,
    pub extra: BTreeMap<String, String>,
}

fn money(minor: Option<i64>) -> Option<f64> {
    minor.map(|m| m as f64 / 100.0)
}

const FILAMENT_COLUMNS: &str = r#"f.id as f_id, f.brand, f.material, f.colour_name, f.colour_hex,
    f.multi_hexes, f.diameter, f.density_mg_cm3, f.net_weight_cg, f.empty_spool_cg as f_empty_cg,
    f.price_per_spool, f.nozzle_temp_c, f.bed_temp_c, f.article_number, f.created_at as f_created,
    fi.num as f_num, vi.num as v_num, vi.registered as v_registered"#;

const FILAMENT_JOINS: &str = r#"join spoolman_id fi on fi.kind = 'filament' and fi.ref_id = f.id
    join spoolman_id vi on vi.kind = 'vendor' and vi.vendor_key = lower(btrim(f.brand))"#;

fn filament_from(r: &PgRow) -> SmFilamentOut {
    let material: String = r.get("material");
    let material = serde_json::from_value::<Material>(serde_json::Value::String(material))
        .map(sm::material_label)
        .unwrap_or("Other");
    let hex: String = r.get("colour_hex");
    let multi: Vec<String> = r.get("multi_hexes");
    let diameter: String = r.get("diameter");
    let density: i32 = r.get("density_mg_cm3");
    let multi_hexes = (!multi.is_empty()).then(|| {
        std::iter::once(&hex)
            .chain(multi.iter())
            .map(|h| sm::hex_to_spoolman(h))
            .collect::<Vec<_>>()
            .join(",")
    });
    SmFilamentOut {
        id: i64::from(r.get::<i32, _>("f_num")),
        registered: when(r.get("f_created")),
        name: r.get("colour_name"),
        vendor: SmVendorOut {
            id: i64::from(r.get::<i32, _>("v_num")),
            registered: when(r.get("v_registered")),
            name: r.get("brand"),
            extra: BTreeMap::new(),
        },
        material: Some(material.to_owned()),
        price: money(r.get("price_per_spool")),
        density: f64::from(density) / 1000.0,
        diameter: diameter.parse().unwrap_or(1.75),
        weight: sm::grams(Centigrams(r.get("net_weight_cg"))),
        spool_weight: r
            .get::<Option<i64>, _>("f_empty_cg")
            .map(|c| sm::grams(Centigrams(c))),
        article_number: r.get("article_number"),
        settings_extruder_temp: r.get("nozzle_temp_c"),
        settings_bed_temp: r.get("bed_temp_c"),
        color_hex: multi_hexes.is_none().then(|| sm::hex_to_spoolman(&hex)),
        multi_color_direction: multi_hexes.as_ref().map(|_| "coaxial".to_owned()),
        multi_color_hexes: multi_hexes,
        extra: BTreeMap::new(),
    }
}

/// The shop's spools (or the one numbered `num`), with their filament and vendor, by number.
pub async fn load_spools(
    conn: &mut PgConnection,
    num: Option<i64>,
) -> Result<Vec<SmSpoolOut>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        r#"select s.initial_net_cg, s.left_cg, s.empty_spool_cg, s.price_paid, s.location,
                  s.lot_number, s.archived, s.created_at, s.first_used_at, s.last_used_at,
                  si.num as s_num, {FILAMENT_COLUMNS}
           from spool s
           join filament f on f.id = s.filament_id
           join spoolman_id si on si.kind = 'spool' and si.ref_id = s.id
           {FILAMENT_JOINS}
           where ($1::integer is null or si.num = $1)
           order by si.num"#
    ))
    .bind(num.and_then(|n| i32::try_from(n).ok()))
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let filament = filament_from(r);
            let initial = Centigrams(r.get("initial_net_cg"));
            let left = Centigrams(r.get("left_cg"));
            let used = Centigrams((initial.0 - left.0).max(0));
            let length = |cg: Centigrams| {
                sm::length_for_grams(sm::grams(cg), filament.diameter, filament.density)
            };
            SmSpoolOut {
                id: i64::from(r.get::<i32, _>("s_num")),
                registered: when(r.get("created_at")),
                first_used: r
                    .get::<Option<OffsetDateTime>, _>("first_used_at")
                    .map(when),
                last_used: r.get::<Option<OffsetDateTime>, _>("last_used_at").map(when),
                price: money(r.get("price_paid")),
                remaining_weight: sm::grams(left),
                initial_weight: sm::grams(initial),
                spool_weight: r
                    .get::<Option<i64>, _>("empty_spool_cg")
                    .map(|c| sm::grams(Centigrams(c))),
                used_weight: sm::grams(used),
                remaining_length: length(left),
                used_length: length(used),
                location: r.get("location"),
                lot_nr: r.get("lot_number"),
                comment: None,
                archived: r.get("archived"),
                extra: BTreeMap::new(),
                filament,
            }
        })
        .collect())
}

/// The shop's filaments (or the one numbered `num`), by number.
pub async fn load_filaments(
    conn: &mut PgConnection,
    num: Option<i64>,
) -> Result<Vec<SmFilamentOut>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        r#"select {FILAMENT_COLUMNS} from filament f {FILAMENT_JOINS}
           where ($1::integer is null or fi.num = $1)
           order by fi.num"#
    ))
    .bind(num.and_then(|n| i32::try_from(n).ok()))
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.iter().map(filament_from).collect())
}

/// The shop's vendors (its filament brands), by number.
pub async fn load_vendors(
    conn: &mut PgConnection,
    num: Option<i64>,
) -> Result<Vec<SmVendorOut>, sqlx::Error> {
    let rows = sqlx::query(
        r#"select vi.num, vi.registered,
                  (select min(f.brand) from filament f where lower(btrim(f.brand)) = vi.vendor_key) as name
           from spoolman_id vi
           where vi.kind = 'vendor' and ($1::integer is null or vi.num = $1)
           order by vi.num"#,
    )
    .bind(num.and_then(|n| i32::try_from(n).ok()))
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some(SmVendorOut {
                id: i64::from(r.get::<i32, _>("num")),
                registered: when(r.get("registered")),
                name: r.get::<Option<String>, _>("name")?,
                extra: BTreeMap::new(),
            })
        })
        .collect())
}

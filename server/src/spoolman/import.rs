//! Importing from Spoolman: its exports (`/api/v1/export/{vendors,filaments,spools}`, JSON
//! or CSV) or a running Spoolman's API. Vendors become filament brands; filaments and spools
//! come over with weights, prices, locations, lot numbers and colours. Each imported row
//! remembers its Spoolman id (`spoolman_id.source_id`), so importing the same data again
//! updates it, never duplicates it; new rows keep their Spoolman number when it is free, so
//! printers configured with a spool id go on working.
//!
//! All or nothing: every record is read and checked first; one bad record refuses the whole
//! import with an error per record, and nothing changes. Every change is an op applied with
//! the sync rules, as the app's are, so devices pull what was imported: filaments and spools
//! as `entity.set.v1` of their changed fields, grams left as a weighing (`spool.weigh.v1`),
//! so the ledger explains every gram.

use std::collections::BTreeMap;

use printstall_core::domain::filament::{Colour, Filament};
use printstall_core::domain::spool::Spool;
use printstall_core::domain::spoolman::{
    self as sm, Flat, SmFilament, SmSpool, SmVendor, flatten_json,
};
use printstall_core::domain::{Centigrams, FilamentId, SpoolId};
use printstall_core::money::Minor;
use printstall_core::sync::op::SpoolWeigh;
use printstall_core::sync::{EntityKind, OpBody};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::ids;
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::sync::push::lock_shop;
use crate::sync::rest;

/// Most records of one kind in one import.
pub const MAX_RECORDS: usize = 20_000;
/// Largest export read from a Spoolman server, per kind.
pub const MAX_FETCH_BYTES: usize = 32 * 1024 * 1024;

/// The records of one import, each flat (`filament.vendor.name`).
#[derive(Debug, Default)]
pub struct SpoolmanData {
    pub vendors: Vec<Flat>,
    pub filaments: Vec<Flat>,
    pub spools: Vec<Flat>,
}

/// A record that cannot be imported, and why.
#[derive(Debug, Clone, Serialize)]
pub struct RecordError {
    /// `vendors`, `filaments` or `spools`.
    pub resource: &'static str,
    /// Its place in its list (0-based; the CSV line is `row + 2`).
    pub row: usize,
    /// Its Spoolman id, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i32>,
    pub message: String,
}

/// What an import did (or, for a preview, would do).
#[derive(Debug, Default, Serialize)]
pub struct ImportReport {
    pub dry_run: bool,
    pub filaments_created: usize,
    pub filaments_updated: usize,
    pub spools_created: usize,
    pub spools_updated: usize,
    pub errors: Vec<RecordError>,
}

/// Reads one export: a JSON array (export or API list), or CSV text with a header line
/// (comma or semicolon; a UTF-8 BOM is skipped).
pub fn parse_export(resource: &'static str, text: &str) -> Result<Vec<Flat>, RecordError> {
    let fail = |message: String| RecordError {
        resource,
        row: 0,
        id: None,
        message,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        let v: Value = serde_json::from_str(trimmed)
            .map_err(|e| fail(format!("the JSON export cannot be read: {e}")))?;
        return from_json(resource, &v);
    }
    let first = text.lines().next().unwrap_or_default();
    let delimiter = if first.matches(';').count() > first.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| fail(format!("the CSV header cannot be read: {e}")))?
        .clone();
    if !headers.iter().any(|h| h == "id") {
        return Err(fail(
            "the CSV has no `id` column; export it from Spoolman (Settings, Export) and upload that file".into(),
        ));
    }
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| RecordError {
            resource,
            row: i,
            id: None,
            message: format!("line {} cannot be read: {e}", i + 2),
        })?;
        if out.len() >= MAX_RECORDS {
            return Err(fail(format!(
                "more than {MAX_RECORDS} {resource}; import at most {MAX_RECORDS} at once"
            )));
        }
        out.push(
            headers
                .iter()
                .zip(record.iter())
                .filter(|(_, v)| !v.is_empty())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect(),
        );
    }
    Ok(out)
}

/// Reads a JSON array of records (flat export objects or nested API objects).
pub fn from_json(resource: &'static str, v: &Value) -> Result<Vec<Flat>, RecordError> {
    let items = v.as_array().ok_or_else(|| RecordError {
        resource,
        row: 0,
        id: None,
        message: "must be a JSON array of records".into(),
    })?;
    if items.len() > MAX_RECORDS {
        return Err(RecordError {
            resource,
            row: 0,
            id: None,
            message: format!(
                "{} records; import at most {MAX_RECORDS} at once",
                items.len()
            ),
        });
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            if item.is_object() {
                Ok(flatten_json(item))
            } else {
                Err(RecordError {
                    resource,
                    row: i,
                    id: None,
                    message: "is not a JSON object".into(),
                })
            }
        })
        .collect()
}

/// Fetches the three exports from a running Spoolman at `base` (e.g.
/// `http://spoolman.local:7912`).
pub async fn fetch(base: &str) -> Result<SpoolmanData, ApiError> {
    let base = base.trim().trim_end_matches('/');
    let url = reqwest::Url::parse(base).map_err(|e| ApiError::Unprocessable {
        message: format!(
            "url: {base:?} is not an address ({e}); enter one like http://spoolman.local:7912"
        ),
        field: Some("url".into()),
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ApiError::Unprocessable {
            message: "url: must start with http:// or https://".into(),
            field: Some("url".into()),
        });
    }
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::limited(3))
        .build()
        .map_err(ApiError::internal)?;
    let mut data = SpoolmanData::default();
    for (resource, query) in [
        ("vendors", "fmt=json"),
        ("filaments", "fmt=json"),
        ("spools", "fmt=json&allow_archived=true"),
    ] {
        let address = format!("{base}/api/v1/export/{resource}?{query}");
        let unreachable = |e: String| ApiError::Unprocessable {
            message: format!("url: the Spoolman at {base} did not answer {address}: {e}"),
            field: Some("url".into()),
        };
        let mut response = client
            .get(&address)
            .send()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(unreachable(format!("status {}", response.status())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| unreachable(e.to_string()))?
        {
            if body.len() + chunk.len() > MAX_FETCH_BYTES {
                return Err(unreachable(format!(
                    "the export is larger than {} MiB",
                    MAX_FETCH_BYTES / (1024 * 1024)
                )));
            }
            body.extend_from_slice(&chunk);
        }
        let text = String::from_utf8(body)
            .map_err(|_| unreachable("the answer is not UTF-8 text".into()))?;
        let records = parse_export(resource, &text).map_err(|e| ApiError::Unprocessable {
            message: format!("{resource}: {}", e.message),
            field: Some(resource.into()),
        })?;
        match resource {
            "vendors" => data.vendors = records,
            "filaments" => data.filaments = records,
            _ => data.spools = records,
        }
    }
    Ok(data)
}

/// Everything read and checked, ready to write.
struct Plan {
    filaments: BTreeMap<i32, Filament>,
    spools: Vec<(SmSpool, Spool, Centigrams)>,
}

fn plan(data: &SpoolmanData, errors: &mut Vec<RecordError>) -> Plan {
    let mut vendors: BTreeMap<i32, SmVendor> = BTreeMap::new();
    for (i, r) in data.vendors.iter().enumerate() {
        match sm::read_vendor(r, "") {
            Ok(Some(v)) => {
                vendors.insert(v.id, v);
            }
            Ok(None) => errors.push(RecordError {
                resource: "vendors",
                row: i,
                id: None,
                message: "id is missing".into(),
            }),
            Err(message) => errors.push(RecordError {
                resource: "vendors",
                row: i,
                id: None,
                message,
            }),
        }
    }
    let mut read: BTreeMap<i32, SmFilament> = BTreeMap::new();
    let mut note = |resource, row, id, message| {
        errors.push(RecordError {
            resource,
            row,
            id,
            message,
        })
    };
    for (i, r) in data.filaments.iter().enumerate() {
        match sm::read_filament(r, "") {
            Ok(f) => {
                read.insert(f.id, f);
            }
            Err(m) => note("filaments", i, None, m),
        }
    }
    let mut spools = Vec::new();
    for (i, r) in data.spools.iter().enumerate() {
        let s = match sm::read_spool(r) {
            Ok(s) => s,
            Err(m) => {
                note("spools", i, None, m);
                continue;
            }
        };
        if !read.contains_key(&s.filament_id) && r.contains_key("filament.id") {
            match sm::read_filament(r, "filament.") {
                Ok(f) => {
                    read.insert(f.id, f);
                }
                Err(m) => {
                    note("spools", i, Some(s.id), m);
                    continue;
                }
            }
        }
        spools.push((i, s));
    }
    // Filaments as ours: the brand from the vendor, the full weight from a spool if needed.
    let mut filaments = BTreeMap::new();
    for (id, f) in &read {
        let brand = f
            .brand
            .clone()
            .or_else(|| {
                f.vendor_id
                    .and_then(|v| vendors.get(&v))
                    .map(|v| v.name.clone())
            })
            .unwrap_or_else(|| "Unknown".into());
        let net = f
            .net_weight_cg
            .or_else(|| {
                spools
                    .iter()
                    .find(|(_, s)| s.filament_id == *id)
                    .and_then(|(_, s)| s.initial_net_cg)
            })
            .unwrap_or(Centigrams::KG);
        let empty = f.empty_spool_cg.or_else(|| {
            f.vendor_id
                .and_then(|v| vendors.get(&v))
                .and_then(|v| v.empty_spool_cg)
        });
        let ours = Filament {
            id: FilamentId(Uuid::now_v7()),
            brand,
            material: f.material,
            colour: Colour {
                name: f.colour_name.clone(),
                hex: f.colour_hex.clone(),
                multi_hexes: f.multi_hexes.clone(),
            },
            diameter: f.diameter,
            density_mg_cm3: f.density_mg_cm3,
            net_weight_cg: net,
            empty_spool_cg: empty,
            price_per_spool: f.price.map(Minor),
            nozzle_temp_c: f.nozzle_temp_c,
            bed_temp_c: f.bed_temp_c,
            article_number: f.article_number.clone(),
            ean: None,
        };
        match ours.validate() {
            Ok(()) => {
                filaments.insert(*id, ours);
            }
            Err(e) => note("filaments", 0, Some(*id), e.to_string()),
        }
    }
    let mut out = Vec::new();
    for (i, s) in spools {
        let Some(f) = filaments.get(&s.filament_id) else {
            if read.contains_key(&s.filament_id) {
                continue; // its filament's error is reported already
            }
            note(
                "spools",
                i,
                Some(s.id),
                format!(
                    "its filament {} is in neither the filaments nor the spool record; import the filaments export too",
                    s.filament_id
                ),
            );
            continue;
        };
        let initial = s.initial_net_cg.unwrap_or(f.net_weight_cg);
        let left = Centigrams((initial.0 - s.used_cg.0).max(0));
        let spool = Spool {
            id: SpoolId(Uuid::now_v7()),
            filament_id: f.id,
            initial_net_cg: initial,
            empty_spool_cg: s.empty_spool_cg,
            price_paid: s.price.map(Minor),
            purchase_date: None,
            location: s.location.clone(),
            lot_number: s.lot_number.clone(),
            barcode: Some(sm::spool_qr_payload(s.id)),
            nfc_tag_id: None,
            archived: s.archived,
        };
        match spool.validate() {
            Ok(()) => out.push((s, spool, left)),
            Err(e) => note("spools", i, Some(s.id), e.to_string()),
        }
    }
    Plan {
        filaments,
        spools: out,
    }
}

/// Imports `data` for the shop of `auth` (an owner) in the transaction on `conn`; with
/// `dry_run`, only counts what would be created and updated. Record errors refuse the
/// whole import (the report lists them; nothing is written).
pub async fn import(
    conn: &mut PgConnection,
    auth: &AuthUser,
    data: &SpoolmanData,
    dry_run: bool,
) -> Result<ImportReport, ApiError> {
    let mut report = ImportReport {
        dry_run,
        ..ImportReport::default()
    };
    let plan = plan(data, &mut report.errors);
    if !report.errors.is_empty() {
        return Ok(report);
    }
    lock_shop(conn, auth.shop_id).await?;
    ids::ensure(conn, auth.shop_id)
        .await
        .map_err(crate::api::common::db)?;
    ids::lock(conn, auth.shop_id)
        .await
        .map_err(crate::api::common::db)?;
    let db = crate::api::common::db;
    let mut ours: BTreeMap<i32, Uuid> = BTreeMap::new();
    for (source, f) in &plan.filaments {
        let existing = ids::imported(conn, "filament", *source).await.map_err(db)?;
        let current = match existing {
            Some(id) => Some(crate::api::filaments::fetch(conn, id).await?.filament),
            None => None,
        };
        // Spoolman has no EAN: the one entered here stays.
        let next = match &current {
            Some(c) => Filament {
                id: c.id,
                ean: c.ean.clone(),
                ..f.clone()
            },
            None => f.clone(),
        };
        ours.insert(*source, next.id.0);
        if current.is_some() {
            report.filaments_updated += 1;
        } else {
            report.filaments_created += 1;
        }
        if dry_run {
            continue;
        }
        rest::set_changed(
            conn,
            auth,
            EntityKind::Filament,
            next.id.0,
            current.as_ref(),
            &next,
            true,
        )
        .await?;
        if current.is_none() {
            ids::assign(conn, auth.shop_id, "filament", next.id.0, *source)
                .await
                .map_err(db)?;
        }
    }
    for (s, spool, left) in &plan.spools {
        let filament = ours
            .get(&s.filament_id)
            .copied()
            .ok_or_else(|| ApiError::internal("a planned spool lost its filament"))?;
        let existing = ids::imported(conn, "spool", s.id).await.map_err(db)?;
        if existing.is_some() {
            report.spools_updated += 1;
        } else {
            report.spools_created += 1;
        }
        if dry_run {
            continue;
        }
        let current = match existing {
            Some(id) => Some(crate::api::spools::fetch(conn, id).await?.spool),
            None => None,
        };
        // What Spoolman does not have (purchase date, NFC tag) and the barcode stay as
        // they are here; a new spool's barcode is its Spoolman QR payload.
        let next = match &current {
            Some(c) => Spool {
                id: c.id,
                filament_id: FilamentId(filament),
                purchase_date: c.purchase_date,
                barcode: c.barcode.clone(),
                nfc_tag_id: c.nfc_tag_id.clone(),
                ..spool.clone()
            },
            None => Spool {
                filament_id: FilamentId(filament),
                ..spool.clone()
            },
        };
        let id = next.id.0;
        // A new spool starts full; a changed initial weight moves grams left with it.
        rest::set_changed(
            conn,
            auth,
            EntityKind::Spool,
            id,
            current.as_ref(),
            &next,
            true,
        )
        .await?;
        if current.is_none() {
            ids::assign(conn, auth.shop_id, "spool", id, s.id)
                .await
                .map_err(db)?;
        }
        let current_left = crate::api::spools::fetch(conn, id).await?.left_cg;
        if current_left != *left {
            // Grams left as Spoolman has them: a weighing (a count that later uses add to).
            let empty = spool.empty_spool_cg.unwrap_or(Centigrams::ZERO);
            let body = OpBody::SpoolWeigh(SpoolWeigh {
                spool_id: SpoolId(id),
                gross_cg: Centigrams(left.0 + empty.0),
                empty_spool_cg: empty,
                note: Some(format!("imported from Spoolman (spool {})", s.id)),
            });
            rest::apply(conn, auth, body, true)
                .await
                .map_err(|e| match e {
                    ApiError::Conflict(m) => ApiError::Conflict(format!("spool {}: {m}", s.id)),
                    other => other,
                })?;
        }
    }
    if !dry_run {
        ids::ensure(conn, auth.shop_id).await.map_err(db)?;
    }
    Ok(report)
}

/// The body of `POST /imports/spoolman`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpoolmanImportIn {
    /// A running Spoolman to read from (`http://host:7912`), instead of the exports.
    #[serde(default)]
    pub url: Option<String>,
    /// Each export: a JSON array, or the export file's text (JSON or CSV).
    #[serde(default)]
    pub vendors: Option<Value>,
    #[serde(default)]
    pub filaments: Option<Value>,
    #[serde(default)]
    pub spools: Option<Value>,
    /// Only say what would change.
    #[serde(default)]
    pub dry_run: bool,
}

impl SpoolmanImportIn {
    /// The records given inline (not from a URL).
    pub fn records(&self) -> Result<SpoolmanData, RecordError> {
        let one = |resource: &'static str, v: &Option<Value>| -> Result<Vec<Flat>, RecordError> {
            match v {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::String(text)) => parse_export(resource, text),
                Some(other) => from_json(resource, other),
            }
        };
        Ok(SpoolmanData {
            vendors: one("vendors", &self.vendors)?,
            filaments: one("filaments", &self.filaments)?,
            spools: one("spools", &self.spools)?,
        })
    }
}

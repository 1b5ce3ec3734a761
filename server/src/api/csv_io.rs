//! CSV export and import of products, stock levels, filaments, spools and sales:
//! `GET /csv/{kind}` answers the file; `POST /csv/{kind}` with
//! `{"csv": text}` (or `{"csv_base64": bytes}` for a file as saved) and `dry_run` first
//! previews what would be created, updated or left as is, and every row that would be
//! rejected and why; without `dry_run` the same work is committed in one transaction.
//! One rejected row refuses the whole file: nothing is half-imported.
//!
//! UTF-8 with or without a byte-order mark; comma or semicolon separated (a semicolon file
//! may use decimal commas). Column names: [`printstall_core::domain::csv_rows`] and README.
//! Product changes and stock counts are ops applied with the sync rules; grams left of a
//! spool are set by a weighing op.

use std::collections::{BTreeMap, HashMap, HashSet};

use axum::Json;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use printstall_core::domain::csv_rows::{
    self as rows, CsvKind, FilamentKey, Numbers, Row, format_decimal,
};
use printstall_core::domain::filament::Filament;
use printstall_core::domain::member::Action;
use printstall_core::domain::product::Product;
use printstall_core::domain::{Centigrams, FilamentId, ProductId, SpoolId, ValidationError};
use printstall_core::sync::op::{SpoolWeigh, StockCount};
use printstall_core::sync::{EntityKind, OpBody};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{PgConnection, Row as _};
use uuid::Uuid;

use super::common::{ApiJson, ApiPath, ApiQuery, ApiResult, ListQuery, db, require};
use super::spools::SpoolOut;
use super::{ApiState, Routes};
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::sync::push::{Status, apply_server_op, lock_shop};
use crate::sync::rest;

/// A row of the file: its line number, and its cells or why they cannot be read.
type Line = (usize, Result<Row, String>);

/// Most rows one import may have.
pub const MAX_ROWS: usize = 10_000;
/// Largest file one import may send.
pub const MAX_BYTES: usize = 8 * 1024 * 1024;
/// Most rows one export writes.
pub const MAX_EXPORT_ROWS: i64 = 100_000;

pub fn routes(r: Routes) -> Routes {
    r.route(
        "/csv/{kind}",
        &[Method::GET, Method::POST],
        get(export)
            .post(import)
            .layer(DefaultBodyLimit::max(MAX_BYTES * 2)),
    )
}

fn kind_of(name: &str) -> ApiResult<CsvKind> {
    CsvKind::from_name(name).ok_or_else(|| {
        ApiError::NotFound(format!(
            "CSV kind `{name}` (use products, stock, filaments, spools or sales)"
        ))
    })
}

fn cents(v: Option<i64>) -> String {
    v.map(|c| format_decimal(c, 2)).unwrap_or_default()
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// `GET /csv/{kind}`: the whole table (at most [`MAX_EXPORT_ROWS`] rows), comma
/// separated, decimal points. The common list parameters are checked but an export is
/// never paged.
async fn export(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Response> {
    q.limit()?;
    q.after()?;
    q.pattern()?;
    let kind = kind_of(&name)?;
    require(&auth, Action::Export)?;
    let mut tx = state.tx(&auth).await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let put = |out: &mut csv::Writer<Vec<u8>>, rec: Vec<String>| {
        out.write_record(&rec).map_err(ApiError::internal)
    };
    put(
        &mut out,
        kind.columns().iter().map(|c| (*c).to_owned()).collect(),
    )?;
    let sql = match kind {
        CsvKind::Products => {
            r#"select sku, name, price, unit_cost, barcode, location, low_stock_threshold, tags,
                      active from product where archived_at is null order by sku limit $1"#
        }
        CsvKind::Stock => {
            r#"select sku, name, on_hand from product where archived_at is null order by sku limit $1"#
        }
        CsvKind::Filaments => {
            r#"select brand, material, colour_name, colour_hex, multi_hexes, diameter,
                      density_mg_cm3, net_weight_cg, empty_spool_cg, price_per_spool,
                      nozzle_temp_c, bed_temp_c, article_number, ean
               from filament where archived_at is null
               order by lower(brand), material, lower(colour_name), diameter limit $1"#
        }
        CsvKind::Spools => {
            r#"select s.id, f.brand, f.material, f.colour_name, f.diameter, s.initial_net_cg,
                      s.left_cg, s.empty_spool_cg, s.price_paid, s.purchase_date, s.location,
                      s.lot_number, s.barcode, s.nfc_tag_id, s.archived
               from spool s join filament f on f.id = s.filament_id
               order by s.created_at, s.id limit $1"#
        }
        CsvKind::Sales => {
            r#"select s.id, s.taken_at, s.payment_method, s.voided, l.line_no, p.sku, p.name,
                      l.quantity, l.unit_price, s.subtotal, s.discount, s.total, s.tax
               from sale s join sale_line l on l.sale_id = s.id
               join product p on p.id = l.product_id
               order by s.taken_at, s.id, l.line_no limit $1"#
        }
    };
    let records = sqlx::query(sql)
        .bind(MAX_EXPORT_ROWS)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
    tx.commit().await.map_err(db)?;
    for r in &records {
        let rec: Vec<String> = match kind {
            CsvKind::Products => vec![
                r.get("sku"),
                r.get("name"),
                format_decimal(r.get("price"), 2),
                cents(r.get("unit_cost")),
                opt(r.get::<Option<String>, _>("barcode")),
                opt(r.get::<Option<String>, _>("location")),
                opt(r.get::<Option<i32>, _>("low_stock_threshold")),
                r.get::<Vec<String>, _>("tags").join("|"),
                r.get::<bool, _>("active").to_string(),
            ],
            CsvKind::Stock => vec![
                r.get("sku"),
                r.get("name"),
                r.get::<i64, _>("on_hand").to_string(),
            ],
            CsvKind::Filaments => vec![
                r.get("brand"),
                r.get("material"),
                r.get("colour_name"),
                r.get("colour_hex"),
                r.get::<Vec<String>, _>("multi_hexes").join("|"),
                r.get("diameter"),
                format_decimal(i64::from(r.get::<i32, _>("density_mg_cm3")), 3),
                format_decimal(r.get("net_weight_cg"), 2),
                cents(r.get("empty_spool_cg")),
                cents(r.get("price_per_spool")),
                opt(r.get::<Option<i32>, _>("nozzle_temp_c")),
                opt(r.get::<Option<i32>, _>("bed_temp_c")),
                opt(r.get::<Option<String>, _>("article_number")),
                opt(r.get::<Option<String>, _>("ean")),
            ],
            CsvKind::Spools => vec![
                r.get::<Uuid, _>("id").to_string(),
                r.get("brand"),
                r.get("material"),
                r.get("colour_name"),
                r.get("diameter"),
                format_decimal(r.get("initial_net_cg"), 2),
                format_decimal(r.get("left_cg"), 2),
                cents(r.get("empty_spool_cg")),
                cents(r.get("price_paid")),
                opt(r.get::<Option<time::Date>, _>("purchase_date")),
                opt(r.get::<Option<String>, _>("location")),
                opt(r.get::<Option<String>, _>("lot_number")),
                opt(r.get::<Option<String>, _>("barcode")),
                opt(r.get::<Option<String>, _>("nfc_tag_id")),
                r.get::<bool, _>("archived").to_string(),
            ],
            CsvKind::Sales => vec![
                r.get::<Uuid, _>("id").to_string(),
                r.get::<time::OffsetDateTime, _>("taken_at")
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                r.get("payment_method"),
                r.get::<bool, _>("voided").to_string(),
                r.get::<i32, _>("line_no").to_string(),
                r.get("sku"),
                r.get("name"),
                r.get::<i32, _>("quantity").to_string(),
                format_decimal(r.get("unit_price"), 2),
                format_decimal(r.get("subtotal"), 2),
                format_decimal(r.get("discount"), 2),
                format_decimal(r.get("total"), 2),
                format_decimal(r.get("tax"), 2),
            ],
        };
        put(&mut out, rec)?;
    }
    let bytes = out.into_inner().map_err(ApiError::internal)?;
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}.csv\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvIn {
    /// The file as text.
    #[serde(default)]
    pub csv: Option<String>,
    /// The file's bytes as saved, base64 (its encoding is checked here).
    #[serde(default)]
    pub csv_base64: Option<String>,
    /// Only say what would happen.
    #[serde(default)]
    pub dry_run: bool,
}

/// A row that cannot be imported.
#[derive(Debug, Clone, Serialize)]
pub struct Rejected {
    /// The line in the file (the header is line 1).
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub message: String,
}

/// What an import did, or would do.
#[derive(Debug, Default, Serialize)]
pub struct CsvReport {
    pub kind: String,
    pub dry_run: bool,
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub rejected: Vec<Rejected>,
}

fn request_error(message: impl Into<String>) -> ApiError {
    ApiError::Unprocessable {
        message: message.into(),
        field: Some("csv".into()),
    }
}

/// The file's text: the bytes checked as UTF-8 (a byte-order mark is dropped).
fn decode(input: &CsvIn) -> ApiResult<String> {
    let bytes = match (&input.csv, &input.csv_base64) {
        (Some(text), None) => text.clone().into_bytes(),
        (None, Some(b64)) => base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|_| ApiError::Unprocessable {
                message: "csv_base64: is not base64".into(),
                field: Some("csv_base64".into()),
            })?,
        _ => {
            return Err(request_error(
                "send the file as `csv` (text) or `csv_base64`, one of them",
            ));
        }
    };
    if bytes.len() > MAX_BYTES {
        return Err(request_error(format!(
            "the file is larger than {} MiB; split it into several files",
            MAX_BYTES / (1024 * 1024)
        )));
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    match std::str::from_utf8(body) {
        Ok(t) => Ok(t.to_owned()),
        Err(e) => {
            let line = body[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1;
            Err(request_error(format!(
                "line {line} is not UTF-8 text; save the file as \"CSV UTF-8\" and try again"
            )))
        }
    }
}

/// The rows of `text`, each with its line number; request errors for the header and for
/// a file over [`MAX_ROWS`] rows (reading stops there).
fn read(kind: CsvKind, text: &str) -> ApiResult<(Numbers, Vec<Line>)> {
    let first = text.lines().next().unwrap_or_default();
    let semicolon = first.matches(';').count() > first.matches(',').count();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(if semicolon { b';' } else { b',' })
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| request_error(format!("the header line cannot be read: {e}")))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    if headers.iter().all(String::is_empty) {
        return Err(request_error(
            "the file is empty; the first line names the columns",
        ));
    }
    kind.check_headers(&headers).map_err(request_error)?;
    let mut out = Vec::new();
    for record in reader.records() {
        if out.len() >= MAX_ROWS {
            return Err(request_error(format!(
                "the file has more than {MAX_ROWS} rows; split it into files of at most {MAX_ROWS} rows"
            )));
        }
        let line = out.len() + 2;
        let row = match record {
            Err(e) => Err(format!("cannot be read: {e}")),
            Ok(r) if r.len() != headers.len() => Err(format!(
                "has {} cells, the header has {} columns",
                r.len(),
                headers.len()
            )),
            Ok(r) => Ok(headers
                .iter()
                .zip(r.iter())
                .filter(|(_, v)| !v.trim().is_empty())
                .map(|(h, v)| (h.clone(), v.to_owned()))
                .collect()),
        };
        out.push((line, row));
    }
    Ok((
        Numbers {
            decimal_comma: semicolon,
        },
        out,
    ))
}

fn reject(report: &mut CsvReport, line: usize, e: ValidationError) {
    report.rejected.push(Rejected {
        line,
        column: Some(e.field),
        message: e.message,
    });
}

/// `POST /csv/{kind}`.
async fn import(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(name): ApiPath<String>,
    ApiJson(input): ApiJson<CsvIn>,
) -> ApiResult<Response> {
    let kind = kind_of(&name)?;
    require(&auth, Action::EditCatalogue)?;
    if kind != CsvKind::Stock {
        require(&auth, Action::EditPrices)?;
    }
    let text = decode(&input)?;
    let (numbers, lines) = read(kind, &text)?;
    let mut report = CsvReport {
        kind: name.clone(),
        dry_run: input.dry_run,
        rows: lines.len(),
        ..CsvReport::default()
    };
    let mut tx = state.tx(&auth).await?;
    lock_shop(&mut tx, auth.shop_id).await?;
    match kind {
        CsvKind::Products => products(&mut tx, &auth, numbers, &lines, &mut report).await?,
        CsvKind::Stock => stock(&mut tx, &auth, &lines, &mut report).await?,
        CsvKind::Filaments => filaments(&mut tx, &auth, numbers, &lines, &mut report).await?,
        CsvKind::Spools => spools(&mut tx, &auth, numbers, &lines, &mut report).await?,
        CsvKind::Sales => sales(&mut tx, &auth, numbers, &lines, &mut report).await?,
    }
    if !report.rejected.is_empty() {
        tx.rollback().await.map_err(db)?;
        report.rejected.sort_by_key(|r| r.line);
        let body = json!({
            "error": {
                "code": "invalid_rows",
                "message": format!(
                    "{} rows cannot be imported (listed in `report.rejected`); nothing was imported",
                    report.rejected.len()
                ),
            },
            "report": report,
        });
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response());
    }
    if input.dry_run {
        tx.rollback().await.map_err(db)?;
    } else {
        tx.commit().await.map_err(db)?;
    }
    Ok(ApiJson(report).into_response())
}

/// Applies an op made for a row; a refusal is that row's rejection.
async fn apply_row(
    conn: &mut PgConnection,
    auth: &AuthUser,
    body: OpBody,
    line: usize,
    report: &mut CsvReport,
) -> ApiResult<()> {
    let done = apply_server_op(conn, auth, body).await?;
    let refused = match (done.answer.status, done.unprojected) {
        (Status::Rejected, _) => done.answer.reason,
        (_, Some(note)) => Some(note),
        _ => None,
    };
    if let Some(message) = refused {
        report.rejected.push(Rejected {
            line,
            column: done.answer.field,
            message,
        });
    }
    Ok(())
}

/// Records one row of a file as an `entity.set.v1` of the fields that changed from
/// `current` (all of them for a new row), as the app's edits are, so devices pull it;
/// whether anything changed.
async fn set_row<T: Serialize>(
    conn: &mut PgConnection,
    auth: &AuthUser,
    line: usize,
    report: &mut CsvReport,
    (entity, id): (EntityKind, Uuid),
    current: Option<&T>,
    next: &T,
) -> ApiResult<bool> {
    match rest::set_op(entity, id, current, next)? {
        Some(body) => {
            apply_row(conn, auth, body, line, report).await?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Counts a row: created (it was new), updated (it changed) or unchanged.
fn tally(report: &mut CsvReport, existed: bool, changed: bool) {
    match (existed, changed) {
        (false, _) => report.created += 1,
        (true, true) => report.updated += 1,
        (true, false) => report.unchanged += 1,
    }
}

/// Rows that parsed, with rejections for the others and for repeated keys.
fn parsed<T, K: std::hash::Hash + Eq>(
    lines: &[Line],
    report: &mut CsvReport,
    parse: impl Fn(&Row) -> Result<T, ValidationError>,
    key: impl Fn(&T) -> Option<K>,
    what: &str,
) -> Vec<(usize, T)> {
    let mut seen: HashMap<K, usize> = HashMap::new();
    let mut out = Vec::new();
    for (line, row) in lines {
        let row = match row {
            Ok(r) => r,
            Err(message) => {
                report.rejected.push(Rejected {
                    line: *line,
                    column: None,
                    message: message.clone(),
                });
                continue;
            }
        };
        match parse(row) {
            Ok(v) => {
                if let Some(k) = key(&v) {
                    if let Some(first) = seen.get(&k) {
                        report.rejected.push(Rejected {
                            line: *line,
                            column: None,
                            message: format!("the same {what} as line {first}; keep one of them"),
                        });
                        continue;
                    }
                    seen.insert(k, *line);
                }
                out.push((*line, v));
            }
            Err(e) => reject(report, *line, e),
        }
    }
    out
}

async fn products(
    conn: &mut PgConnection,
    auth: &AuthUser,
    n: Numbers,
    lines: &[Line],
    report: &mut CsvReport,
) -> ApiResult<()> {
    let items = parsed(
        lines,
        report,
        |r| rows::product(r, n),
        |p| Some(p.sku.clone()),
        "SKU",
    );
    if !report.rejected.is_empty() {
        return Ok(());
    }
    let skus: Vec<&str> = items.iter().map(|(_, p)| p.sku.as_str()).collect();
    let existing = sqlx::query(&format!(
        "select {} from product where sku = any($1)",
        super::products::COLUMNS
    ))
    .bind(&skus)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let existing: HashMap<String, Product> = existing
        .iter()
        .map(|r| {
            let p = super::products::from_row(r).product;
            (p.sku.clone(), p)
        })
        .collect();
    for (line, p) in items {
        let current = existing.get(&p.sku);
        // The file has no variant: a product keeps its own.
        let next = Product {
            id: current.map_or_else(|| ProductId(Uuid::now_v7()), |c| c.id),
            name: p.name.trim().to_owned(),
            variant_id: current.and_then(|c| c.variant_id),
            ..p
        };
        let changed = set_row(
            conn,
            auth,
            line,
            report,
            (EntityKind::Product, next.id.0),
            current,
            &next,
        )
        .await?;
        tally(report, current.is_some(), changed);
    }
    Ok(())
}

async fn stock(
    conn: &mut PgConnection,
    auth: &AuthUser,
    lines: &[Line],
    report: &mut CsvReport,
) -> ApiResult<()> {
    let items = parsed(
        lines,
        report,
        rows::stock,
        |(sku, _)| Some(sku.clone()),
        "SKU",
    );
    if !report.rejected.is_empty() {
        return Ok(());
    }
    let skus: Vec<&str> = items.iter().map(|(_, (s, _))| s.as_str()).collect();
    let found: HashMap<String, (Uuid, i64)> =
        sqlx::query(r#"select id, sku, on_hand from product where sku = any($1)"#)
            .bind(&skus)
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?
            .iter()
            .map(|r| (r.get("sku"), (r.get("id"), r.get("on_hand"))))
            .collect();
    for (line, (sku, counted)) in items {
        let Some((id, on_hand)) = found.get(&sku) else {
            report.rejected.push(Rejected {
                line,
                column: Some("sku".into()),
                message: format!("no product has the SKU {sku:?}; import the products first"),
            });
            continue;
        };
        if *on_hand == counted {
            report.unchanged += 1;
            continue;
        }
        report.updated += 1;
        let body = OpBody::StockCount(StockCount {
            product_id: ProductId(*id),
            counted,
            event_id: None,
            note: Some("CSV import".into()),
        });
        apply_row(conn, auth, body, line, report).await?;
    }
    Ok(())
}

/// The shop's filaments by key.
async fn filaments_by_key(conn: &mut PgConnection) -> ApiResult<HashMap<FilamentKey, Filament>> {
    let found = sqlx::query(&format!(
        "select {} from filament",
        super::filaments::COLUMNS
    ))
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let mut out = HashMap::new();
    for r in &found {
        let f = super::filaments::from_row(r)?.filament;
        out.insert(rows::filament_key(&f), f);
    }
    Ok(out)
}

/// Filaments: an `entity.set.v1` of the fields that changed (all of them for a new one),
/// as the app's edits are, so devices pull them.
async fn filaments(
    conn: &mut PgConnection,
    auth: &AuthUser,
    n: Numbers,
    lines: &[Line],
    report: &mut CsvReport,
) -> ApiResult<()> {
    let items = parsed(
        lines,
        report,
        |r| rows::filament(r, n, FilamentId(Uuid::now_v7())),
        |f| Some(rows::filament_key(f)),
        "brand, material, colour and diameter",
    );
    if !report.rejected.is_empty() {
        return Ok(());
    }
    let existing = filaments_by_key(conn).await?;
    for (line, f) in items {
        let current = existing.get(&rows::filament_key(&f));
        let next = Filament {
            id: current.map_or(f.id, |c| c.id),
            ..f
        };
        let changed = set_row(
            conn,
            auth,
            line,
            report,
            (EntityKind::Filament, next.id.0),
            current,
            &next,
        )
        .await?;
        tally(report, current.is_some(), changed);
    }
    Ok(())
}

/// Spools: an `entity.set.v1` of the fields that changed (all of them for a new spool,
/// which starts full), then, when grams left differ from the file's, a weighing op.
async fn spools(
    conn: &mut PgConnection,
    auth: &AuthUser,
    n: Numbers,
    lines: &[Line],
    report: &mut CsvReport,
) -> ApiResult<()> {
    let items = parsed(lines, report, |r| rows::spool(r, n), |s| s.id, "spool id");
    if !report.rejected.is_empty() {
        return Ok(());
    }
    let filaments = filaments_by_key(conn).await?;
    let current = sqlx::query(&format!("select {} from spool", super::spools::COLUMNS))
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
    let current: Vec<SpoolOut> = current.iter().map(super::spools::from_row).collect();
    let by_id: HashMap<Uuid, &SpoolOut> = current.iter().map(|s| (s.spool.id.0, s)).collect();
    let mut by_barcode: BTreeMap<&str, Vec<Uuid>> = BTreeMap::new();
    for s in &current {
        if let Some(b) = s.spool.barcode.as_deref() {
            by_barcode.entry(b).or_default().push(s.spool.id.0);
        }
    }
    let mut used: HashSet<Uuid> = HashSet::new();
    for (line, s) in items {
        let Some(f) = filaments.get(&s.filament) else {
            report.rejected.push(Rejected {
                line,
                column: Some("filament_brand".into()),
                message: "no filament with this brand, material, colour and diameter; import the filaments first".into(),
            });
            continue;
        };
        let target = s.id.filter(|id| by_id.contains_key(id)).or_else(|| {
            s.barcode
                .as_deref()
                .and_then(|b| by_barcode.get(b))
                .filter(|ids| ids.len() == 1)
                .map(|ids| ids[0])
        });
        if target.is_some_and(|id| !used.insert(id)) {
            report.rejected.push(Rejected {
                line,
                column: Some("barcode".into()),
                message: "names the same spool as an earlier line".into(),
            });
            continue;
        }
        let before = target.and_then(|id| by_id.get(&id)).copied();
        let next = s.spool(SpoolId(target.unwrap_or_else(Uuid::now_v7)), f.id);
        let current = before.map(|b| &b.spool);
        let changed = set_row(
            conn,
            auth,
            line,
            report,
            (EntityKind::Spool, next.id.0),
            current,
            &next,
        )
        .await?;
        let left_now: i64 = match (changed, before) {
            (false, Some(b)) => b.left_cg.0,
            // After the edit (a new initial weight moves grams left with it).
            _ => sqlx::query_scalar(r#"select left_cg from spool where id = $1"#)
                .bind(next.id.0)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db)?
                .unwrap_or(next.initial_net_cg.0),
        };
        tally(report, before.is_some(), changed || left_now != s.left_cg.0);
        if left_now != s.left_cg.0 {
            let empty = s.empty_spool_cg.unwrap_or(Centigrams::ZERO);
            let body = OpBody::SpoolWeigh(SpoolWeigh {
                spool_id: next.id,
                gross_cg: Centigrams(s.left_cg.0 + empty.0),
                empty_spool_cg: empty,
                note: Some("CSV import".into()),
            });
            apply_row(conn, auth, body, line, report).await?;
        }
    }
    Ok(())
}

/// The id an imported sale gets: derived from the shop and the file's `sale_id` (or line),
/// so importing the same file again finds the sales it recorded (a UUIDv8).
fn imported_sale_id(shop: Uuid, key: &str) -> Uuid {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"printstall:csv-sale:v1:");
    h.update(shop.as_bytes());
    h.update(key.as_bytes());
    let digest = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// Sales, one row per line: rows with the same `sale_id` are one sale, recorded with
/// `sale.record.v1` (and `sale.void.v1` when voided) at the shop's tax settings. A sale
/// already in the shop (its own export) or imported before is left as it is.
async fn sales(
    conn: &mut PgConnection,
    auth: &AuthUser,
    n: Numbers,
    lines: &[Line],
    report: &mut CsvReport,
) -> ApiResult<()> {
    use printstall_core::domain::SaleId;
    use printstall_core::domain::sale::{Discount, NewSale, SaleLine};
    use printstall_core::sync::op::SaleVoid;

    let items = parsed(lines, report, |r| rows::sale(r, n), |_| None::<()>, "line");
    if !report.rejected.is_empty() {
        return Ok(());
    }
    // Lines grouped into sales, in file order.
    let mut groups: Vec<(String, Vec<(usize, rows::SaleRow)>)> = Vec::new();
    for (line, r) in items {
        let key = r.sale_key.clone().unwrap_or_else(|| format!("line-{line}"));
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, g)) => g.push((line, r)),
            None => groups.push((key, vec![(line, r)])),
        }
    }
    let skus: Vec<&str> = groups
        .iter()
        .flat_map(|(_, g)| g.iter().map(|(_, r)| r.sku.as_str()))
        .collect();
    let products: HashMap<String, Uuid> =
        sqlx::query(r#"select id, sku from product where sku = any($1)"#)
            .bind(&skus)
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?
            .iter()
            .map(|r| (r.get("sku"), r.get("id")))
            .collect();
    let candidates: Vec<Uuid> = groups
        .iter()
        .flat_map(|(k, _)| {
            [
                Uuid::parse_str(k).ok(),
                Some(imported_sale_id(auth.shop_id, k)),
            ]
        })
        .flatten()
        .collect();
    let known: HashSet<Uuid> = sqlx::query_scalar(r#"select id from sale where id = any($1)"#)
        .bind(&candidates)
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?
        .into_iter()
        .collect();
    let shop = sqlx::query(r#"select tax_rate_bp, prices_include_tax from shop"#)
        .fetch_one(&mut *conn)
        .await
        .map_err(db)?;
    let tax_rate_bp = u32::try_from(shop.get::<i32, _>("tax_rate_bp")).unwrap_or(0);
    let prices_include_tax: bool = shop.get("prices_include_tax");
    for (key, group) in groups {
        let first_line = group[0].0;
        let head = group[0].1.clone();
        let own = Uuid::parse_str(&key).ok().filter(|id| known.contains(id));
        let derived = imported_sale_id(auth.shop_id, &key);
        if own.is_some() || known.contains(&derived) {
            report.unchanged += 1;
            continue;
        }
        let mut sale_lines = Vec::new();
        for (line, r) in &group {
            let Some(product) = products.get(&r.sku) else {
                report.rejected.push(Rejected {
                    line: *line,
                    column: Some("sku".into()),
                    message: format!(
                        "no product has the SKU {:?}; import the products first",
                        r.sku
                    ),
                });
                continue;
            };
            sale_lines.push(SaleLine {
                product_id: ProductId(*product),
                quantity: r.quantity,
                unit_price: r.unit_price,
            });
        }
        if sale_lines.len() != group.len() {
            continue;
        }
        let sale = NewSale {
            sale_id: SaleId(derived),
            event_id: None,
            lines: sale_lines,
            discount: head
                .discount
                .filter(|d| d.0 > 0)
                .map_or(Discount::None, |amount| Discount::Amount { amount }),
            payment_method: head.payment_method,
            tax_rate_bp,
            prices_include_tax,
            taken_at: head.taken_at,
        };
        let totals = match sale.validate().and_then(|()| sale.totals()) {
            Ok(t) => t,
            Err(e) => {
                reject(report, first_line, e);
                continue;
            }
        };
        if let Some(total) = head.total.filter(|t| *t != totals.total) {
            report.rejected.push(Rejected {
                line: first_line,
                column: Some("sale_total".into()),
                message: format!(
                    "is {}, but the lines, discount and the shop's tax make {}; check the file",
                    format_decimal(total.0, 2),
                    format_decimal(totals.total.0, 2)
                ),
            });
            continue;
        }
        report.created += 1;
        apply_row(conn, auth, OpBody::SaleRecord(sale), first_line, report).await?;
        if head.voided {
            let body = OpBody::SaleVoid(SaleVoid {
                sale_id: SaleId(derived),
                reason: "voided (CSV import)".into(),
            });
            apply_row(conn, auth, body, first_line, report).await?;
        }
    }
    Ok(())
}

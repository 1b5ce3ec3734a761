//! Shared support for the export, erasure, encryption and backup tests: a server over a
//! fresh database with a chosen file store and settings, a shop with one of everything
//! (files with versions included), and what the database holds of a shop.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use printstall_server::app::AppState;
use printstall_server::secret::Secret;
use printstall_server::storage::signed_url::UrlSigner;
use printstall_server::storage::{LocalStore, ObjectKey, S3Store, Storage};
use serde_json::{Value, json};
use sqlx::{PgPool, Row};

use crate::common::fixtures::{create, event, filament, model, printer, product, spool, variant};
use crate::common::{Api, TEST_JWT_SECRET, TestServer, settings_with, spawn_server};

pub enum Store {
    Local,
    S3,
}

pub struct Started {
    pub server: TestServer,
    /// The data folder (generated keys, the local store's files).
    pub data_dir: PathBuf,
}

/// Serves the real router over `pool` with the given store and extra settings, and a new
/// data folder.
pub async fn start_with(pool: PgPool, store: Store, extra: &[(&str, &str)]) -> Started {
    let data_dir =
        std::env::temp_dir().join(format!("printstall-erase-test-{}", uuid::Uuid::now_v7()));
    start_in(pool, store, extra, data_dir).await
}

/// As [`start_with`], in the data folder `data_dir` (its generated keys and local files).
pub async fn start_in(
    pool: PgPool,
    store: Store,
    extra: &[(&str, &str)],
    data_dir: PathBuf,
) -> Started {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let storage = match store {
        Store::Local => Storage::Local(LocalStore::new(
            data_dir.join("files"),
            url.clone(),
            UrlSigner::new(Secret::new("test-signing-key")),
        )),
        Store::S3 => Storage::S3(S3Store::new(&crate::common::s3_settings())),
    };
    storage.check().await.unwrap();
    let dir = data_dir.to_str().unwrap().to_owned();
    let mut pairs = vec![
        ("PRINTSTALL_PWA_DIR", dir.as_str()),
        ("PRINTSTALL_DATA_DIR", dir.as_str()),
        ("PRINTSTALL_JWT_SECRET", TEST_JWT_SECRET),
    ];
    pairs.extend_from_slice(extra);
    let settings = settings_with(&pairs);
    let state = AppState::new(pool.clone(), storage.clone(), settings).unwrap();
    let (tx, task) = spawn_server(listener, state);
    Started {
        server: TestServer::from_parts(url, pool, storage, tx, task),
        data_dir,
    }
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../shared/fixtures/slicefiles/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(data))
}

/// Uploads `data` as a new version of `variant`'s file; completes it unless `complete` is
/// false (an upload in progress).
pub async fn upload(api: &Api, variant: &str, name: &str, data: &[u8], complete: bool) -> Value {
    let (status, up) = api
        .post(
            &format!("/variants/{variant}/files"),
            json!({"file_name": name, "size_bytes": data.len(), "sha256": sha256_hex(data)}),
        )
        .await;
    assert_eq!(status, 201, "{up}");
    let put = reqwest::Client::new()
        .put(up["upload"]["url"].as_str().unwrap())
        .body(data.to_vec())
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "{}", put.status());
    if !complete {
        return up;
    }
    let (status, file) = api
        .post(
            &format!("/uploads/{}/complete", up["upload_id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(status, 201, "{file}");
    file
}

/// The ids of a shop with one of everything.
pub struct Seeded {
    pub filament: String,
    pub spool: String,
    pub model: String,
    pub variant: String,
    pub printer: String,
    pub product: String,
    pub event: String,
    pub job: String,
    pub sale: String,
    /// (file name, bytes) of each completed sliced-file version, oldest first.
    pub files: Vec<(String, Vec<u8>)>,
}

pub const TAX_ID: &str = "DE-TAX-314159265";
pub const ADDRESS: &str = "Werkstattgasse 7\n04109 Leipzig";
pub const LEGAL_NAME: &str = "Erika Mustermann Drucke";
pub const PAYMENT_NOTES: &str = "IBAN DE02120300000000202051, BIC BYLADEM1001";

/// Fills `api`'s shop: catalogue, a job, a sale, a plan, spool use, stock moves, business
/// details, two versions of a sliced file (with thumbnails) and an upload in progress.
pub async fn seed(api: &Api) -> Seeded {
    let fil = filament(api, "Galaxy Black").await;
    let sp = spool(api, &fil, 1000).await;
    let mdl = model(api, "Flexi Rex").await;
    let var = variant(api, &mdl, &fil).await;
    let prn = printer(api, "MK4S").await;
    let prd = product(api, "REX", Some(&var)).await;
    let evt = event(api, "Advent market").await;
    let job = create(
        api,
        "/print-jobs",
        json!({"variant_id": var, "units": 2, "printer_id": prn, "event_id": evt}),
    )
    .await;
    let sale = create(
        api,
        "/sales",
        json!({"lines": [{"product_id": prd, "quantity": 1, "unit_price": 1500}], "payment_method": "cash", "event_id": evt}),
    )
    .await;
    let (status, out) = api
        .call(
            reqwest::Method::PUT,
            &format!("/events/{evt}/plan"),
            Some(json!({"lines": [{"product_id": prd, "target": 5}]})),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    let (status, out) = api
        .post(
            &format!("/spools/{sp}/use"),
            json!({"used_cg": 1250, "reason": "print", "job_id": job}),
        )
        .await;
    assert!(status < 300, "{out}");
    let (status, out) = api
        .post(
            &format!("/products/{prd}/adjust"),
            json!({"quantity": 4, "reason": "produced"}),
        )
        .await;
    assert!(status < 300, "{out}");
    let (status, out) = api
        .call(
            reqwest::Method::PUT,
            "/shop/business",
            Some(json!({"legal_name": LEGAL_NAME, "tax_id": TAX_ID, "address": ADDRESS, "payment_notes": PAYMENT_NOTES})),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    let first = fixture("prusaslicer_2.6.0_mini_cube.gcode");
    let second = fixture("prusaslicer_2.9.2_xl5is_5tool.bgcode");
    upload(api, &var, "mini cube.gcode", &first, true).await;
    upload(api, &var, "../two plates.bgcode", &second, true).await;
    upload(api, &var, "pending.gcode", &first, false).await;
    Seeded {
        filament: fil,
        spool: sp,
        model: mdl,
        variant: var,
        printer: prn,
        product: prd,
        event: evt,
        job,
        sale,
        files: vec![
            ("mini cube.gcode".into(), first),
            ("_two plates.bgcode".into(), second),
        ],
    }
}

/// Every table of the public schema with a `shop_id` column.
pub async fn shop_tables(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        r#"select c.table_name::text from information_schema.columns c
           join information_schema.tables t
             on t.table_schema = c.table_schema and t.table_name = c.table_name
           where c.table_schema = 'public' and c.column_name = 'shop_id'
             and t.table_type = 'BASE TABLE'
           order by 1"#,
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Everything the database holds of `shop` (the test pool is the owner, a superuser that
/// row-level security does not filter): table -> rows as JSON, sorted.
pub async fn shop_rows(pool: &PgPool, shop: &str) -> std::collections::BTreeMap<String, Value> {
    let shop = uuid::Uuid::parse_str(shop).unwrap();
    let mut out = std::collections::BTreeMap::new();
    for table in shop_tables(pool).await {
        let rows: Value = sqlx::query_scalar(&format!(
            r#"select coalesce(jsonb_agg(to_jsonb(t) order by to_jsonb(t)::text), '[]')
               from "{table}" t where shop_id = $1"#
        ))
        .bind(shop)
        .fetch_one(pool)
        .await
        .unwrap();
        out.insert(table, rows);
    }
    let me: Value = sqlx::query_scalar(
        r#"select coalesce(jsonb_agg(to_jsonb(s)), '[]') from shop s where id = $1"#,
    )
    .bind(shop)
    .fetch_one(pool)
    .await
    .unwrap();
    out.insert("shop".into(), me);
    out
}

/// The keys and SHA-256 of every object under the shop's prefix.
pub async fn shop_objects(storage: &Storage, shop: &str) -> Vec<(String, String)> {
    let prefix = ObjectKey::shop_prefix(uuid::Uuid::parse_str(shop).unwrap());
    let mut out = Vec::new();
    for o in storage.list(&prefix).await.unwrap() {
        let data = storage
            .get(&ObjectKey::parse(&o.key).unwrap())
            .await
            .unwrap();
        out.push((o.key, sha256_hex(&data)));
    }
    out
}

/// `url` with its database name replaced (for the CLI and scripts, which connect
/// themselves to the test's database).
pub fn url_with_database(url: &str, database: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let host = before_query.split('/').next().unwrap();
    let mut out = format!("{scheme}://{host}/{database}");
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// The URL of the database behind `pool` (a fresh `#[sqlx::test]` database).
pub async fn database_url_of(pool: &PgPool) -> String {
    let name: String = sqlx::query_scalar("select current_database()::text")
        .fetch_one(pool)
        .await
        .unwrap();
    url_with_database(&crate::common::database_url(), &name)
}

pub fn row_count(rows: &std::collections::BTreeMap<String, Value>) -> usize {
    rows.values().map(|v| v.as_array().unwrap().len()).sum()
}

pub fn text_of(row: &sqlx::postgres::PgRow, column: &str) -> Option<String> {
    row.get(column)
}

/// `api` talking to another server (over the same database, with the same token key).
pub fn at(api: &Api, base: &str) -> Api {
    Api {
        base: base.to_owned(),
        ..api.clone()
    }
}

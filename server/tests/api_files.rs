//! Sliced-file uploads end to end, against the local store behind the server's signed URLs
//! and against the real S3-compatible server: presigned PUT by a plain HTTP client, the
//! server's own size, SHA-256 and metadata checks, thumbnails, versions, the quota, and
//! another shop's ids. A refused upload leaves nothing in the store or the database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::fixtures::{filament, model, seller_of, variant};
use common::{Api, TEST_JWT_SECRET, settings_with};
use printstall_server::app::AppState;
use printstall_server::secret::Secret;
use printstall_server::storage::signed_url::UrlSigner;
use printstall_server::storage::{LocalStore, ObjectKey, S3Store, Storage};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

const BGCODE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/fixtures/slicefiles/prusaslicer_2.9.2_xl5is_5tool.bgcode"
);
const GCODE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/fixtures/slicefiles/prusaslicer_2.6.0_mini_cube.gcode"
);

struct Server {
    url: String,
    storage: Storage,
    pool: PgPool,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
    _files: tempfile::TempDir,
}

impl Server {
    async fn stop(self) {
        let _ = self.shutdown.send(());
        let _ = self.task.await;
    }
}

/// The real router on a free port over `pool`, with the local store or the test S3 server
/// and the given shop quota.
async fn start(pool: PgPool, s3: bool, quota: Option<u64>) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let files = tempfile::tempdir().unwrap();
    let storage = if s3 {
        Storage::S3(S3Store::new(&common::s3_settings()))
    } else {
        Storage::Local(LocalStore::new(
            files.path().join("files"),
            url.clone(),
            UrlSigner::new(Secret::new("test-signing-key")),
        ))
    };
    storage.check().await.unwrap();
    let dir = files.path().to_str().unwrap().to_owned();
    let quota = quota.map(|q| q.to_string());
    let mut pairs = vec![
        ("PRINTSTALL_PWA_DIR", dir.as_str()),
        ("PRINTSTALL_DATA_DIR", dir.as_str()),
        ("PRINTSTALL_JWT_SECRET", TEST_JWT_SECRET),
    ];
    if let Some(q) = &quota {
        pairs.push(("PRINTSTALL_SHOP_QUOTA_BYTES", q.as_str()));
    }
    let state = AppState::new(pool.clone(), storage.clone(), settings_with(&pairs)).unwrap();
    let (shutdown, task) = common::spawn_server(listener, state);
    Server {
        url,
        storage,
        pool,
        shutdown,
        task,
        _files: files,
    }
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Every object key under the shop's prefix.
async fn stored(server: &Server, api: &Api) -> Vec<String> {
    let prefix = ObjectKey::shop_prefix(api.shop_id.parse().unwrap());
    server
        .storage
        .list(&prefix)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect()
}

/// A variant of a new model in `api`'s shop.
async fn new_variant(api: &Api) -> String {
    let fil = filament(api, "Orange").await;
    let mdl = model(api, "Calibration cube").await;
    variant(api, &mdl, &fil).await
}

/// Starts an upload (must be 201) and returns its answer.
async fn start_upload(api: &Api, variant: &str, name: &str, size: usize, sha: &str) -> Value {
    let (status, out) = api
        .post(
            &format!("/variants/{variant}/files"),
            json!({"file_name": name, "size_bytes": size, "sha256": sha}),
        )
        .await;
    assert_eq!(status, 201, "{out}");
    out
}

async fn put_bytes(url: &str, data: &[u8]) {
    let r = reqwest::Client::new()
        .put(url)
        .body(data.to_vec())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "PUT {url}: {}", r.status());
}

async fn complete(api: &Api, upload_id: &str) -> (u16, Value) {
    api.post(&format!("/uploads/{upload_id}/complete"), json!({}))
        .await
}

/// Uploads `data` as `name` through the presigned URL and completes it (must be 201).
async fn upload(api: &Api, variant: &str, name: &str, data: &[u8]) -> Value {
    let started = start_upload(api, variant, name, data.len(), &sha256_hex(data)).await;
    put_bytes(started["upload"]["url"].as_str().unwrap(), data).await;
    let (status, file) = complete(api, started["upload_id"].as_str().unwrap()).await;
    assert_eq!(status, 201, "{file}");
    file
}

async fn fetch(url: &str) -> Vec<u8> {
    let r = reqwest::get(url).await.unwrap();
    assert_eq!(r.status(), 200, "GET {url}");
    r.bytes().await.unwrap().to_vec()
}

async fn exercise(server: &Server) {
    let bgcode = std::fs::read(BGCODE).unwrap();
    let gcode = std::fs::read(GCODE).unwrap();
    let a = Api::register(
        &server.url,
        &format!("a-{}@example.com", uuid::Uuid::now_v7()),
    )
    .await;
    let var = new_variant(&a).await;

    // A hostile name is shown back but never reaches the key.
    let hostile = "../../etc/passwd XL.bgcode";
    let started = start_upload(&a, &var, hostile, bgcode.len(), &sha256_hex(&bgcode)).await;
    let upload_id = started["upload_id"].as_str().unwrap().to_owned();
    let url = started["upload"]["url"].as_str().unwrap();
    assert_eq!(started["file_name"], hostile);
    assert_eq!(started["upload"]["method"], "PUT");
    assert!(
        url.contains(&format!("shops/{}/uploads/{upload_id}", a.shop_id)),
        "{url}"
    );
    assert!(!url.contains("passwd"), "{url}");

    // Completing before the bytes are there: 409, and the reservation stays usable.
    let (status, err) = complete(&a, &upload_id).await;
    assert_eq!(status, 409, "{err}");
    assert!(stored(server, &a).await.is_empty());

    // Sellers look but do not change the catalogue.
    let seller = seller_of(&a).await;
    let (status, _) = seller
        .post(
            &format!("/variants/{var}/files"),
            json!({"file_name": "x.gcode", "size_bytes": 10, "sha256": "0".repeat(64)}),
        )
        .await;
    assert_eq!(status, 403);

    put_bytes(url, &bgcode).await;
    let (status, _) = complete(&seller, &upload_id).await;
    assert_eq!(status, 403);
    let (status, v1) = complete(&a, &upload_id).await;
    assert_eq!(status, 201, "{v1}");
    let v1_id = v1["id"].as_str().unwrap().to_owned();
    assert_eq!(v1_id, upload_id);
    assert_eq!(v1["version"], 1);
    assert_eq!(v1["current"], true);
    assert_eq!(v1["size_bytes"], bgcode.len());
    assert_eq!(v1["sha256"], sha256_hex(&bgcode));
    let meta = &v1["metadata"];
    assert_eq!(meta["format"], "bgcode");
    assert_eq!(
        meta["slicer"],
        json!({"name": "PrusaSlicer", "version": "2.9.2"})
    );
    assert_eq!(meta["printer_model"], "XL5IS");
    assert_eq!(meta["print_time_s"], 57);
    assert_eq!(meta["total_filament_g"], 0.2);
    assert_eq!(meta["filaments"][0]["used_g"], 0.2);
    assert_eq!(meta["filaments"][0]["type"], "PETG");
    assert_eq!(meta["filaments"][0]["color_hex"], "#FF8000");
    // The best embedded picture is the 380x285 PNG: 128 px scaled down, 512 px as it is.
    let sides: Vec<(u64, u64, u64)> = v1["thumbnails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["max_side"].as_u64().unwrap(),
                t["width"].as_u64().unwrap(),
                t["height"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(sides, vec![(128, 128, 96), (512, 380, 285)]);

    // Completing again answers the same file (a retried request).
    let (status, again) = complete(&a, &upload_id).await;
    assert_eq!((status, &again["id"]), (200, &v1["id"]));

    // The file and its thumbnails sit side by side under the shop's prefix.
    let folder = format!("shops/{}/uploads/{upload_id}", a.shop_id);
    let objects = stored(server, &a).await;
    assert_eq!(
        objects,
        vec![
            folder.clone(),
            format!("{folder}.thumb-128.png"),
            format!("{folder}.thumb-512.png"),
        ]
    );

    // The variant points at it and takes the file's print time.
    let (_, v) = a.get(&format!("/variants/{var}")).await;
    assert_eq!(
        (v["sliced_file_id"].as_str(), v["print_time_s"].as_i64()),
        (Some(v1_id.as_str()), Some(57))
    );

    // Downloads and thumbnails through short-lived links; sellers may download.
    let (status, link) = seller
        .get(&format!("/variants/{var}/files/{v1_id}/download"))
        .await;
    assert_eq!(status, 200, "{link}");
    assert!(link["expires_in_s"].as_u64().unwrap() <= 300);
    assert_eq!(fetch(link["url"].as_str().unwrap()).await, bgcode);
    for (size, width) in [(128, 128), (512, 380)] {
        let (status, link) = a
            .get(&format!(
                "/variants/{var}/files/{v1_id}/thumbnail?size={size}"
            ))
            .await;
        assert_eq!(status, 200, "{link}");
        let png = fetch(link["url"].as_str().unwrap()).await;
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
        assert_eq!(w, width);
    }
    let (status, _) = a
        .get(&format!("/variants/{var}/files/{v1_id}/thumbnail?size=64"))
        .await;
    assert_eq!(status, 422);

    // Size mismatch: announced one byte more than sent.
    let bad = start_upload(
        &a,
        &var,
        "short.bgcode",
        bgcode.len() + 1,
        &sha256_hex(&bgcode),
    )
    .await;
    put_bytes(bad["upload"]["url"].as_str().unwrap(), &bgcode).await;
    let bad_id = bad["upload_id"].as_str().unwrap();
    let (status, err) = complete(&a, bad_id).await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["field"], "size_bytes");
    assert_eq!(stored(server, &a).await, objects, "nothing half-stored");
    let (status, _) = complete(&a, bad_id).await;
    assert_eq!(status, 404, "the reservation is gone");

    // Hash mismatch: same size, other bytes.
    let mut flipped = bgcode.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0xff;
    let bad = start_upload(
        &a,
        &var,
        "flipped.bgcode",
        bgcode.len(),
        &sha256_hex(&bgcode),
    )
    .await;
    put_bytes(bad["upload"]["url"].as_str().unwrap(), &flipped).await;
    let (status, err) = complete(&a, bad["upload_id"].as_str().unwrap()).await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["field"], "sha256");
    assert_eq!(stored(server, &a).await, objects, "nothing half-stored");

    // Bytes that are no sliced file: the server reads them itself and refuses.
    let junk = vec![0u8; 4096];
    let bad = start_upload(&a, &var, "junk.bgcode", junk.len(), &sha256_hex(&junk)).await;
    put_bytes(bad["upload"]["url"].as_str().unwrap(), &junk).await;
    let (status, err) = complete(&a, bad["upload_id"].as_str().unwrap()).await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["field"], "file");
    assert_eq!(stored(server, &a).await, objects, "nothing half-stored");

    let (_, list) = a.get(&format!("/variants/{var}/files")).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    let rows: i64 = sqlx::query_scalar("select count(*) from file_upload where shop_id = $1")
        .bind(uuid::Uuid::parse_str(&a.shop_id).unwrap())
        .fetch_one(&server.pool)
        .await
        .unwrap();
    assert_eq!(rows, 1, "refused reservations are deleted");

    // A second version becomes current; the first is kept.
    let v2 = upload(&a, &var, "mini cube.gcode", &gcode).await;
    let v2_id = v2["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (v2["version"].as_i64(), v2["current"].as_bool()),
        (Some(2), Some(true))
    );
    assert_eq!(v2["metadata"]["print_time_s"], 1926);
    let (status, list) = a.get(&format!("/variants/{var}/files")).await;
    assert_eq!(status, 200);
    let versions: Vec<(i64, bool)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["version"].as_i64().unwrap(),
                f["current"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(versions, vec![(2, true), (1, false)]);

    // Restore the first version.
    let (status, _) = seller
        .post(&format!("/variants/{var}/files/{v1_id}/restore"), json!({}))
        .await;
    assert_eq!(status, 403);
    let (status, restored) = a
        .post(&format!("/variants/{var}/files/{v1_id}/restore"), json!({}))
        .await;
    assert_eq!((status, restored["current"].as_bool()), (200, Some(true)));
    let (_, v) = a.get(&format!("/variants/{var}")).await;
    assert_eq!(
        (v["sliced_file_id"].as_str(), v["print_time_s"].as_i64()),
        (Some(v1_id.as_str()), Some(57))
    );
    let (_, list) = a.get(&format!("/variants/{var}/files")).await;
    assert_eq!(list["items"][1]["current"], true);
    assert_eq!(list["items"][0]["current"], false);

    // A file of one variant is not reachable through another.
    let other_var = new_variant(&a).await;
    let (status, _) = a
        .get(&format!("/variants/{other_var}/files/{v2_id}/download"))
        .await;
    assert_eq!(status, 404);

    // Another shop: its own variant with A's file id, A's upload id, A's variant: 404.
    let b = Api::register(
        &server.url,
        &format!("b-{}@example.com", uuid::Uuid::now_v7()),
    )
    .await;
    let b_var = new_variant(&b).await;
    let pending = start_upload(&a, &var, "later.gcode", gcode.len(), &sha256_hex(&gcode)).await;
    let pending_id = pending["upload_id"].as_str().unwrap();
    put_bytes(pending["upload"]["url"].as_str().unwrap(), &gcode).await;
    for (method, path) in [
        ("POST", format!("/uploads/{pending_id}/complete")),
        ("POST", format!("/variants/{b_var}/files/{v1_id}/restore")),
        ("GET", format!("/variants/{b_var}/files/{v1_id}/download")),
        ("GET", format!("/variants/{b_var}/files/{v1_id}/thumbnail")),
        ("GET", format!("/variants/{var}/files")),
        ("GET", format!("/variants/{var}/files/{v1_id}/download")),
    ] {
        let body = (method == "POST").then(|| json!({}));
        let (status, out) = b.call(method.parse().unwrap(), &path, body).await;
        assert_eq!(status, 404, "{method} {path}: {out}");
    }
    let (status, _) = b
        .post(
            &format!("/variants/{var}/files"),
            json!({"file_name": "x.gcode", "size_bytes": 10, "sha256": "0".repeat(64)}),
        )
        .await;
    assert_eq!(status, 404);
    assert!(stored(server, &b).await.is_empty());
    // A's pending upload is still A's to complete.
    let (status, v3) = complete(&a, pending_id).await;
    assert_eq!((status, v3["version"].as_i64()), (201, Some(3)), "{v3}");
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn upload_versions_and_refusals_local_store(pool: PgPool) {
    let server = start(pool, false, None).await;
    exercise(&server).await;
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn upload_versions_and_refusals_s3(pool: PgPool) {
    let server = start(pool, true, None).await;
    exercise(&server).await;
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn quota_is_checked_before_anything_is_uploaded(pool: PgPool) {
    let bgcode = std::fs::read(BGCODE).unwrap();
    let quota = bgcode.len() as u64 + 1000;
    let server = start(pool, false, Some(quota)).await;
    let a = Api::register(&server.url, "quota@example.com").await;
    let var = new_variant(&a).await;
    let sha = sha256_hex(&bgcode);

    // Larger than the whole quota.
    let (status, err) = a
        .post(
            &format!("/variants/{var}/files"),
            json!({"file_name": "big.bgcode", "size_bytes": quota + 1, "sha256": sha}),
        )
        .await;
    assert_eq!(status, 413, "{err}");
    assert_eq!(err["error"]["code"], "quota_exceeded");
    let message = err["error"]["message"].as_str().unwrap();
    assert!(message.contains("quota"), "{message}");
    assert!(message.contains("nothing was uploaded"), "{message}");

    // A reservation in progress counts: the second upload does not fit beside it.
    let first = start_upload(&a, &var, "one.bgcode", bgcode.len(), &sha).await;
    let (status, _) = a
        .post(
            &format!("/variants/{var}/files"),
            json!({"file_name": "two.bgcode", "size_bytes": bgcode.len(), "sha256": sha}),
        )
        .await;
    assert_eq!(status, 413);
    assert!(stored(&server, &a).await.is_empty());

    // Completed, the file still counts; a small file still fits.
    put_bytes(first["upload"]["url"].as_str().unwrap(), &bgcode).await;
    let (status, _) = complete(&a, first["upload_id"].as_str().unwrap()).await;
    assert_eq!(status, 201);
    let (status, _) = a
        .post(
            &format!("/variants/{var}/files"),
            json!({"file_name": "two.bgcode", "size_bytes": bgcode.len(), "sha256": sha}),
        )
        .await;
    assert_eq!(status, 413);
    let (status, _) = a
        .post(
            &format!("/variants/{var}/files"),
            json!({"file_name": "tiny.gcode", "size_bytes": 500, "sha256": sha}),
        )
        .await;
    assert_eq!(status, 201);

    // A refused completion gives the room back.
    let b = Api::register(&server.url, "quota-b@example.com").await;
    let b_var = new_variant(&b).await;
    let wrong = start_upload(&b, &b_var, "x.bgcode", bgcode.len(), &"0".repeat(64)).await;
    put_bytes(wrong["upload"]["url"].as_str().unwrap(), &bgcode).await;
    let (status, _) = complete(&b, wrong["upload_id"].as_str().unwrap()).await;
    assert_eq!(status, 422);
    start_upload(&b, &b_var, "x.bgcode", bgcode.len(), &sha).await;
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn malformed_upload_requests_are_refused(pool: PgPool) {
    let server = start(pool, false, None).await;
    let a = Api::register(&server.url, "malformed@example.com").await;
    let var = new_variant(&a).await;
    let sha = "a".repeat(64);
    for (body, field) in [
        (
            json!({"file_name": "", "size_bytes": 10, "sha256": sha}),
            "file_name",
        ),
        (
            json!({"file_name": "a\nb", "size_bytes": 10, "sha256": sha}),
            "file_name",
        ),
        (
            json!({"file_name": "a", "size_bytes": 0, "sha256": sha}),
            "size_bytes",
        ),
        (
            json!({"file_name": "a", "size_bytes": 2_000_000_000_000i64, "sha256": sha}),
            "size_bytes",
        ),
        (
            json!({"file_name": "a", "size_bytes": 10, "sha256": "abc"}),
            "sha256",
        ),
        (
            json!({"file_name": "a", "size_bytes": 10, "sha256": "g".repeat(64)}),
            "sha256",
        ),
    ] {
        let (status, err) = a
            .post(&format!("/variants/{var}/files"), body.clone())
            .await;
        assert_eq!(
            (status, err["error"]["field"].as_str()),
            (422, Some(field)),
            "{body}: {err}"
        );
    }
    let (status, _) = a
        .post(
            &format!("/variants/{}/files", uuid::Uuid::now_v7()),
            json!({"file_name": "a", "size_bytes": 10, "sha256": sha}),
        )
        .await;
    assert_eq!(status, 404);
    server.stop().await;
}

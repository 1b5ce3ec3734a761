//! Sliced-file uploads end to end, against the local store behind the server's signed URLs
//! and against the real S3-compatible server: presigned PUT by a plain HTTP client, the
//! server's own size, SHA-256 and metadata checks, thumbnails, versions, the quota, and
//! another shop's ids. A refused upload leaves nothing in the store or the database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod sync_common;

use common::Api;
use common::fixtures::{filament, model, seller_of, variant};
use common::uploads::{
    FileServer, complete, fetch, put_bytes, sha256_hex, sides, slicefile, start_upload_as, upload,
    versions,
};
use serde_json::json;
use sqlx::PgPool;

const BGCODE: &str = "prusaslicer_2.9.2_xl5is_5tool.bgcode";
const GCODE: &str = "prusaslicer_2.6.0_mini_cube.gcode";

/// A variant of a new model in `api`'s shop.
async fn new_variant(api: &Api) -> String {
    let fil = filament(api, "Orange").await;
    let mdl = model(api, "Calibration cube").await;
    variant(api, &mdl, &fil).await
}

/// The upload path of a variant's sliced files.
fn files_of(variant: &str) -> String {
    format!("/variants/{variant}/files")
}

async fn exercise(server: &FileServer) {
    let bgcode = slicefile(BGCODE);
    let gcode = slicefile(GCODE);
    let a = Api::register(
        &server.url,
        &format!("a-{}@example.com", uuid::Uuid::now_v7()),
    )
    .await;
    let var = new_variant(&a).await;

    // A hostile name is shown back but never reaches the key.
    let hostile = "../../etc/passwd XL.bgcode";
    let started = start_upload_as(
        &a,
        &files_of(&var),
        hostile,
        bgcode.len(),
        &sha256_hex(&bgcode),
    )
    .await;
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
    assert!(server.stored(&a).await.is_empty());

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
    assert_eq!(sides(&v1), vec![(128, 128, 96), (512, 380, 285)]);

    // Completing again answers the same file (a retried request).
    let (status, again) = complete(&a, &upload_id).await;
    assert_eq!((status, &again["id"]), (200, &v1["id"]));

    // The file and its thumbnails sit side by side under the shop's prefix.
    let folder = format!("shops/{}/uploads/{upload_id}", a.shop_id);
    let objects = server.stored(&a).await;
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
    let bad = start_upload_as(
        &a,
        &files_of(&var),
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
    assert_eq!(server.stored(&a).await, objects, "nothing half-stored");
    let (status, _) = complete(&a, bad_id).await;
    assert_eq!(status, 404, "the reservation is gone");

    // Hash mismatch: same size, other bytes.
    let mut flipped = bgcode.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0xff;
    let bad = start_upload_as(
        &a,
        &files_of(&var),
        "flipped.bgcode",
        bgcode.len(),
        &sha256_hex(&bgcode),
    )
    .await;
    put_bytes(bad["upload"]["url"].as_str().unwrap(), &flipped).await;
    let (status, err) = complete(&a, bad["upload_id"].as_str().unwrap()).await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["field"], "sha256");
    assert_eq!(server.stored(&a).await, objects, "nothing half-stored");

    // Bytes that are no sliced file: the server reads them itself and refuses.
    let junk = vec![0u8; 4096];
    let bad = start_upload_as(
        &a,
        &files_of(&var),
        "junk.bgcode",
        junk.len(),
        &sha256_hex(&junk),
    )
    .await;
    put_bytes(bad["upload"]["url"].as_str().unwrap(), &junk).await;
    let (status, err) = complete(&a, bad["upload_id"].as_str().unwrap()).await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["field"], "file");
    assert_eq!(server.stored(&a).await, objects, "nothing half-stored");

    let (_, list) = a.get(&format!("/variants/{var}/files")).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    let rows: i64 = sqlx::query_scalar("select count(*) from file_upload where shop_id = $1")
        .bind(uuid::Uuid::parse_str(&a.shop_id).unwrap())
        .fetch_one(&server.pool)
        .await
        .unwrap();
    assert_eq!(rows, 1, "refused reservations are deleted");

    // A second version becomes current; the first is kept.
    let v2 = upload(&a, &files_of(&var), "mini cube.gcode", &gcode).await;
    let v2_id = v2["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (v2["version"].as_i64(), v2["current"].as_bool()),
        (Some(2), Some(true))
    );
    assert_eq!(v2["metadata"]["print_time_s"], 1926);
    let (status, list) = a.get(&format!("/variants/{var}/files")).await;
    assert_eq!(status, 200);
    assert_eq!(versions(&list), vec![(2, true), (1, false)]);

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
    // Devices pull the variant's current file and print time as REST shows them.
    let mut pulled = sync_common::Pulled::default();
    pulled.drain(&a, 50).await;
    let cell = pulled
        .state()
        .entity(
            printstall_core::sync::EntityKind::Variant,
            uuid::Uuid::parse_str(&var).unwrap(),
        )
        .unwrap()
        .fields;
    assert_eq!(
        (
            cell["sliced_file_id"].as_str(),
            cell["print_time_s"].as_i64()
        ),
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
    let pending = start_upload_as(
        &a,
        &files_of(&var),
        "later.gcode",
        gcode.len(),
        &sha256_hex(&gcode),
    )
    .await;
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
    assert!(server.stored(&b).await.is_empty());
    // A's pending upload is still A's to complete.
    let (status, v3) = complete(&a, pending_id).await;
    assert_eq!((status, v3["version"].as_i64()), (201, Some(3)), "{v3}");
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn upload_versions_and_refusals_local_store(pool: PgPool) {
    let server = FileServer::start(pool, false, None).await;
    exercise(&server).await;
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn upload_versions_and_refusals_s3(pool: PgPool) {
    let server = FileServer::start(pool, true, None).await;
    exercise(&server).await;
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn quota_is_checked_before_anything_is_uploaded(pool: PgPool) {
    let bgcode = slicefile(BGCODE);
    let quota = bgcode.len() as u64 + 1000;
    let server = FileServer::start(pool, false, Some(quota)).await;
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
    let first = start_upload_as(&a, &files_of(&var), "one.bgcode", bgcode.len(), &sha).await;
    let (status, _) = a
        .post(
            &format!("/variants/{var}/files"),
            json!({"file_name": "two.bgcode", "size_bytes": bgcode.len(), "sha256": sha}),
        )
        .await;
    assert_eq!(status, 413);
    assert!(server.stored(&a).await.is_empty());

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
    let wrong = start_upload_as(
        &b,
        &files_of(&b_var),
        "x.bgcode",
        bgcode.len(),
        &"0".repeat(64),
    )
    .await;
    put_bytes(wrong["upload"]["url"].as_str().unwrap(), &bgcode).await;
    let (status, _) = complete(&b, wrong["upload_id"].as_str().unwrap()).await;
    assert_eq!(status, 422);
    start_upload_as(&b, &files_of(&b_var), "x.bgcode", bgcode.len(), &sha).await;
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn malformed_upload_requests_are_refused(pool: PgPool) {
    let server = FileServer::start(pool, false, None).await;
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

/// A large G-code (a real file's head and tail around its body repeated to 64 MiB) goes up in
/// parts and completes with the same metadata as the real file: the server streams it for
/// the hash and reads only its head and tail for the metadata (storage.rs counts the bytes).
async fn large_gcode(server: &FileServer) {
    let real = slicefile("prusaslicer_2.9.2_xl5is_5tool.gcode");
    let big = common::uploads::scaled_gcode(&real, 64 << 20);
    let expected = serde_json::to_value(
        printstall_core::slicefile::inspect_bytes(&real, "big.gcode").unwrap(),
    )
    .unwrap();
    let a = Api::register(
        &server.url,
        &format!("large-{}@example.com", uuid::Uuid::now_v7()),
    )
    .await;
    let var = new_variant(&a).await;
    let started = common::uploads::start_upload(&a, &files_of(&var), "big.gcode", &big).await;
    let parts = (big.len() as u64).div_ceil(printstall_server::api::files::PART_SIZE);
    assert!(parts >= 8);
    assert_eq!(started["multipart"]["part_count"], parts);
    common::uploads::send(&started, &big).await;
    let (status, file) = complete(&a, started["upload_id"].as_str().unwrap()).await;
    assert_eq!(status, 201, "{file}");
    assert_eq!(file["size_bytes"], big.len());
    assert_eq!(file["sha256"], sha256_hex(&big));
    let meta = &file["metadata"];
    assert!(meta["print_time_s"].as_u64().unwrap() > 0, "{meta}");
    for field in [
        "format",
        "slicer",
        "printer_model",
        "print_time_s",
        "layer_height_mm",
        "nozzle_diameter_mm",
        "filaments",
        "total_filament_g",
        "thumbnails",
    ] {
        assert_eq!(meta[field], expected[field], "{field}");
    }
    assert_eq!(sides(&file).len(), 2, "{file}");
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn large_gcode_upload_local_store(pool: PgPool) {
    let server = FileServer::start(pool, false, None).await;
    large_gcode(&server).await;
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn large_gcode_upload_s3(pool: PgPool) {
    let server = FileServer::start(pool, true, None).await;
    large_gcode(&server).await;
    server.stop().await;
}

//! A model's design files (STL binary and ASCII, plain 3MF) and multipart uploads, against
//! the local store behind the server's signed URLs and against the real S3-compatible server:
//! geometry read by the server, thumbnails drawn from the mesh by core's rasteriser,
//! versions, refusals that leave nothing behind, resuming a multipart upload from what the
//! store already holds, and abandoning one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Api;
use common::fixtures::{filament, model, seller_of, variant};
use common::uploads::{
    FileServer, complete, fetch, put_bytes, sha256_hex, sides, slicefile, start_upload, versions,
};
use printstall_server::api::files::{MULTIPART_THRESHOLD, PART_SIZE};
use serde_json::{Value, json};
use sqlx::PgPool;

type Tri = [[f32; 3]; 3];

/// The 12 triangles of a `side` mm cube on the bed.
fn cube(side: f32) -> Vec<Tri> {
    let c = |x: u8, y: u8, z: u8| {
        [
            f32::from(x) * side,
            f32::from(y) * side,
            f32::from(z) * side,
        ]
    };
    let quads = [
        [c(0, 0, 0), c(0, 1, 0), c(1, 1, 0), c(1, 0, 0)],
        [c(0, 0, 1), c(1, 0, 1), c(1, 1, 1), c(0, 1, 1)],
        [c(0, 0, 0), c(1, 0, 0), c(1, 0, 1), c(0, 0, 1)],
        [c(0, 1, 0), c(0, 1, 1), c(1, 1, 1), c(1, 1, 0)],
        [c(0, 0, 0), c(0, 0, 1), c(0, 1, 1), c(0, 1, 0)],
        [c(1, 0, 0), c(1, 1, 0), c(1, 1, 1), c(1, 0, 1)],
    ];
    quads
        .iter()
        .flat_map(|q| [[q[0], q[1], q[2]], [q[0], q[2], q[3]]])
        .collect()
}

fn binary_stl(tris: &[Tri]) -> Vec<u8> {
    let mut out = b"binary STL written by the test".to_vec();
    out.resize(80, b' ');
    out.extend_from_slice(&(tris.len() as u32).to_le_bytes());
    for t in tris {
        out.extend_from_slice(&[0u8; 12]);
        for p in t {
            for v in p {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        out.extend_from_slice(&[0, 0]);
    }
    out
}

fn ascii_stl(tris: &[Tri]) -> Vec<u8> {
    let mut s = String::from("solid cube\r\n");
    for t in tris {
        s.push_str("  facet normal 0 0 0\r\n    outer loop\r\n");
        for p in t {
            s.push_str(&format!("      vertex {} {} {}\r\n", p[0], p[1], p[2]));
        }
        s.push_str("    endloop\r\n  endfacet\r\n");
    }
    s.push_str("endsolid cube\r\n");
    s.into_bytes()
}

/// A wavy surface of `n` × `n` points: 2 (n-1)² triangles, for a file above the multipart
/// threshold.
fn terrain(n: usize) -> Vec<Tri> {
    let p = |i: usize, j: usize| {
        let (x, y) = (i as f32 * 0.5, j as f32 * 0.5);
        [x, y, 5.0 + (x * 0.2).sin() * 2.0 + (y * 0.3).cos() * 2.0]
    };
    let mut tris = Vec::with_capacity(2 * (n - 1) * (n - 1));
    for i in 0..n - 1 {
        for j in 0..n - 1 {
            tris.push([p(i, j), p(i + 1, j), p(i + 1, j + 1)]);
            tris.push([p(i, j), p(i + 1, j + 1), p(i, j + 1)]);
        }
    }
    tris
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A zip of stored (uncompressed) members.
fn zip(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in members {
        let offset = out.len() as u32;
        let crc = crc32(data);
        let header = |sig: u32, central: bool| {
            let mut h = sig.to_le_bytes().to_vec();
            if central {
                h.extend_from_slice(&20u16.to_le_bytes());
            }
            h.extend_from_slice(&20u16.to_le_bytes()); // version needed
            h.extend_from_slice(&0u16.to_le_bytes()); // flags
            h.extend_from_slice(&0u16.to_le_bytes()); // stored
            h.extend_from_slice(&[0, 0, 0x21, 0]); // time, date
            h.extend_from_slice(&crc.to_le_bytes());
            h.extend_from_slice(&(data.len() as u32).to_le_bytes());
            h.extend_from_slice(&(data.len() as u32).to_le_bytes());
            h.extend_from_slice(&(name.len() as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes()); // extra
            if central {
                h.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
                h.extend_from_slice(&0u32.to_le_bytes()); // external attributes
                h.extend_from_slice(&offset.to_le_bytes());
            }
            h.extend_from_slice(name.as_bytes());
            h
        };
        out.extend(header(0x0403_4b50, false));
        out.extend_from_slice(data);
        central.extend(header(0x0201_4b50, true));
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(members.len() as u16).to_le_bytes());
    out.extend_from_slice(&(members.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// A plain 3MF (no thumbnail, no slicer metadata) with two 20 mm cubes side by side.
fn plain_3mf() -> Vec<u8> {
    let mut vertices = String::new();
    let mut triangles = String::new();
    let mut index = std::collections::HashMap::new();
    for t in cube(20.0) {
        let ids: Vec<usize> = t
            .iter()
            .map(|p| {
                let key = format!("{} {} {}", p[0], p[1], p[2]);
                let next = index.len();
                *index.entry(key.clone()).or_insert_with(|| {
                    vertices.push_str(&format!(
                        "<vertex x=\"{}\" y=\"{}\" z=\"{}\"/>",
                        p[0], p[1], p[2]
                    ));
                    next
                })
            })
            .collect();
        triangles.push_str(&format!(
            "<triangle v1=\"{}\" v2=\"{}\" v3=\"{}\"/>",
            ids[0], ids[1], ids[2]
        ));
    }
    let model = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<model unit="millimeter" xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02">
 <resources><object id="1" type="model"><mesh><vertices>{vertices}</vertices><triangles>{triangles}</triangles></mesh></object></resources>
 <build><item objectid="1"/><item objectid="1" transform="1 0 0 0 1 0 0 0 1 30 0 0"/></build>
</model>"#
    );
    let types = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="model" ContentType="application/vnd.ms-package.3dmanufacturing-3dmodel+xml"/></Types>"#;
    let rels = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Target="/3D/3dmodel.model" Id="rel0" Type="http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"/></Relationships>"#;
    zip(&[
        ("[Content_Types].xml", types.as_bytes().to_vec()),
        ("_rels/.rels", rels.as_bytes().to_vec()),
        ("3D/3dmodel.model", model.into_bytes()),
    ])
}

/// Uploads a small file in one `PUT` and completes it (must be 201).
async fn upload_design(api: &Api, model: &str, name: &str, data: &[u8]) -> Value {
    let started = start_upload(api, &format!("/models/{model}/files"), name, data).await;
    assert_eq!(started["model_id"], model);
    assert_eq!(started["variant_id"], Value::Null);
    assert_eq!(started["multipart"], Value::Null);
    put_bytes(started["upload"]["url"].as_str().unwrap(), data).await;
    let (status, file) = complete(api, started["upload_id"].as_str().unwrap()).await;
    assert_eq!(status, 201, "{file}");
    file
}

async fn exercise(server: &FileServer) {
    let a = Api::register(
        &server.url,
        &format!("a-{}@example.com", uuid::Uuid::now_v7()),
    )
    .await;
    let mdl = model(&a, "Calibration cube").await;

    // A binary STL: geometry read by the server, thumbnails drawn from the mesh.
    let stl = binary_stl(&cube(10.0));
    let v1 = upload_design(&a, &mdl, "cube.stl", &stl).await;
    let v1_id = v1["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (v1["version"].as_i64(), v1["current"].as_bool()),
        (Some(1), Some(true))
    );
    assert_eq!(v1["model_id"], mdl.as_str());
    assert_eq!(v1["metadata"]["format"], "stl");
    assert_eq!(
        v1["metadata"]["model"],
        json!({"objects": 1, "triangles": 12, "bounding_box_mm": [10.0, 10.0, 10.0], "volume_cm3": 1.0})
    );
    assert_eq!(sides(&v1), vec![(128, 128, 128), (512, 512, 512)]);
    for (size, width) in [(128u32, 128u32), (512, 512)] {
        let (status, link) = a
            .get(&format!(
                "/models/{mdl}/files/{v1_id}/thumbnail?size={size}"
            ))
            .await;
        assert_eq!(status, 200, "{link}");
        let png = fetch(link["url"].as_str().unwrap()).await;
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), width);
    }
    let (status, link) = a
        .get(&format!("/models/{mdl}/files/{v1_id}/download"))
        .await;
    assert_eq!(status, 200, "{link}");
    assert_eq!(fetch(link["url"].as_str().unwrap()).await, stl);

    // An ASCII STL (CRLF) becomes version 2 and current.
    let v2 = upload_design(&a, &mdl, "cube ascii.stl", &ascii_stl(&cube(10.0))).await;
    assert_eq!(
        (v2["version"].as_i64(), v2["current"].as_bool()),
        (Some(2), Some(true))
    );
    assert_eq!(v2["metadata"]["model"]["triangles"], 12);

    // A plain 3MF without a thumbnail: two cubes, one picture drawn from both.
    let v3 = upload_design(&a, &mdl, "two cubes.3mf", &plain_3mf()).await;
    assert_eq!(v3["metadata"]["format"], "3mf");
    assert_eq!(
        v3["metadata"]["model"],
        json!({"objects": 2, "triangles": 24, "bounding_box_mm": [50.0, 20.0, 20.0], "volume_cm3": 16.0})
    );
    assert_eq!(v3["metadata"]["thumbnails"], json!([]), "nothing embedded");
    assert_eq!(sides(&v3), vec![(128, 128, 128), (512, 512, 512)]);
    let v3_id = v3["id"].as_str().unwrap().to_owned();

    let (_, list) = a.get(&format!("/models/{mdl}/files")).await;
    assert_eq!(versions(&list), vec![(3, true), (2, false), (1, false)]);

    // Restore version 1 (owner only).
    let seller = seller_of(&a).await;
    let (status, _) = seller
        .post(&format!("/models/{mdl}/files/{v1_id}/restore"), json!({}))
        .await;
    assert_eq!(status, 403);
    let (status, restored) = a
        .post(&format!("/models/{mdl}/files/{v1_id}/restore"), json!({}))
        .await;
    assert_eq!(
        (status, restored["current"].as_bool()),
        (200, Some(true)),
        "{restored}"
    );
    let (_, list) = a.get(&format!("/models/{mdl}/files")).await;
    let current: Vec<bool> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["current"].as_bool().unwrap())
        .collect();
    assert_eq!(current, vec![false, false, true]);
    let before = server.stored(&a).await;

    // Refusals leave nothing behind: a G-code on a model, an STL on a variant, a lying STL.
    let gcode = slicefile("prusaslicer_2.6.0_mini_cube.gcode");
    let fil = filament(&a, "Orange").await;
    let var = variant(&a, &mdl, &fil).await;
    let mut lying = binary_stl(&cube(10.0));
    lying[80..84].copy_from_slice(&u32::MAX.to_le_bytes());
    for (path, name, data, expected) in [
        (
            format!("/models/{mdl}/files"),
            "cube.gcode",
            gcode.clone(),
            "G-code belongs to a variant",
        ),
        (
            format!("/variants/{var}/files"),
            "cube.stl",
            stl.clone(),
            "design file",
        ),
        (format!("/models/{mdl}/files"), "bomb.stl", lying, "at most"),
    ] {
        let started = start_upload(&a, &path, name, &data).await;
        put_bytes(started["upload"]["url"].as_str().unwrap(), &data).await;
        let (status, err) = complete(&a, started["upload_id"].as_str().unwrap()).await;
        assert_eq!(status, 422, "{name}: {err}");
        assert_eq!(err["error"]["field"], "file");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{name}: {message}");
        assert_eq!(
            server.stored(&a).await,
            before,
            "{name}: nothing half-stored"
        );
    }

    // A file above the threshold goes up in parts; completing early names the missing ones,
    // and the upload resumes from what the store holds.
    let big = binary_stl(&terrain(412));
    assert!(big.len() as u64 > 2 * PART_SIZE && PART_SIZE == MULTIPART_THRESHOLD);
    let started = start_upload(&a, &format!("/models/{mdl}/files"), "terrain.stl", &big).await;
    let upload_id = started["upload_id"].as_str().unwrap().to_owned();
    assert_eq!(started["upload"], Value::Null);
    let multipart = &started["multipart"];
    assert_eq!(multipart["part_count"], 3);
    assert_eq!(multipart["part_size_bytes"], PART_SIZE);
    assert_eq!(multipart["parts_done"], json!([]));
    let parts = multipart["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 3);
    let chunk = |n: usize| {
        let start = (n - 1) * PART_SIZE as usize;
        &big[start..(start + PART_SIZE as usize).min(big.len())]
    };
    assert_eq!(parts[2]["size_bytes"], chunk(3).len());
    put_bytes(parts[0]["url"].as_str().unwrap(), chunk(1)).await;
    let (status, err) = complete(&a, &upload_id).await;
    assert_eq!(status, 409, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("parts 2, 3 of 3"),
        "{err}"
    );
    // The connection "comes back": ask what is missing, send only that.
    let (status, resumed) = a.get(&format!("/uploads/{upload_id}")).await;
    assert_eq!(status, 200, "{resumed}");
    assert_eq!(resumed["state"], "pending");
    assert_eq!(resumed["multipart"]["parts_done"], json!([1]));
    assert_eq!(resumed["uploaded_bytes"], PART_SIZE);
    let missing = resumed["multipart"]["parts"].as_array().unwrap();
    let numbers: Vec<u64> = missing
        .iter()
        .map(|p| p["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, vec![2, 3]);
    for p in missing {
        let n = p["number"].as_u64().unwrap() as usize;
        put_bytes(p["url"].as_str().unwrap(), chunk(n)).await;
    }
    let (status, file) = complete(&a, &upload_id).await;
    assert_eq!(status, 201, "{file}");
    assert_eq!(file["size_bytes"], big.len());
    assert_eq!(file["sha256"], sha256_hex(&big));
    assert_eq!(file["metadata"]["model"]["triangles"], 2 * 411 * 411);
    assert_eq!(sides(&file), vec![(128, 128, 128), (512, 512, 512)]);
    let (status, again) = complete(&a, &upload_id).await;
    assert_eq!(
        (status, &again["id"]),
        (200, &file["id"]),
        "a retried completion"
    );
    let (_, state) = a.get(&format!("/uploads/{upload_id}")).await;
    assert_eq!(
        (state["state"].as_str(), state["file_id"].as_str()),
        (Some("completed"), file["id"].as_str())
    );
    let (status, _) = a.delete(&format!("/uploads/{upload_id}")).await;
    assert_eq!(status, 409, "a completed upload stays");
    let (status, link) = a
        .get(&format!(
            "/models/{mdl}/files/{}/download",
            file["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        fetch(link["url"].as_str().unwrap()).await,
        big,
        "joined in order"
    );
    let objects = server.stored(&a).await;
    assert!(
        objects.iter().all(|k| !k.contains(".parts")),
        "no parts left over: {objects:?}"
    );

    // Abandoning a multipart upload drops its parts and its reservation.
    let started = start_upload(&a, &format!("/models/{mdl}/files"), "again.stl", &big).await;
    let abandon_id = started["upload_id"].as_str().unwrap().to_owned();
    put_bytes(
        started["multipart"]["parts"][0]["url"].as_str().unwrap(),
        chunk(1),
    )
    .await;
    let (status, _) = seller.delete(&format!("/uploads/{abandon_id}")).await;
    assert_eq!(status, 403);
    let (status, out) = a.delete(&format!("/uploads/{abandon_id}")).await;
    assert_eq!(status, 204, "{out}");
    let (status, _) = a.get(&format!("/uploads/{abandon_id}")).await;
    assert_eq!(status, 404);
    assert_eq!(server.stored(&a).await, objects);
    let pending: i64 = sqlx::query_scalar(
        "select count(*) from file_upload where shop_id = $1 and completed_at is null",
    )
    .bind(uuid::Uuid::parse_str(&a.shop_id).unwrap())
    .fetch_one(&server.pool)
    .await
    .unwrap();
    assert_eq!(pending, 0, "refused and abandoned reservations are gone");

    // Another shop sees none of it.
    let b = Api::register(
        &server.url,
        &format!("b-{}@example.com", uuid::Uuid::now_v7()),
    )
    .await;
    let b_mdl = model(&b, "B's own").await;
    for (method, path) in [
        ("GET", format!("/models/{mdl}/files")),
        ("GET", format!("/models/{mdl}/files/{v3_id}/download")),
        ("GET", format!("/models/{b_mdl}/files/{v3_id}/thumbnail")),
        ("POST", format!("/models/{b_mdl}/files/{v3_id}/restore")),
        ("GET", format!("/uploads/{upload_id}")),
        ("DELETE", format!("/uploads/{upload_id}")),
    ] {
        let body = (method == "POST").then(|| json!({}));
        let (status, out) = b.call(method.parse().unwrap(), &path, body).await;
        assert_eq!(status, 404, "{method} {path}: {out}");
    }
    let (status, _) = b
        .post(
            &format!("/models/{mdl}/files"),
            json!({"file_name": "x.stl", "size_bytes": 100, "sha256": "0".repeat(64)}),
        )
        .await;
    assert_eq!(status, 404);
    assert!(server.stored(&b).await.is_empty());
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn design_files_and_multipart_local_store(pool: PgPool) {
    let server = FileServer::start(pool, false, None).await;
    exercise(&server).await;
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn design_files_and_multipart_s3(pool: PgPool) {
    let server = FileServer::start(pool, true, None).await;
    exercise(&server).await;
    server.stop().await;
}

//! A user of one shop never sees or changes a row of another: every mounted route is called
//! with a second shop's token and the first shop's ids, and answers 404 or an empty list,
//! never one of the first shop's rows. A route added without a case here fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use common::fixtures::{event, filament, model, printer, product, spool, variant};
use common::{Api, start_api};
use serde_json::{Value, json};
use sqlx::PgPool;

/// Routes that hold no shop data (sign-in, the document itself).
fn exempt(path: &str) -> bool {
    path.starts_with("/api/v1/auth/")
        || path == "/api/v1/openapi.json"
        // A stream that never ends; its pokes are per shop (tested in sync_pull.rs).
        || path == "/api/v1/sync/events"
}

/// The sync protocol answers malformed requests with its own codes (tested in sync_push.rs
/// and sync_pull.rs), not the REST API's.
fn has_own_error_codes(path: &str) -> bool {
    path.starts_with("/api/v1/sync/")
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn every_route_with_another_shops_token(pool: PgPool) {
    let server = start_api(pool.clone()).await;
    let a = Api::register(&server.url, "a@example.com").await;
    let b = Api::register(&server.url, "b@example.com").await;

    // Shop A has one of everything.
    let fil = filament(&a, "Galaxy Black").await;
    let sp = spool(&a, &fil, 1000).await;
    let mdl = model(&a, "Flexi Rex").await;
    let var = variant(&a, &mdl, &fil).await;
    let prn = printer(&a, "MK4S").await;
    let prd = product(&a, "REX", Some(&var)).await;
    let evt = event(&a, "Advent market").await;
    let (_, job) = a
        .post(
            "/print-jobs",
            json!({"variant_id": var, "units": 2, "printer_id": prn, "event_id": evt}),
        )
        .await;
    let job = job["id"].as_str().unwrap().to_owned();
    let (_, sale) = a
        .post("/sales", json!({"lines": [{"product_id": prd, "quantity": 1, "unit_price": 1500}], "payment_method": "cash", "event_id": evt}))
        .await;
    let sale = sale["id"].as_str().unwrap().to_owned();
    let (_, token) = a
        .post(
            "/printer-tokens",
            json!({"name": "MK4S", "printer_id": prn}),
        )
        .await;
    let token = token["id"].as_str().unwrap().to_owned();
    a.call(
        reqwest::Method::PUT,
        &format!("/events/{evt}/plan"),
        Some(json!({"lines": [{"product_id": prd, "target": 5}]})),
    )
    .await;
    // A sliced file of the variant (completed) and an upload in progress.
    let sliced = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/slicefiles/prusaslicer_2.6.0_mini_cube.gcode"
    ))
    .unwrap();
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&sliced));
    let mut uploads = Vec::new();
    for _ in 0..2 {
        let (status, up) = a
            .post(
                &format!("/variants/{var}/files"),
                json!({"file_name": "cube.gcode", "size_bytes": sliced.len(), "sha256": sha}),
            )
            .await;
        assert_eq!(status, 201, "{up}");
        let put = reqwest::Client::new()
            .put(up["upload"]["url"].as_str().unwrap())
            .body(sliced.clone())
            .send()
            .await
            .unwrap();
        assert!(put.status().is_success());
        uploads.push(up["upload_id"].as_str().unwrap().to_owned());
    }
    let (status, file) = a
        .post(&format!("/uploads/{}/complete", uploads[0]), json!({}))
        .await;
    assert_eq!(status, 201, "{file}");
    let sliced_file = file["id"].as_str().unwrap().to_owned();
    let upload = uploads[1].clone();
    let a_ids = [
        &fil,
        &sp,
        &mdl,
        &var,
        &prn,
        &prd,
        &evt,
        &job,
        &sale,
        &a.shop_id,
        &sliced_file,
        &upload,
        &token,
        &a.user_id,
    ];
    let id_of: BTreeMap<&str, &String> = [
        ("products", &prd),
        ("sales", &sale),
        ("filaments", &fil),
        ("spools", &sp),
        ("models", &mdl),
        ("variants", &var),
        ("printers", &prn),
        ("print-jobs", &job),
        ("events", &evt),
        ("uploads", &upload),
        ("printer-tokens", &token),
    ]
    .into_iter()
    .collect();

    // (method, path) -> (body, expected status). Collections: B's creations that name A's
    // rows are 404; lists are empty.
    let cases: BTreeMap<(&str, &str), (Option<Value>, u16)> = [
        (("GET", "/shop"), (None, 200)),
        // B changes, exports and (with a wrong password) tries to erase only its own.
        (("PUT", "/shop/business"), (Some(json!({"tax_id": "B-TAX"})), 200)),
        (("GET", "/export"), (None, 200)),
        (
            ("POST", "/shop/delete"),
            (Some(json!({"password": "wrong password", "shop_name": "Test stall"})), 403),
        ),
        (
            ("POST", "/account/delete"),
            (Some(json!({"password": "wrong password"})), 403),
        ),
        (("GET", "/shop/digest"), (None, 200)),
        (
            ("PUT", "/shop/digest"),
            (Some(json!({"enabled": false, "low_filament_cg": 1000})), 200),
        ),
        (("GET", "/shop/members"), (None, 200)),
        // B's owner changes only B's own settings and members: A's member is not found.
        (("PATCH", "/shop"), (Some(json!({"name": "B's stall", "tax_rate_bp": 700})), 200)),
        (("PATCH", "/shop/members/{user_id}"), (Some(json!({"role": "seller"})), 404)),
        (("DELETE", "/shop/members/{user_id}"), (None, 404)),
        (("GET", "/products"), (None, 200)),
        (
            ("POST", "/products"),
            (Some(json!({"sku": "X", "name": "X", "price": 1, "variant_id": var})), 404),
        ),
        (("GET", "/products/{id}"), (None, 404)),
        (("PATCH", "/products/{id}"), (Some(json!({"name": "stolen"})), 404)),
        (("DELETE", "/products/{id}"), (None, 404)),
        (
            ("POST", "/products/{id}/adjust"),
            (Some(json!({"quantity": 1, "reason": "adjusted"})), 404),
        ),
        (("POST", "/products/{id}/count"), (Some(json!({"counted": 1})), 404)),
        (("GET", "/products/{id}/ledger"), (None, 404)),
        (("GET", "/sales"), (None, 200)),
        (
            ("POST", "/sales"),
            (Some(json!({"lines": [{"product_id": prd, "quantity": 1, "unit_price": 1}], "payment_method": "cash"})), 404),
        ),
        (("GET", "/sales/{id}"), (None, 404)),
        (("POST", "/sales/{id}/void"), (Some(json!({"reason": "stolen"})), 404)),
        (("GET", "/filaments"), (None, 200)),
        // A filament names no other row: B may create its own (checked for leaks below).
        (
            ("POST", "/filaments"),
            (Some(json!({"brand": "B", "material": "pla", "colour": {"name": "Red", "hex": "#ff0000"}, "diameter": "1.75", "density_mg_cm3": 1240, "net_weight_cg": 100000})), 201),
        ),
        (("GET", "/filaments/{id}"), (None, 404)),
        (("PATCH", "/filaments/{id}"), (Some(json!({"brand": "stolen"})), 404)),
        (("DELETE", "/filaments/{id}"), (None, 404)),
        (("GET", "/spools"), (None, 200)),
        (
            ("POST", "/spools"),
            (Some(json!({"filament_id": fil, "initial_net_cg": 100})), 404),
        ),
        (("GET", "/spools/{id}"), (None, 404)),
        (("PATCH", "/spools/{id}"), (Some(json!({"location": "stolen"})), 404)),
        (("DELETE", "/spools/{id}"), (None, 404)),
        (
            ("POST", "/spools/{id}/use"),
            (Some(json!({"used_cg": 100, "reason": "test"})), 404),
        ),
        (
            ("POST", "/spools/{id}/weigh"),
            (Some(json!({"gross_cg": 50000, "empty_spool_cg": 100})), 404),
        ),
        (("GET", "/spools/{id}/ledger"), (None, 404)),
        (("GET", "/models"), (None, 200)),
        (
            ("POST", "/models"),
            (Some(json!({"name": "B", "source_site": "own", "licence": {"name": "own", "allows_selling": true}})), 201),
        ),
        (("GET", "/models/{id}"), (None, 404)),
        (("PATCH", "/models/{id}"), (Some(json!({"name": "stolen"})), 404)),
        (("DELETE", "/models/{id}"), (None, 404)),
        (("GET", "/variants"), (None, 200)),
        (
            ("POST", "/variants"),
            (Some(json!({"model_id": mdl, "name": "V", "parts_per_plate": 1})), 404),
        ),
        (("GET", "/variants/{id}"), (None, 404)),
        (("PATCH", "/variants/{id}"), (Some(json!({"name": "stolen"})), 404)),
        (("DELETE", "/variants/{id}"), (None, 404)),
        (("GET", "/printers"), (None, 200)),
        (
            ("POST", "/printers"),
            (Some(json!({"name": "P", "loaded_spool_id": sp})), 404),
        ),
        (("GET", "/printers/{id}"), (None, 404)),
        (("PATCH", "/printers/{id}"), (Some(json!({"name": "stolen"})), 404)),
        (("DELETE", "/printers/{id}"), (None, 404)),
        (("GET", "/printer-history"), (None, 200)),
        (("GET", "/printer-history/jobs"), (None, 200)),
        (("GET", "/print-jobs"), (None, 200)),
        (
            ("POST", "/print-jobs"),
            (Some(json!({"variant_id": var, "units": 1})), 404),
        ),
        (("GET", "/print-jobs/{id}"), (None, 404)),
        (("PATCH", "/print-jobs/{id}"), (Some(json!({"notes": "stolen"})), 404)),
        (("POST", "/print-jobs/{id}/move"), (Some(json!({"priority": 1})), 404)),
        (
            ("POST", "/print-jobs/{id}/status"),
            (Some(json!({"status": "printing"})), 404),
        ),
        (("POST", "/print-jobs/{id}/finish"), (Some(json!({})), 404)),
        (("POST", "/print-jobs/{id}/fail"), (Some(json!({})), 404)),
        (("GET", "/events"), (None, 200)),
        (
            ("POST", "/events"),
            (Some(json!({"name": "E", "starts_on": "2026-12-01", "ends_on": "2026-12-01"})), 201),
        ),
        (("GET", "/events/{id}"), (None, 404)),
        (("PATCH", "/events/{id}"), (Some(json!({"name": "stolen"})), 404)),
        (("DELETE", "/events/{id}"), (None, 404)),
        (("GET", "/events/{id}/plan"), (None, 404)),
        (("PUT", "/events/{id}/plan"), (Some(json!({"lines": []})), 404)),
        (("GET", "/events/{id}/report"), (None, 404)),
        (("GET", "/variants/{id}/files"), (None, 404)),
        (
            ("POST", "/variants/{id}/files"),
            (Some(json!({"file_name": "x.gcode", "size_bytes": 10, "sha256": "0".repeat(64)})), 404),
        ),
        (("POST", "/variants/{id}/files/{file_id}/restore"), (Some(json!({})), 404)),
        (("GET", "/variants/{id}/files/{file_id}/download"), (None, 404)),
        (("GET", "/variants/{id}/files/{file_id}/thumbnail"), (None, 404)),
        (("POST", "/uploads/{id}/complete"), (Some(json!({})), 404)),
        (("GET", "/uploads/{id}"), (None, 404)),
        (("DELETE", "/uploads/{id}"), (None, 404)),
        (("GET", "/models/{id}/files"), (None, 404)),
        (
            ("POST", "/models/{id}/files"),
            (Some(json!({"file_name": "x.stl", "size_bytes": 10, "sha256": "0".repeat(64)})), 404),
        ),
        (("POST", "/models/{id}/files/{file_id}/restore"), (Some(json!({})), 404)),
        (("GET", "/models/{id}/files/{file_id}/download"), (None, 404)),
        (("GET", "/models/{id}/files/{file_id}/thumbnail"), (None, 404)),
        (
            ("POST", "/sync/push"),
            (
                Some(json!({"protocol": 1, "device_id": uuid::Uuid::now_v7(), "ops": []})),
                200,
            ),
        ),
        (("GET", "/sync/pull"), (None, 200)),
        // B's own audit log (its sign-up and the rows it made above), none of A's.
        (("GET", "/audit"), (None, 200)),
        (("GET", "/audit/export"), (None, 200)),
        (("GET", "/printer-tokens"), (None, 200)),
        (
            ("POST", "/printer-tokens"),
            (Some(json!({"name": "P", "printer_id": prn})), 404),
        ),
        (("DELETE", "/printer-tokens/{id}"), (None, 404)),
        (("POST", "/imports/spoolman"), (Some(json!({"spools": []})), 200)),
        // `{kind}` is not a kind: 404 (each kind's export and import by another shop is
        // walked in csv_io.rs).
        (("GET", "/csv/{kind}"), (None, 404)),
        (("POST", "/csv/{kind}"), (Some(json!({"csv": "sku,on_hand\n"})), 404)),
    ]
    .into_iter()
    .collect();

    let mut walked = 0;
    for (method, full) in printstall_server::api::mounted_routes() {
        if exempt(&full) {
            continue;
        }
        let path = full.trim_start_matches("/api/v1");
        let Some((body, expected)) = cases.get(&(method.as_str(), path)) else {
            panic!("{method} {path} is mounted but not walked here; add a case");
        };
        let concrete = if path.contains("{id}") {
            let resource = path.trim_start_matches('/').split('/').next().unwrap();
            path.replace("{id}", id_of[resource].as_str())
        } else {
            path.to_owned()
        }
        .replace("{file_id}", &sliced_file)
        .replace("{user_id}", &a.user_id);
        let (status, out) = b
            .call(method.parse().unwrap(), &concrete, body.clone())
            .await;
        assert_eq!(status, *expected, "{method} {concrete}: {out}");
        let text = out.to_string();
        for id in a_ids {
            assert!(
                !text.contains(id.as_str()),
                "{method} {concrete} leaks {id}: {text}"
            );
        }
        if method == "GET" && status == 200 && out.get("items").is_some() && path != "/audit" {
            assert_eq!(out["items"], json!([]), "{method} {concrete}");
        }
        walked += 1;
    }
    assert_eq!(
        walked,
        cases.len(),
        "a case names a route that is not mounted"
    );

    // Filters and references with A's ids, from B's own rows.
    for path in [
        format!("/spools?filament_id={fil}"),
        format!("/variants?model_id={mdl}"),
        format!("/print-jobs?status=all&printer_id={prn}"),
        format!("/print-jobs?event_id={evt}&status=all"),
        format!("/printer-history?printer_id={prn}"),
        format!("/spools?q=SP-{fil}-1000"),
        "/products?q=REX".to_owned(),
        format!("/sales?event_id={evt}"),
        "/sales?payment_method=cash".to_owned(),
        "/print-jobs?status=all&q=MK4S".to_owned(),
    ] {
        let (status, out) = b.get(&path).await;
        assert_eq!((status, &out["items"]), (200, &json!([])), "{path}");
    }
    let b_fil = filament(&b, "Blue").await;
    let b_sp = spool(&b, &b_fil, 100).await;
    let b_mdl = model(&b, "B model").await;
    let b_var = variant(&b, &b_mdl, &b_fil).await;
    let b_prn = printer(&b, "B printer").await;
    let b_evt = event(&b, "B market").await;
    let (_, b_job) = b
        .post("/print-jobs", json!({"variant_id": b_var, "units": 1}))
        .await;
    let b_job = b_job["id"].as_str().unwrap().to_owned();
    for (method, path, body) in [
        (
            "PATCH",
            format!("/spools/{b_sp}"),
            json!({"filament_id": fil}),
        ),
        (
            "PATCH",
            format!("/printers/{b_prn}"),
            json!({"loaded_spool_id": sp}),
        ),
        (
            "PATCH",
            format!("/variants/{b_var}"),
            json!({"model_id": mdl}),
        ),
        (
            "PATCH",
            format!("/variants/{b_var}"),
            json!({"filament_needs": [{"filament_id": fil, "per_unit_cg": 100}]}),
        ),
        (
            "PATCH",
            format!("/print-jobs/{b_job}"),
            json!({"printer_id": prn}),
        ),
        (
            "PATCH",
            format!("/print-jobs/{b_job}"),
            json!({"event_id": evt}),
        ),
        (
            "POST",
            format!("/print-jobs/{b_job}/move"),
            json!({"before": job}),
        ),
        (
            "POST",
            format!("/print-jobs/{b_job}/finish"),
            json!({"spools": [{"spool_id": sp, "used_cg": 100}]}),
        ),
        (
            "POST",
            format!("/print-jobs/{b_job}/finish"),
            json!({"produced": [{"product_id": prd, "quantity": 1}]}),
        ),
        (
            "POST",
            format!("/print-jobs/{b_job}/fail"),
            json!({"spools": [{"spool_id": sp, "used_cg": 100}]}),
        ),
        (
            "PUT",
            format!("/events/{b_evt}/plan"),
            json!({"lines": [{"product_id": prd, "target": 1}]}),
        ),
        (
            "POST",
            format!("/spools/{b_sp}/use"),
            json!({"used_cg": 100, "reason": "print", "job_id": job}),
        ),
    ] {
        let (status, out) = b
            .call(method.parse().unwrap(), &path, Some(body.clone()))
            .await;
        assert_eq!(status, 404, "{method} {path} {body}: {out}");
    }

    // Shop A is untouched.
    let (_, shop) = a.get("/shop").await;
    assert_eq!(
        (shop["name"].as_str(), shop["tax_rate_bp"].as_i64()),
        (Some("Test stall"), Some(1900))
    );
    let (_, members) = a.get("/shop/members").await;
    assert_eq!(members["members"][0]["role"], "owner", "{members}");
    let (_, s) = a.get(&format!("/spools/{sp}")).await;
    assert_eq!(
        (s["left_cg"].as_i64(), s["location"].is_null()),
        (Some(100000), true)
    );
    let (_, p) = a.get(&format!("/products/{prd}")).await;
    assert_eq!(
        (p["name"].as_str(), p["stock"]["on_hand"].as_i64()),
        (Some("Rex REX"), Some(-1))
    );
    let (_, j) = a.get(&format!("/print-jobs/{job}")).await;
    assert_eq!(
        (j["status"].as_str(), j["notes"].is_null()),
        (Some("queued"), true)
    );
    let (_, plan) = a.get(&format!("/events/{evt}/plan")).await;
    assert_eq!(plan["lines"][0]["target"], 5);
    for (path, key) in [
        (format!("/filaments/{fil}"), "brand"),
        (format!("/models/{mdl}"), "name"),
        (format!("/variants/{var}"), "name"),
        (format!("/printers/{prn}"), "name"),
        (format!("/events/{evt}"), "name"),
    ] {
        let (status, out) = a.get(&path).await;
        assert_eq!(status, 200);
        assert_ne!(out[key], "stolen", "{path}");
        assert_eq!(out["archived"], false, "{path}");
    }
    let (_, files) = a.get(&format!("/variants/{var}/files")).await;
    assert_eq!(files["items"].as_array().unwrap().len(), 1, "{files}");
    assert_eq!(files["items"][0]["current"], true);
    let (status, _) = a
        .post(&format!("/uploads/{upload}/complete"), json!({}))
        .await;
    assert_eq!(status, 201, "A's upload is still A's to complete");
    let usage: i64 = sqlx::query_scalar("select count(*) from spool_usage")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(usage, 0);
    server.stop().await;
}

/// Every mounted route refuses malformed requests in the API's error shape: a path id that is
/// not a UUID (400 `bad_path`), an unknown id (404), a body that is not JSON (400
/// `bad_json`), without the JSON content type (400), of the wrong shape (422), and list
/// parameters out of range (422) or of the wrong type (400).
#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn every_route_refuses_malformed_requests(pool: PgPool) {
    let server = start_api(pool).await;
    let api = Api::register(&server.url, "a@example.com").await;
    let raw = |method: &str, path: &str, body: &'static str, json: bool| {
        let mut req = api
            .http
            .request(
                method.parse().unwrap(),
                format!("{}/api/v1{path}", api.base),
            )
            .bearer_auth(&api.token)
            .body(body);
        if json {
            req = req.header("content-type", "application/json");
        }
        async move {
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let v: Value = r.json().await.unwrap_or(Value::Null);
            (status, v)
        }
    };
    for (method, full) in printstall_server::api::mounted_routes() {
        if exempt(&full) || has_own_error_codes(&full) {
            continue;
        }
        // A member's `{user_id}` is checked like any `{id}`.
        let path = full
            .trim_start_matches("/api/v1")
            .replace("{file_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{user_id}", "{id}");
        let path = path.as_str();
        let unknown = path.replace("{id}", &uuid::Uuid::now_v7().to_string());
        let has_body = matches!(method.as_str(), "POST" | "PATCH" | "PUT");
        if path.contains("{id}") {
            let bad = path.replace("{id}", "not-a-uuid");
            let (status, err) = raw(&method, &bad, "{}", true).await;
            assert_eq!(
                (status, err["error"]["code"].as_str()),
                (400, Some("bad_path")),
                "{method} {bad}"
            );
            if !has_body {
                let (status, err) = raw(&method, &unknown, "", false).await;
                assert_eq!(
                    (status, err["error"]["code"].as_str()),
                    (404, Some("not_found")),
                    "{method} {unknown}"
                );
            }
        }
        if has_body {
            let (status, err) = raw(&method, &unknown, "not json", true).await;
            assert_eq!(
                (status, err["error"]["code"].as_str()),
                (400, Some("bad_json")),
                "{method} {path}"
            );
            let (status, err) = raw(&method, &unknown, "{}", false).await;
            assert_eq!(
                (status, err["error"]["code"].as_str()),
                (400, Some("bad_content_type")),
                "{method} {path}"
            );
            // Wrong shape: 422 (an update may first find that the unknown row is not there).
            let (status, err) = raw(&method, &unknown, "\"text\"", true).await;
            let ok = status == 422 || (path.contains("{id}") && status == 404);
            assert!(ok, "{method} {path}: {status} {err}");
        }
        // Lists only (the shop's settings, members and digest, the export zip, and the running
        // jobs' printer reports, at most one job per printer, take no list parameters).
        if method == "GET"
            && !path.contains("{id}")
            && !path.starts_with("/shop")
            && path != "/export"
            && path != "/printer-history/jobs"
        {
            for (query, code) in [
                ("limit=0", 422),
                ("limit=201", 422),
                ("limit=many", 400),
                ("cursor=garbage", 422),
            ] {
                let (status, err) = raw(&method, &format!("{path}?{query}"), "", false).await;
                assert_eq!(status, code, "{method} {path}?{query}: {err}");
            }
        }
    }
    server.stop().await;
}

/// Creating a row with an id that is already taken answers the same 409 body whether the id
/// is the caller's shop's or another shop's: an id never tells one shop that another shop
/// has a row.
#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn a_taken_id_answers_the_same_whoever_took_it(pool: PgPool) {
    let server = start_api(pool).await;
    let a = Api::register(&server.url, "a@example.com").await;
    let b = Api::register(&server.url, "b@example.com").await;
    struct Own {
        fil: String,
        mdl: String,
        var: String,
        prd: String,
    }
    let mut own = Vec::new();
    for api in [&a, &b] {
        let fil = filament(api, "Galaxy Black").await;
        let mdl = model(api, "Flexi Rex").await;
        let var = variant(api, &mdl, &fil).await;
        let prd = product(api, "REX", Some(&var)).await;
        own.push(Own { fil, mdl, var, prd });
    }
    let mut n = 0;
    let mut body = |path: &str, id: &str, o: &Own| -> Value {
        n += 1;
        match path {
            "/products" => {
                json!({"id": id, "sku": format!("DUP-{n}"), "name": "Dup", "price": 1})
            }
            "/filaments" => {
                json!({"id": id, "brand": "B", "material": "pla", "colour": {"name": "Red", "hex": "#ff0000"}, "diameter": "1.75", "density_mg_cm3": 1240, "net_weight_cg": 100000})
            }
            "/spools" => json!({"id": id, "filament_id": o.fil, "initial_net_cg": 100}),
            "/models" => {
                json!({"id": id, "name": "M", "source_site": "own", "licence": {"name": "own", "allows_selling": true}})
            }
            "/variants" => {
                json!({"id": id, "model_id": o.mdl, "name": format!("V{n}"), "parts_per_plate": 1})
            }
            "/printers" => json!({"id": id, "name": format!("P{n}")}),
            "/events" => {
                json!({"id": id, "name": "E", "starts_on": "2026-12-01", "ends_on": "2026-12-01"})
            }
            "/print-jobs" => json!({"id": id, "variant_id": o.var, "units": 1}),
            "/sales" => {
                json!({"id": id, "lines": [{"product_id": o.prd, "quantity": 1, "unit_price": 1}], "payment_method": "cash"})
            }
            other => panic!("{other}"),
        }
    };
    for path in [
        "/products",
        "/filaments",
        "/spools",
        "/models",
        "/variants",
        "/printers",
        "/events",
        "/print-jobs",
        "/sales",
    ] {
        let id = uuid::Uuid::now_v7().to_string();
        let first = body(path, &id, &own[0]);
        let (status, made) = a.post(path, first).await;
        assert_eq!(status, 201, "{path}: {made}");
        assert_eq!(made["id"], json!(id), "{path}");
        let again = body(path, &id, &own[0]);
        let (own_status, own_err) = a.post(path, again).await;
        let foreign = body(path, &id, &own[1]);
        let (other_status, other_err) = b.post(path, foreign).await;
        assert_eq!(own_status, 409, "{path} in the same shop: {own_err}");
        assert_eq!(
            (other_status, &other_err),
            (own_status, &own_err),
            "{path}: another shop's id answers differently"
        ); // Nothing was made for B, and A's row is A's still.
        assert_eq!(b.get(&format!("{path}/{id}")).await.0, 404, "{path}");
        assert_eq!(a.get(&format!("{path}/{id}")).await.0, 200, "{path}");
    }
    server.stop().await;
}

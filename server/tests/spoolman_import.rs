//! Importing from Spoolman: its JSON and CSV exports (flat, dotted keys, as
//! `spoolman/export.py` writes them), a running Spoolman (a tiny fake one served by this
//! test on port 0 from export data written here), a second import that updates, records
//! that cannot be imported (nothing is), an export of an older version, and a round trip
//! through our own Spoolman API into a fresh shop.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Api, start_api};
use serde_json::{Value, json};
use sqlx::PgPool;

fn vendors() -> Value {
    json!([
        {"id": 3, "registered": "2024-02-01 10:00:00", "name": "Polymaker", "comment": null,
         "empty_spool_weight": 140.0, "external_id": null},
        {"id": 4, "registered": "2024-02-01 10:00:00", "name": "Prusament", "comment": null,
         "empty_spool_weight": null, "external_id": null}
    ])
}

fn filaments() -> Value {
    json!([
        {"id": 7, "registered": "2024-02-01 10:00:00", "name": "PolyTerra Charcoal Black",
         "vendor_id": 3, "material": "PLA", "price": 19.99, "density": 1.24, "diameter": 1.75,
         "weight": 1000.0, "spool_weight": null, "article_number": "PM70820",
         "settings_extruder_temp": 210, "settings_bed_temp": 60, "color_hex": "1A1A1AFF",
         "multi_color_hexes": null, "vendor.id": 3, "vendor.name": "Polymaker",
         "vendor.empty_spool_weight": 140.0},
        {"id": 9, "registered": "2024-02-01 10:00:00", "name": "Prusa Galaxy Silver",
         "vendor_id": 4, "material": "PETG", "price": 29.99, "density": 1.27, "diameter": 1.75,
         "weight": 1000.0, "spool_weight": 201.0, "color_hex": "A8A9AD",
         "vendor.id": 4, "vendor.name": "Prusament"}
    ])
}

fn spools(used_12: f64) -> Value {
    json!([
        {"id": 12, "registered": "2024-03-01 09:00:00", "first_used": "2024-03-02 09:00:00",
         "last_used": null, "filament_id": 7, "price": 18.5, "initial_weight": 1000.0,
         "spool_weight": 140.0, "used_weight": used_12, "location": "Shelf A", "lot_nr": "LOT-42",
         "comment": "opened", "archived": false, "filament.id": 7, "filament.density": 1.24,
         "filament.diameter": 1.75, "filament.material": "PLA", "extra.nfc_id": "\"04A2\""},
        {"id": 13, "registered": "2024-03-01 09:00:00", "filament_id": 9, "used_weight": 0.0,
         "location": "Drybox", "archived": true, "filament.id": 9}
    ])
}

/// The same records as Spoolman's CSV export writes them (sorted columns, empty cells).
fn spools_csv(used_12: f64) -> String {
    format!(
        "\u{feff}archived,filament.id,filament_id,id,initial_weight,location,lot_nr,price,spool_weight,used_weight\n\
         False,7,7,12,1000.0,Shelf A,LOT-42,18.5,140.0,{used_12}\n\
         True,9,9,13,,Drybox,,,,0.0\n"
    )
}

async fn spools_of(api: &Api) -> Vec<Value> {
    let (status, page) = api.get("/spools?archived=true&limit=200").await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().unwrap().clone()
}

fn by_barcode<'a>(spools: &'a [Value], code: &str) -> &'a Value {
    spools
        .iter()
        .find(|s| s["barcode"] == code)
        .unwrap_or_else(|| panic!("no spool {code} in {spools:?}"))
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn exports_import_then_update_never_duplicate(pool: PgPool) {
    let server = start_api(pool).await;
    let owner = Api::register(&server.url, "owner@example.com").await;

    // A preview changes nothing.
    let body = json!({"vendors": vendors(), "filaments": filaments(), "spools": spools(250.5), "dry_run": true});
    let (status, report) = owner.post("/imports/spoolman", body).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (
            report["filaments_created"].as_i64(),
            report["spools_created"].as_i64()
        ),
        (Some(2), Some(2))
    );
    assert!(spools_of(&owner).await.is_empty());

    let body = json!({"vendors": vendors(), "filaments": filaments(), "spools": spools(250.5)});
    let (status, report) = owner.post("/imports/spoolman", body).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["spools_created"], 2);
    let list = spools_of(&owner).await;
    assert_eq!(list.len(), 2);
    let s12 = by_barcode(&list, "web+spoolman:s-12");
    assert_eq!(s12["initial_net_cg"], 100_000);
    assert_eq!(s12["left_cg"], 74_950);
    assert_eq!(s12["empty_spool_cg"], 14_000);
    assert_eq!(s12["price_paid"], 1850);
    assert_eq!(s12["location"], "Shelf A");
    assert_eq!(s12["lot_number"], "LOT-42");
    let s13 = by_barcode(&list, "web+spoolman:s-13");
    assert_eq!(s13["archived"], true);
    assert_eq!(s13["left_cg"], 100_000);
    let (_, f) = owner
        .get(&format!(
            "/filaments/{}",
            s12["filament_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(f["brand"], "Polymaker");
    assert_eq!(f["colour"]["name"], "PolyTerra Charcoal Black");
    assert_eq!(f["colour"]["hex"], "#1a1a1a");
    assert_eq!(f["price_per_spool"], 1999);
    assert_eq!(f["empty_spool_cg"], 14_000);
    assert_eq!(f["nozzle_temp_c"], 210);
    // The used grams are in the ledger (a weighing from Spoolman's figure).
    let (_, ledger) = owner
        .get(&format!("/spools/{}/ledger", s12["id"].as_str().unwrap()))
        .await;
    assert_eq!(ledger["items"][0]["used_cg"], 25_050);

    // Scanning an old Spoolman QR label finds the imported spool.
    let (status, found) = owner.get("/spools?q=web%2Bspoolman%3As-12").await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["items"].as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found["items"][0]["id"], s12["id"]);

    // Printers keep their Spoolman spool ids.
    let (_, t) = owner
        .post("/printer-tokens", json!({"name": "Voron"}))
        .await;
    let token = t["token"].as_str().unwrap();
    let r = reqwest::Client::new()
        .get(format!("{}/spoolman/api/v1/spool/12", server.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let s: Value = r.json().await.unwrap();
    assert_eq!(
        (s["used_weight"].as_f64(), s["lot_nr"].as_str()),
        (Some(250.5), Some("LOT-42"))
    );

    // The CSV export of the same spools, later: updates, never duplicates.
    let (status, report) = owner
        .post(
            "/imports/spoolman",
            json!({"vendors": vendors(), "filaments": filaments(), "spools": spools_csv(300.0)}),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (
            report["spools_created"].as_i64(),
            report["spools_updated"].as_i64()
        ),
        (Some(0), Some(2))
    );
    assert_eq!(report["filaments_updated"], 2);
    let list = spools_of(&owner).await;
    assert_eq!(list.len(), 2);
    assert_eq!(by_barcode(&list, "web+spoolman:s-12")["left_cg"], 70_000);
    let (_, fl) = owner.get("/filaments?archived=true").await;
    assert_eq!(fl["items"].as_array().unwrap().len(), 2);

    // A record that cannot be imported refuses the whole import, one error per record.
    let mut bad = spools(10.0);
    bad[0]["used_weight"] = json!("lots");
    let mut bad_filaments = filaments();
    bad_filaments[1]["density"] = json!(12.7);
    let (status, err) = owner
        .post(
            "/imports/spoolman",
            json!({"filaments": bad_filaments, "spools": bad}),
        )
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["code"], "invalid_records");
    let errors = err["report"]["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["resource"] == "spools"
                && e["message"].as_str().unwrap().contains("used_weight")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e["resource"] == "filaments"
                && e["message"].as_str().unwrap().contains("density")),
        "{errors:?}"
    );
    assert_eq!(
        by_barcode(&spools_of(&owner).await, "web+spoolman:s-12")["left_cg"],
        70_000
    );

    // Garbage and missing inputs are refused with a clear message.
    for body in [
        json!({"spools": "id;used_weight\n1;2;3\n"}),
        json!({"spools": "no id column\nx\n"}),
        json!({"spools": [1, 2]}),
        json!({}),
        json!({"url": "ftp://x", "spools": []}),
    ] {
        let (status, err) = owner.post("/imports/spoolman", body.clone()).await;
        assert_eq!(status, 422, "{body}: {err}");
        assert!(err["error"]["message"].is_string());
    }
    // A seller may not import.
    let seller = common::fixtures::seller_of(&owner).await;
    assert_eq!(
        seller
            .post("/imports/spoolman", json!({"spools": spools(1.0)}))
            .await
            .0,
        403
    );
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn an_older_spoolman_export_and_a_running_spoolman(pool: PgPool) {
    let server = start_api(pool).await;
    let owner = Api::register(&server.url, "owner@example.com").await;

    // An older export: spools only, no vendor, no weights on the spool, unknown keys.
    let old = json!([
        {"id": 1, "filament_id": 2, "used_weight": 100, "archived": false,
         "filament.id": 2, "filament.density": 1.04, "filament.diameter": 2.85,
         "filament.material": "ABS", "filament.weight": 750, "filament.color_hex": "FF0000",
         "some_future_field": [1, 2]}
    ]);
    let (status, report) = owner
        .post("/imports/spoolman", json!({"spools": old}))
        .await;
    assert_eq!(status, 200, "{report}");
    let list = spools_of(&owner).await;
    assert_eq!(
        (
            list[0]["initial_net_cg"].as_i64(),
            list[0]["left_cg"].as_i64()
        ),
        (Some(75_000), Some(65_000))
    );
    let (_, f) = owner
        .get(&format!(
            "/filaments/{}",
            list[0]["filament_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        (
            f["brand"].as_str(),
            f["material"].as_str(),
            f["diameter"].as_str()
        ),
        (Some("Unknown"), Some("abs"), Some("2.85"))
    );

    // A running Spoolman: a fake one serving the export endpoints from data written here.
    let app = axum::Router::new().route(
        "/api/v1/export/{what}",
        axum::routing::get(
            |axum::extract::Path(what): axum::extract::Path<String>,
             axum::extract::Query(q): axum::extract::Query<
                std::collections::HashMap<String, String>,
            >| async move {
                assert_eq!(q.get("fmt").map(String::as_str), Some("json"));
                let body = match what.as_str() {
                    "vendors" => vendors(),
                    "filaments" => filaments(),
                    _ => spools(400.0),
                };
                axum::Json(body)
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let fake = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    let (status, report) = owner.post("/imports/spoolman", json!({"url": fake})).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["spools_created"], 2);
    let list = spools_of(&owner).await;
    assert_eq!(list.len(), 3);
    assert_eq!(by_barcode(&list, "web+spoolman:s-12")["left_cg"], 60_000);
    // Again: updates only.
    let (_, report) = owner.post("/imports/spoolman", json!({"url": fake})).await;
    assert_eq!(report["spools_updated"], 2, "{report}");
    assert_eq!(spools_of(&owner).await.len(), 3);
    // A Spoolman that does not answer: a clear error, nothing imported.
    let (status, err) = owner
        .post("/imports/spoolman", json!({"url": "http://127.0.0.1:9"}))
        .await;
    assert_eq!(status, 422, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("did not answer")
    );
    task.abort();
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn round_trip_through_our_spoolman_api_into_a_fresh_shop(pool: PgPool) {
    let server = start_api(pool).await;
    let a = Api::register(&server.url, "a@example.com").await;
    let (_, report) = a
        .post(
            "/imports/spoolman",
            json!({"vendors": vendors(), "filaments": filaments(), "spools": spools(123.45)}),
        )
        .await;
    assert_eq!(report["spools_created"], 2, "{report}");
    let (_, t) = a.post("/printer-tokens", json!({"name": "export"})).await;
    let exported: Value = reqwest::Client::new()
        .get(format!(
            "{}/spoolman/api/v1/spool?allow_archived=true",
            server.url
        ))
        .bearer_auth(t["token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(exported.as_array().unwrap().len(), 2);

    let b = Api::register(&server.url, "b@example.com").await;
    let (status, report) = b
        .post("/imports/spoolman", json!({"spools": exported}))
        .await;
    assert_eq!(status, 200, "{report}");
    let strip = |spools: Vec<Value>| -> Vec<Value> {
        let mut out: Vec<Value> = spools
            .into_iter()
            .map(|s| {
                json!([
                    s["initial_net_cg"],
                    s["left_cg"],
                    s["empty_spool_cg"],
                    s["price_paid"],
                    s["location"],
                    s["lot_number"],
                    s["archived"],
                    s["barcode"]
                ])
            })
            .collect();
        out.sort_by_key(|v| v.to_string());
        out
    };
    assert_eq!(strip(spools_of(&a).await), strip(spools_of(&b).await));
    let (_, fa) = a.get("/filaments?archived=true").await;
    let (_, fb) = b.get("/filaments?archived=true").await;
    let key = |f: &Value| {
        json!([
            f["brand"],
            f["material"],
            f["colour"],
            f["diameter"],
            f["density_mg_cm3"],
            f["net_weight_cg"],
            f["empty_spool_cg"],
            f["price_per_spool"],
            f["nozzle_temp_c"],
            f["article_number"]
        ])
    };
    let mut ka: Vec<Value> = fa["items"].as_array().unwrap().iter().map(key).collect();
    let mut kb: Vec<Value> = fb["items"].as_array().unwrap().iter().map(key).collect();
    ka.sort_by_key(|v| v.to_string());
    kb.sort_by_key(|v| v.to_string());
    assert_eq!(ka, kb);
    server.stop().await;
}

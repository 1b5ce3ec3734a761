//! Models, variants (slicer settings, filament needs), printers (loaded spool) and market
//! events with their stock plan over HTTP: normal paths, bad inputs, sellers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::fixtures::{event, filament, model, printer, product, seller_of, spool, variant};
use common::{Api, start_api};
use serde_json::{Value, json};
use sqlx::PgPool;

fn merged(base: &Value, change: &Value) -> Value {
    let mut b = base.clone();
    for (k, v) in change.as_object().unwrap() {
        b[k] = v.clone();
    }
    b
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn models_and_variants(pool: PgPool) {
    let server = start_api(pool).await;
    let owner = Api::register(&server.url, "o@example.com").await;
    let seller = seller_of(&owner).await;
    let f = filament(&owner, "Galaxy Black").await;
    let f2 = filament(&owner, "Silk Red").await;
    let m = model(&owner, "Flexi Rex").await;
    let (status, nc) = owner
        .post("/models", json!({"name": "Dragon", "designer_name": "DrLex", "source_url": "https://www.printables.com/model/1", "source_site": "makerworld", "licence": {"name": "CC-BY-NC-4.0", "allows_selling": true}, "tags": ["dino", "kids"], "category": "Toys"}))
        .await;
    assert_eq!(status, 201, "{nc}");
    assert_eq!(nc["licence_looks_non_commercial"], true);
    assert_eq!(nc["source_site"], "makerworld");

    let (_, page) = seller.get("/models?q=drlex").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let (_, page) = seller.get("/models?q=kids").await;
    assert_eq!(page["items"][0]["id"], nc["id"]);

    let base = json!({"name": "M", "source_site": "own", "licence": {"name": "own", "allows_selling": true}});
    for (change, field) in [
        (json!({"name": "x".repeat(121)}), Some("name")),
        (json!({"source_url": "ftp://x"}), Some("source_url")),
        (
            json!({"licence": {"name": "", "allows_selling": true}}),
            Some("licence.name"),
        ),
        (json!({"tags": ["ok", "   "]}), Some("tags[1]")),
        (json!({"notes": "x".repeat(4001)}), Some("notes")),
        (json!({"source_site": "etsy"}), None),
        (json!({"licence": "MIT"}), None),
        (json!({"name": 5}), None),
    ] {
        let body = merged(&base, &change);
        let (status, err) = owner.post("/models", body.clone()).await;
        assert_eq!(status, 422, "{body}: {err}");
        if let Some(f) = field {
            assert_eq!(err["error"]["field"], f, "{err}");
        }
    }
    let (status, out) = owner
        .patch(
            &format!("/models/{m}"),
            json!({"category": "Fidget", "tags": ["flexi"]}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(
        (out["category"].as_str(), out["name"].as_str()),
        (Some("Fidget"), Some("Flexi Rex"))
    );
    assert_eq!(
        owner
            .patch(&format!("/models/{m}"), json!({"licence": null}))
            .await
            .0,
        422
    );
    assert_eq!(seller.post("/models", base.clone()).await.0, 403);
    assert_eq!(
        seller
            .patch(&format!("/models/{m}"), json!({"name": "X"}))
            .await
            .0,
        403
    );
    assert_eq!(seller.delete(&format!("/models/{m}")).await.0, 403);

    // Variants: settings as key/values, filament needs (M:N).
    let v = variant(&owner, &m, &f).await;
    let (status, out) = seller.get(&format!("/variants/{v}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        out["slicer_settings"],
        json!({"infill": "15%", "layer_height": "0.2"})
    );
    assert_eq!(
        out["filament_needs"],
        json!([{"filament_id": f, "per_unit_cg": 1250}])
    );
    let (status, out) = owner
        .patch(
            &format!("/variants/{v}"),
            json!({"slicer_settings": {"nozzle": "0.4"}, "filament_needs": [{"filament_id": f, "per_unit_cg": 1000}, {"filament_id": f2, "per_unit_cg": 250}]}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["slicer_settings"], json!({"nozzle": "0.4"}));
    assert_eq!(out["filament_needs"].as_array().unwrap().len(), 2);
    let (_, page) = seller.get(&format!("/variants?model_id={m}")).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        page["items"][0]["filament_needs"].as_array().unwrap().len(),
        2
    );
    let (_, page) = seller
        .get(&format!(
            "/variants?model_id={}",
            nc["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(page["items"], json!([]));

    let vbase = json!({"model_id": m, "name": "Small", "parts_per_plate": 1});
    for (change, status) in [
        (json!({"parts_per_plate": 0}), 422),
        (json!({"parts_per_plate": 5000}), 422),
        (json!({"print_time_s": 99999999}), 422),
        (json!({"slicer_settings": {"infill": 15}}), 422),
        (json!({"slicer_settings": {"k": "v".repeat(257)}}), 422),
        (
            json!({"filament_needs": [{"filament_id": f, "per_unit_cg": 0}]}),
            422,
        ),
        (
            json!({"filament_needs": [{"filament_id": f, "per_unit_cg": 1}, {"filament_id": f, "per_unit_cg": 1}]}),
            422,
        ),
        (
            json!({"filament_needs": [{"filament_id": f, "per_unit_cg": 99999999}]}),
            422,
        ),
        (json!({"name": ""}), 422),
        (json!({"model_id": "rex"}), 422),
        (json!({"model_id": uuid::Uuid::now_v7()}), 404),
        (
            json!({"filament_needs": [{"filament_id": uuid::Uuid::now_v7(), "per_unit_cg": 1}]}),
            404,
        ),
        (json!({"sliced_file_id": uuid::Uuid::now_v7()}), 404),
    ] {
        let body = merged(&vbase, &change);
        let (got, err) = owner.post("/variants", body.clone()).await;
        assert_eq!(got, status, "{body}: {err}");
    }
    assert_eq!(seller.post("/variants", vbase.clone()).await.0, 403);
    assert_eq!(
        seller
            .patch(&format!("/variants/{v}"), json!({"name": "X"}))
            .await
            .0,
        403
    );
    assert_eq!(seller.delete(&format!("/variants/{v}")).await.0, 403);
    assert_eq!(owner.delete(&format!("/variants/{v}")).await.0, 204);
    let (_, page) = owner.get("/variants").await;
    assert_eq!(page["items"], json!([]));
    let (_, page) = owner.get("/variants?archived=true").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(owner.delete(&format!("/models/{m}")).await.0, 204);
    assert_eq!(owner.get(&format!("/models/{m}")).await.1["archived"], true);
    assert_eq!(
        owner
            .get(&format!("/variants/{}", uuid::Uuid::now_v7()))
            .await
            .0,
        404
    );
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn printers_and_loaded_spools(pool: PgPool) {
    let server = start_api(pool).await;
    let owner = Api::register(&server.url, "o@example.com").await;
    let seller = seller_of(&owner).await;
    let f = filament(&owner, "Galaxy Black").await;
    let sp = spool(&owner, &f, 1000).await;
    let p = printer(&owner, "MK4S #1").await;
    let (status, out) = owner
        .patch(&format!("/printers/{p}"), json!({"loaded_spool_id": sp}))
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["loaded_spool_id"], sp.as_str());
    assert_eq!(
        out["loaded_spool"],
        json!({"filament_id": f, "left_cg": 100000})
    );
    let (_, page) = owner.get("/printers").await;
    assert_eq!(page["items"][0]["loaded_spool"]["left_cg"], 100000);
    assert_eq!(
        out["build_volume"],
        json!({"x_mm": 250, "y_mm": 210, "z_mm": 220})
    );
    let (_, out) = owner
        .patch(
            &format!("/printers/{p}"),
            json!({"loaded_spool_id": null, "build_volume": null}),
        )
        .await;
    assert!(out["loaded_spool_id"].is_null() && out["build_volume"].is_null());
    assert!(out["loaded_spool"].is_null());
    assert_eq!(
        owner
            .patch(
                &format!("/printers/{p}"),
                json!({"loaded_spool_id": uuid::Uuid::now_v7()})
            )
            .await
            .0,
        404
    );
    for body in [
        json!({"name": ""}),
        json!({"name": "P", "nozzle_um": 4}),
        json!({"name": "P", "build_volume": {"x_mm": 250, "y_mm": 0, "z_mm": 220}}),
        json!({"name": "P", "build_volume": {"x_mm": 250}}),
        json!({"name": "P", "model": "x".repeat(121)}),
        json!({"name": "P", "nozzle_um": -400}),
        json!({"model": "no name"}),
    ] {
        assert_eq!(owner.post("/printers", body.clone()).await.0, 422, "{body}");
    }
    let (_, page) = seller.get("/printers?q=mk4").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(seller.post("/printers", json!({"name": "P"})).await.0, 403);
    assert_eq!(
        seller
            .patch(&format!("/printers/{p}"), json!({"name": "P"}))
            .await
            .0,
        403
    );
    assert_eq!(seller.delete(&format!("/printers/{p}")).await.0, 403);
    assert_eq!(owner.delete(&format!("/printers/{p}")).await.0, 204);
    let (_, page) = seller.get("/printers").await;
    assert_eq!(page["items"], json!([]));
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn events_and_stock_plan(pool: PgPool) {
    let server = start_api(pool).await;
    let owner = Api::register(&server.url, "o@example.com").await;
    let seller = seller_of(&owner).await;
    let e = event(&owner, "Advent market").await;
    let a = product(&owner, "A", None).await;
    let b = product(&owner, "B", None).await;
    owner
        .post(
            &format!("/products/{a}/adjust"),
            json!({"quantity": 4, "reason": "produced"}),
        )
        .await;

    let (status, out) = owner.get(&format!("/events/{e}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        (out["starts_on"].as_str(), out["booth_fee"].as_i64()),
        (Some("2026-12-01"), Some(4500))
    );
    let base = json!({"name": "E", "starts_on": "2026-12-01", "ends_on": "2026-12-02"});
    for (change, field) in [
        (json!({"ends_on": "2026-11-30"}), Some("ends_on")),
        (json!({"ends_on": "2027-06-01"}), Some("ends_on")),
        (json!({"booth_fee": -1}), Some("booth_fee")),
        (json!({"name": "x".repeat(121)}), Some("name")),
        (json!({"theme_tags": ["x".repeat(41)]}), None),
        (json!({"starts_on": "1st of December"}), None),
        (json!({"starts_on": null}), None),
    ] {
        let body = merged(&base, &change);
        let (status, err) = owner.post("/events", body.clone()).await;
        assert_eq!(status, 422, "{body}: {err}");
        if let Some(f) = field {
            assert_eq!(err["error"]["field"], f, "{err}");
        }
    }
    // A patch is checked merged: moving only the end before the start is refused.
    assert_eq!(
        owner
            .patch(&format!("/events/{e}"), json!({"ends_on": "2026-11-01"}))
            .await
            .0,
        422
    );
    let (status, out) = owner
        .patch(
            &format!("/events/{e}"),
            json!({"location": "Old town", "theme_tags": ["christmas"]}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    let (_, page) = seller.get("/events?q=christmas").await;
    assert_eq!(page["items"][0]["id"], e.as_str());

    // The plan: targets per product, with on hand and what is still to print.
    let (status, plan) = owner
        .call(
            reqwest::Method::PUT,
            &format!("/events/{e}/plan"),
            Some(
                json!({"lines": [{"product_id": a, "target": 10}, {"product_id": b, "target": 3}]}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["lines"][0]["sku"], "A");
    assert_eq!(
        (
            plan["lines"][0]["on_hand"].as_i64(),
            plan["lines"][0]["shortfall"].as_i64()
        ),
        (Some(4), Some(6))
    );
    assert_eq!(plan["lines"][1]["shortfall"], 3);
    // Replaced as a whole; a target of 0 leaves the product out.
    let (_, plan) = owner
        .call(
            reqwest::Method::PUT,
            &format!("/events/{e}/plan"),
            Some(
                json!({"lines": [{"product_id": a, "target": 2}, {"product_id": b, "target": 0}]}),
            ),
        )
        .await;
    assert_eq!(plan["lines"].as_array().unwrap().len(), 1);
    assert_eq!(plan["lines"][0]["shortfall"], 0);
    let (status, read) = seller.get(&format!("/events/{e}/plan")).await;
    assert_eq!(status, 200);
    assert_eq!(read, plan);
    for (body, status) in [
        (json!({"lines": [{"product_id": a, "target": -1}]}), 422),
        (json!({"lines": [{"product_id": a, "target": 200000}]}), 422),
        (
            json!({"lines": [{"product_id": a, "target": 1}, {"product_id": a, "target": 2}]}),
            422,
        ),
        (json!({"lines": [{"product_id": a}]}), 422),
        (json!({}), 422),
        (
            json!({"lines": [{"product_id": uuid::Uuid::now_v7(), "target": 1}]}),
            404,
        ),
    ] {
        let (got, err) = owner
            .call(
                reqwest::Method::PUT,
                &format!("/events/{e}/plan"),
                Some(body.clone()),
            )
            .await;
        assert_eq!(got, status, "{body}: {err}");
    }
    let (status, _) = seller
        .call(
            reqwest::Method::PUT,
            &format!("/events/{e}/plan"),
            Some(json!({"lines": []})),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(seller.post("/events", base.clone()).await.0, 403);
    assert_eq!(seller.delete(&format!("/events/{e}")).await.0, 403);
    assert_eq!(
        owner
            .call(
                reqwest::Method::PUT,
                &format!("/events/{}/plan", uuid::Uuid::now_v7()),
                Some(json!({"lines": []}))
            )
            .await
            .0,
        404
    );
    assert_eq!(owner.delete(&format!("/events/{e}")).await.0, 204);
    let (_, page) = owner.get("/events").await;
    assert_eq!(page["items"], json!([]));
    server.stop().await;
}

//! Filaments, spools and the usage ledger over HTTP: CRUD, search and filters, uses that
//! clamp at 0 g with the overshoot recorded, weighings, bad inputs and sellers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::fixtures::{filament, seller_of, spool};
use common::{Api, start_api};
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn filaments_crud_search_and_bad_inputs(pool: PgPool) {
    let server = start_api(pool).await;
    let owner = Api::register(&server.url, "o@example.com").await;
    let seller = seller_of(&owner).await;
    let black = filament(&owner, "Galaxy Black").await;
    let (status, petg) = owner
        .post("/filaments", json!({"brand": "Extrudr", "material": "petg", "colour": {"name": "Silk Rainbow", "hex": "#ff0000", "multi_hexes": ["#00ff00", "#0000ff"]}, "diameter": "2.85", "density_mg_cm3": 1270, "net_weight_cg": 75000}))
        .await;
    assert_eq!(status, 201, "{petg}");
    assert_eq!(petg["colour"]["multi_hexes"][1], "#0000ff");
    assert_eq!(petg["diameter"], "2.85");
    let petg = petg["id"].as_str().unwrap().to_owned();

    let (status, f) = owner.get(&format!("/filaments/{black}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        (f["material"].as_str(), f["empty_spool_cg"].as_i64()),
        (Some("pla"), Some(20000))
    );

    // Search by brand, colour and material; the material filter.
    for (query, expect) in [
        ("q=prusa", &black),
        ("q=rainbow", &petg),
        ("q=PETG", &petg),
        ("q=4006381333931", &black),
        ("material=pla", &black),
    ] {
        let (status, page) = seller.get(&format!("/filaments?{query}")).await;
        assert_eq!(status, 200, "{query}: {page}");
        let items = page["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{query}: {page}");
        assert_eq!(items[0]["id"], expect.as_str(), "{query}");
    }
    assert_eq!(owner.get("/filaments?material=wood").await.0, 400);
    let (_, page) = owner.get("/filaments?limit=1").await;
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, page2) = owner
        .get(&format!("/filaments?limit=1&cursor={cursor}"))
        .await;
    assert_ne!(page["items"][0]["id"], page2["items"][0]["id"]);

    // Bad inputs: each names its field.
    let good = json!({"brand": "B", "material": "pla", "colour": {"name": "Red", "hex": "#ff0000"}, "diameter": "1.75", "density_mg_cm3": 1240, "net_weight_cg": 100000});
    for (change, field) in [
        (json!({"brand": "x".repeat(121)}), Some("brand")),
        (json!({"brand": "  "}), Some("brand")),
        (
            json!({"colour": {"name": "Red", "hex": "red"}}),
            Some("colour.hex"),
        ),
        (json!({"density_mg_cm3": 1}), Some("density_mg_cm3")),
        (json!({"net_weight_cg": -5}), Some("net_weight_cg")),
        (
            json!({"net_weight_cg": 999999999999i64}),
            Some("net_weight_cg"),
        ),
        (json!({"nozzle_temp_c": 900}), Some("nozzle_temp_c")),
        (json!({"ean": "123"}), Some("ean")),
        (json!({"material": "wood"}), None),
        (json!({"diameter": 3.0}), None),
        (json!({"net_weight_cg": "a kilo"}), None),
        (json!({"brand": null}), None),
    ] {
        let mut body = good.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, err) = owner.post("/filaments", body.clone()).await;
        assert_eq!(status, 422, "{body}: {err}");
        if let Some(f) = field {
            assert_eq!(err["error"]["field"], f, "{err}");
        }
    }
    let (status, _) = owner
        .post("/filaments", json!({"brand": "B", "material": "pla"}))
        .await;
    assert_eq!(status, 422);
    assert_eq!(owner.post("/filaments", json!([1, 2])).await.0, 422);

    // Patch: merge, nullable fields, unknown fields, sellers.
    let (status, f) = owner
        .patch(
            &format!("/filaments/{black}"),
            json!({"nozzle_temp_c": 220, "ean": null}),
        )
        .await;
    assert_eq!(status, 200, "{f}");
    assert_eq!(
        (f["nozzle_temp_c"].as_i64(), f["ean"].is_null()),
        (Some(220), true)
    );
    assert_eq!(
        owner
            .patch(&format!("/filaments/{black}"), json!({"left_cg": 5}))
            .await
            .0,
        422
    );
    assert_eq!(
        owner
            .patch(&format!("/filaments/{black}"), json!({"brand": null}))
            .await
            .0,
        422
    );
    assert_eq!(seller.post("/filaments", good.clone()).await.0, 403);
    assert_eq!(
        seller
            .patch(&format!("/filaments/{black}"), json!({"brand": "X"}))
            .await
            .0,
        403
    );
    assert_eq!(seller.delete(&format!("/filaments/{black}")).await.0, 403);
    assert_eq!(
        owner
            .get(&format!("/filaments/{}", uuid::Uuid::now_v7()))
            .await
            .0,
        404
    );
    assert_eq!(owner.get("/filaments/nope").await.0, 400);

    assert_eq!(owner.delete(&format!("/filaments/{petg}")).await.0, 204);
    let (_, page) = owner.get("/filaments").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let (_, page) = owner.get("/filaments?archived=true").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn spools_use_weigh_and_ledger(pool: PgPool) {
    let server = start_api(pool.clone()).await;
    let owner = Api::register(&server.url, "o@example.com").await;
    let seller = seller_of(&owner).await;
    let f = filament(&owner, "Galaxy Black").await;
    let s = spool(&owner, &f, 1000).await;
    let other = spool(&owner, &f, 500).await;

    let (status, sp) = owner.get(&format!("/spools/{s}")).await;
    assert_eq!(status, 200);
    assert_eq!(sp["left_cg"], 100000);
    assert!(sp["first_used_at"].is_null());

    // Filters.
    let (_, page) = seller.get(&format!("/spools?q=SP-{f}-500")).await;
    assert_eq!(page["items"][0]["id"], other.as_str());
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let (_, page) = seller.get(&format!("/spools?filament_id={f}")).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let (_, page) = seller.get("/spools?q=galaxy&material=pla").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let (_, page) = seller.get("/spools?material=petg").await;
    assert_eq!(page["items"], json!([]));

    // A seller records a use; a use larger than what is left clamps at 0.
    let (status, out) = seller
        .post(
            &format!("/spools/{s}/use"),
            json!({"used_cg": 25050, "reason": "test"}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["spool"]["left_cg"], 74950);
    assert_eq!(out["entry"]["used_cg"], 25050);
    assert_eq!(out["entry"]["reason"], "test");
    assert_eq!(
        out["entry"]["user_id"].as_str(),
        Some(seller.user_id.as_str())
    );
    assert!(out["spool"]["first_used_at"].is_string());
    let (_, out) = seller
        .post(
            &format!("/spools/{s}/use"),
            json!({"used_cg": 80000, "reason": "test"}),
        )
        .await;
    assert_eq!(out["spool"]["left_cg"], 0);
    assert_eq!(out["entry"]["used_cg"], 74950);
    assert_eq!(out["entry"]["overshoot_cg"], 5050);
    // Grams given back by a correction.
    let (status, out) = owner
        .post(
            &format!("/spools/{s}/use"),
            json!({"used_cg": -1000, "reason": "correction"}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["spool"]["left_cg"], 1000);

    // Weighing: 650 g gross with the filament's 200 g empty spool leaves 450 g.
    let (status, out) = seller
        .post(&format!("/spools/{s}/weigh"), json!({"gross_cg": 65000}))
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["spool"]["left_cg"], 45000);
    assert_eq!(out["entry"]["reason"], "measurement");
    assert_eq!(out["entry"]["used_cg"], -44000);
    assert_eq!(out["below_empty_cg"], 0);
    // Below the empty-spool weight: 0 g left, flagged; an explicit empty weight wins.
    let (_, out) = seller
        .post(&format!("/spools/{s}/weigh"), json!({"gross_cg": 15000}))
        .await;
    assert_eq!(
        (
            out["spool"]["left_cg"].as_i64(),
            out["below_empty_cg"].as_i64()
        ),
        (Some(0), Some(5000))
    );
    let (_, out) = seller
        .post(
            &format!("/spools/{s}/weigh"),
            json!({"gross_cg": 15000, "empty_spool_cg": 10000}),
        )
        .await;
    assert_eq!(out["spool"]["left_cg"], 5000);

    // The ledger adds up: left = initial - sum(used).
    let (status, ledger) = seller.get(&format!("/spools/{s}/ledger")).await;
    assert_eq!(status, 200);
    let items = ledger["items"].as_array().unwrap();
    let reasons: Vec<&str> = items
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        [
            "test",
            "test",
            "correction",
            "measurement",
            "measurement",
            "measurement"
        ]
    );
    let used: i64 = items.iter().map(|e| e["used_cg"].as_i64().unwrap()).sum();
    assert_eq!(100000 - used, 5000);
    let (_, page) = seller.get(&format!("/spools/{s}/ledger?limit=2")).await;
    assert!(page["next_cursor"].is_string());

    // Bad uses and weighings.
    for body in [
        json!({"used_cg": 0, "reason": "print"}),
        json!({"used_cg": -5, "reason": "print"}),
        json!({"used_cg": 5000000, "reason": "print"}),
        json!({"used_cg": 5, "reason": "measurement"}),
        json!({"used_cg": 5, "reason": "eaten"}),
        json!({"used_cg": "5", "reason": "print"}),
        json!({"reason": "print"}),
        json!({"used_cg": 5, "reason": "print", "job_id": "nope"}),
    ] {
        let (status, err) = seller.post(&format!("/spools/{s}/use"), body.clone()).await;
        assert_eq!(status, 422, "{body}: {err}");
    }
    let (status, _) = seller
        .post(
            &format!("/spools/{s}/use"),
            json!({"used_cg": 5, "reason": "print", "job_id": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_eq!(status, 404);
    for body in [
        json!({"gross_cg": -1}),
        json!({"gross_cg": 999999999}),
        json!({"gross_cg": 1000, "empty_spool_cg": -1}),
        json!({"gross_cg": "heavy"}),
        json!({}),
    ] {
        let (status, err) = seller
            .post(&format!("/spools/{s}/weigh"), body.clone())
            .await;
        assert_eq!(status, 422, "{body}: {err}");
    }
    assert_eq!(
        seller
            .post(
                &format!("/spools/{}/use", uuid::Uuid::now_v7()),
                json!({"used_cg": 5, "reason": "print"})
            )
            .await
            .0,
        404
    );
    // A filament without an empty-spool weight: the weighing asks for one.
    let (_, bare) = owner
        .post("/filaments", json!({"brand": "B", "material": "pla", "colour": {"name": "Red", "hex": "#ff0000"}, "diameter": "1.75", "density_mg_cm3": 1240, "net_weight_cg": 100000}))
        .await;
    let bare_spool = spool(&owner, bare["id"].as_str().unwrap(), 100).await;
    let (status, err) = seller
        .post(
            &format!("/spools/{bare_spool}/weigh"),
            json!({"gross_cg": 1000}),
        )
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("empty_spool_cg"))
    );

    // The database agrees with the ledger.
    let (left, sum): (i64, i64) = sqlx::query_as(
        "select s.left_cg, s.initial_net_cg - sum(u.used_cg)::bigint from spool s join spool_usage u on u.spool_id = s.id where s.id = $1::uuid group by s.id",
    )
    .bind(&s)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((left, sum), (5000, 5000));
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn spool_crud_patch_archive_and_sellers(pool: PgPool) {
    let server = start_api(pool).await;
    let owner = Api::register(&server.url, "o@example.com").await;
    let seller = seller_of(&owner).await;
    let f = filament(&owner, "Galaxy Black").await;
    let s = spool(&owner, &f, 1000).await;

    for (body, status) in [
        (json!({"filament_id": f, "initial_net_cg": -1}), 422),
        (json!({"filament_id": f, "initial_net_cg": 99999999}), 422),
        (
            json!({"filament_id": f, "initial_net_cg": 100, "location": "x".repeat(65)}),
            422,
        ),
        (
            json!({"filament_id": f, "initial_net_cg": 100, "purchase_date": "yesterday"}),
            422,
        ),
        (
            json!({"filament_id": f, "initial_net_cg": 100, "price_paid": -1}),
            422,
        ),
        (json!({"filament_id": f}), 422),
        (json!({"filament_id": "abc", "initial_net_cg": 100}), 422),
        (
            json!({"filament_id": uuid::Uuid::now_v7(), "initial_net_cg": 100}),
            404,
        ),
    ] {
        let (got, err) = owner.post("/spools", body.clone()).await;
        assert_eq!(got, status, "{body}: {err}");
    }
    let (status, sp) = owner
        .post("/spools", json!({"id": uuid::Uuid::now_v7(), "filament_id": f, "initial_net_cg": 50000, "purchase_date": "2026-03-01", "nfc_tag_id": "04:A2:B3"}))
        .await;
    assert_eq!(status, 201, "{sp}");
    assert_eq!(sp["purchase_date"], "2026-03-01");
    let (status, _) = owner
        .post(
            "/spools",
            json!({"id": sp["id"], "filament_id": f, "initial_net_cg": 50000}),
        )
        .await;
    assert_eq!(status, 409);
    let (_, page) = owner.get("/spools?q=04:A2:B3").await;
    assert_eq!(page["items"][0]["id"], sp["id"]);

    // Raising the initial weight moves grams left with it; left cannot be patched.
    seller
        .post(
            &format!("/spools/{s}/use"),
            json!({"used_cg": 30000, "reason": "print"}),
        )
        .await;
    let (status, out) = owner
        .patch(
            &format!("/spools/{s}"),
            json!({"initial_net_cg": 110000, "location": "Shelf B"}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(
        (out["left_cg"].as_i64(), out["location"].as_str()),
        (Some(80000), Some("Shelf B"))
    );
    let (status, err) = owner
        .patch(&format!("/spools/{s}"), json!({"initial_net_cg": 1000}))
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("initial_net_cg"))
    );
    assert_eq!(
        owner
            .patch(&format!("/spools/{s}"), json!({"left_cg": 1}))
            .await
            .0,
        422
    );
    assert_eq!(
        owner
            .patch(
                &format!("/spools/{s}"),
                json!({"filament_id": uuid::Uuid::now_v7()})
            )
            .await
            .0,
        404
    );
    assert_eq!(
        seller
            .patch(&format!("/spools/{s}"), json!({"location": "A"}))
            .await
            .0,
        403
    );
    assert_eq!(
        seller
            .post("/spools", json!({"filament_id": f, "initial_net_cg": 100}))
            .await
            .0,
        403
    );
    assert_eq!(seller.delete(&format!("/spools/{s}")).await.0, 403);
    assert_eq!(owner.delete(&format!("/spools/{s}")).await.0, 204);
    let (_, page) = owner.get("/spools").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let (_, page) = owner.get("/spools?archived=true").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let (_, out) = owner.get(&format!("/spools/{s}")).await;
    assert_eq!(out["archived"], true);
    assert_eq!(
        owner
            .delete(&format!("/spools/{}", uuid::Uuid::now_v7()))
            .await
            .0,
        404
    );
    server.stop().await;
}

//! REST stock and sales changes are ops like a phone's (issue 4, "one set of rules"): a
//! product made, adjusted, counted and sold through the REST API, before and after phone
//! ops on it, ends at the same on-hand for a device that pulls and for `GET /products/{id}`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod sync_common;

use common::{Api, start_api};
use printstall_core::domain::ProductId;
use printstall_core::sync::EntityKind;
use serde_json::{Value, json};
use sqlx::PgPool;
use sync_common::*;
use uuid::Uuid;

async fn pulled_on_hand(api: &Api, product: &str) -> (i64, Pulled) {
    let mut pulled = Pulled::default();
    pulled.drain(api, 100).await;
    let id = ProductId(Uuid::parse_str(product).unwrap());
    (pulled.state().on_hand(id), pulled)
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn rest_changes_after_phone_ops_reach_devices(pool: PgPool) {
    let server = start_api(pool.clone()).await;
    let owner = Api::register(&server.url, "o@example.com").await;
    let seller = seller_of(&owner, "s@example.com").await;
    let rex = product(&owner, "REX").await;

    // A device that pulls before anything moved sees the REST-made product at once.
    let mut watcher = Pulled::default();
    watcher.drain(&seller, 100).await;
    let state = watcher.state();
    let rex_uuid = Uuid::parse_str(&rex).unwrap();
    assert_eq!(
        state.entity(EntityKind::Product, rex_uuid).unwrap().fields["name"],
        "Rex REX"
    );

    // A phone op first: from here on the row's merge cell is the truth for devices.
    let mut phone = Device::new(&seller);
    let op = phone.op(adjust(&rex, 10));
    let (status, r) = phone.push(&[op]).await;
    assert_eq!((status, statuses(&r)), (200, vec!["applied".to_owned()]));

    // Then the back office: an adjust, a sale and a rename, through REST.
    let (status, p) = owner
        .post(
            &format!("/products/{rex}/adjust"),
            json!({"quantity": 3, "reason": "produced"}),
        )
        .await;
    assert_eq!((status, p["stock"]["on_hand"].as_i64()), (200, Some(13)));
    let (status, sold) = seller
        .post("/sales", json!({"lines": [{"product_id": rex, "quantity": 4, "unit_price": 1500}], "payment_method": "card"}))
        .await;
    assert_eq!(status, 201, "{sold}");
    let sale_id = sold["id"].as_str().unwrap().to_owned();
    let (status, _) = owner
        .patch(&format!("/products/{rex}"), json!({"name": "Rex large"}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(on_hand(&owner, &rex).await, 9);

    // A fresh puller and the one that pulled before agree with the REST number.
    let (fresh, pulled) = pulled_on_hand(&seller, &rex).await;
    assert_eq!(fresh, 9);
    watcher.drain(&seller, 100).await;
    assert_eq!(
        watcher
            .state()
            .on_hand(ProductId(Uuid::parse_str(&rex).unwrap())),
        9
    );
    let state = pulled.state();
    assert_eq!(
        state.entity(EntityKind::Product, rex_uuid).unwrap().fields["name"],
        "Rex large"
    );
    let sale_uuid = Uuid::parse_str(&sale_id).unwrap();
    assert!(
        pulled.cells.contains_key(&("sale".to_owned(), sale_uuid)),
        "the REST sale is pulled"
    );

    // The owner's phone voids the REST sale: the core finds it and undoes its stock.
    let mut owners_phone = Device::new(&owner);
    let op = owners_phone.op(void(sale_uuid));
    let (status, r) = owners_phone.push(&[op]).await;
    assert_eq!((status, statuses(&r)), (200, vec!["applied".to_owned()]));
    assert_eq!(on_hand(&owner, &rex).await, 13);
    let (_, read) = owner.get(&format!("/sales/{sale_id}")).await;
    assert_eq!(read["voided"], true);

    // A REST count, then a phone sale stamped after it: on top of the count, on both sides.
    let (status, p) = seller
        .post(&format!("/products/{rex}/count"), json!({"counted": 20}))
        .await;
    assert_eq!((status, p["stock"]["on_hand"].as_i64()), (200, Some(20)));
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let op = phone.op(sale(Uuid::now_v7(), &[(&rex, 2)]));
    let (status, r) = phone.push(&[op]).await;
    assert_eq!((status, statuses(&r)), (200, vec!["applied".to_owned()]));
    assert_eq!(on_hand(&owner, &rex).await, 18);
    let (fresh, _) = pulled_on_hand(&owner, &rex).await;
    assert_eq!(fresh, 18);

    // The ledger still sums to the level.
    let (level, sum): (i64, i64) = sqlx::query_as(
        "select p.on_hand, (select coalesce(sum(quantity), 0)::bigint from stock_entry where product_id = p.id) from product p where p.id = $1",
    )
    .bind(rex_uuid)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((level, sum), (18, 18));

    // Each member's REST changes are numbered in order under one server-side device.
    let seqs: Vec<(Uuid, i64)> = sqlx::query_as(
        "select a.device_id, a.client_seq from applied_op a join device d on d.id = a.device_id
         where d.user_id = $1::uuid and a.device_id <> $2 order by a.version, a.client_seq",
    )
    .bind(&seller.user_id)
    .bind(phone.id)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(seqs.len(), 2, "{seqs:?}");
    assert_eq!(seqs[0].0, seqs[1].0);
    assert_eq!((seqs[0].1, seqs[1].1), (1, 2));
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn refused_rest_changes_leave_no_op(pool: PgPool) {
    let server = start_api(pool.clone()).await;
    let owner = Api::register(&server.url, "o@example.com").await;
    let rex = product(&owner, "REX").await;
    let before: i64 = sqlx::query_scalar("select count(*) from applied_op")
        .fetch_one(&pool)
        .await
        .unwrap();
    // Unknown product in a sale, unknown event in an adjust, a sale id in use.
    let (status, _) = owner
        .post("/sales", json!({"lines": [{"product_id": Uuid::now_v7(), "quantity": 1, "unit_price": 5}], "payment_method": "cash"}))
        .await;
    assert_eq!(status, 404);
    let (status, _) = owner
        .post(
            &format!("/products/{rex}/adjust"),
            json!({"quantity": 1, "reason": "adjusted", "event_id": Uuid::now_v7()}),
        )
        .await;
    assert_eq!(status, 404);
    let sale = json!({"id": Uuid::now_v7(), "lines": [{"product_id": rex, "quantity": 1, "unit_price": 5}], "payment_method": "cash"});
    assert_eq!(owner.post("/sales", sale.clone()).await.0, 201);
    assert_eq!(owner.post("/sales", sale).await.0, 409);
    let after: i64 = sqlx::query_scalar("select count(*) from applied_op")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(after, before + 1, "only the one sale became an op");

    // No device may push as a member's server-side device.
    let reserved = printstall_server::sync::push::server_device_id(
        Uuid::parse_str(&owner.shop_id).unwrap(),
        Uuid::parse_str(&owner.user_id).unwrap(),
    );
    let (status, err) = push_as(&owner, reserved, &[]).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (400, Some("reserved_device_id"))
    );
    assert_eq!(on_hand(&owner, &rex).await, -1);
    server.stop().await;
}

/// Spool uses and weighings, job steps, finishes and fails, filament and spool edits and
/// event plans made through REST are ops: a fresh device that pulls computes the numbers
/// the REST API shows, and a phone's op on the same spool lands on top of them.
#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn rest_spools_jobs_plans_and_edits_reach_devices(pool: PgPool) {
    use common::fixtures::{event, filament, model, product as made_product, spool, variant};
    use printstall_core::domain::print_job::JobStatus;
    use printstall_core::domain::{MarketEventId, PrintJobId, SpoolId};

    let server = start_api(pool.clone()).await;
    let owner = Api::register(&server.url, "o@example.com").await;
    let seller = seller_of(&owner, "s@example.com").await;
    let f = filament(&owner, "Galaxy Black").await;
    let m = model(&owner, "Flexi Rex").await;
    let v = variant(&owner, &m, &f).await;
    let sp = spool(&owner, &f, 1000).await;
    let rex = made_product(&owner, "REX-L", Some(&v)).await;
    let ev = event(&owner, "Winter market").await;
    let uuid = |s: &str| Uuid::parse_str(s).unwrap();

    // Spool: a use, a weighing, a use past the end (clamped), a correction.
    let (status, out) = seller
        .post(
            &format!("/spools/{sp}/use"),
            json!({"used_cg": 10000, "reason": "test"}),
        )
        .await;
    assert_eq!(
        (status, out["spool"]["left_cg"].as_i64()),
        (200, Some(90000))
    );
    let (status, out) = seller
        .post(&format!("/spools/{sp}/weigh"), json!({"gross_cg": 100000}))
        .await;
    assert_eq!(
        (status, out["spool"]["left_cg"].as_i64()),
        (200, Some(80000))
    );

    // Jobs: one started, paused, resumed and finished with filament; one failed.
    let job = |body: serde_json::Value| {
        let owner = owner.clone();
        let v = v.clone();
        async move {
            let mut b = json!({"variant_id": v, "units": 4});
            for (k, val) in body.as_object().unwrap() {
                b[k] = val.clone();
            }
            let (status, j) = owner.post("/print-jobs", b).await;
            assert_eq!(status, 201, "{j}");
            j["id"].as_str().unwrap().to_owned()
        }
    };
    let done = job(json!({"event_id": ev})).await;
    for to in ["printing", "paused", "printing"] {
        let (status, out) = seller
            .post(&format!("/print-jobs/{done}/status"), json!({"status": to}))
            .await;
        assert_eq!((status, out["status"].as_str()), (200, Some(to)), "{out}");
    }
    let (status, out) = seller
        .post(
            &format!("/print-jobs/{done}/finish"),
            json!({"spools": [{"spool_id": sp, "used_cg": 5000}]}),
        )
        .await;
    assert_eq!(
        (status, out["status"].as_str()),
        (200, Some("done")),
        "{out}"
    );
    let failed = job(json!({})).await;
    let (status, out) = seller
        .post(
            &format!("/print-jobs/{failed}/fail"),
            json!({"reason": "spaghetti", "spools": [{"spool_id": sp, "used_cg": 2500}]}),
        )
        .await;
    assert_eq!(
        (status, out["status"].as_str()),
        (200, Some("failed")),
        "{out}"
    );
    let cancelled = job(json!({})).await;
    assert_eq!(
        seller
            .post(
                &format!("/print-jobs/{cancelled}/status"),
                json!({"status": "cancelled"})
            )
            .await
            .0,
        200
    );

    // Edits: the spool's location and initial weight, the filament's name; a plan.
    let (status, out) = owner
        .patch(&format!("/spools/{sp}"), json!({"location": "Shelf B"}))
        .await;
    assert_eq!(status, 200, "{out}");
    let (status, out) = owner
        .patch(
            &format!("/filaments/{f}"),
            json!({"brand": "Prusament Pro", "nozzle_temp_c": 215}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    let (status, plan) = owner
        .call(
            reqwest::Method::PUT,
            &format!("/events/{ev}/plan"),
            Some(json!({"lines": [{"product_id": rex, "target": 12}]})),
        )
        .await;
    assert_eq!(status, 200, "{plan}");

    // A fresh device pulls the same numbers the REST API shows.
    let mut pulled = Pulled::default();
    pulled.drain(&seller, 50).await;
    let state = pulled.state();
    let (_, rest_spool) = owner.get(&format!("/spools/{sp}")).await;
    let left = rest_spool["left_cg"].as_i64().unwrap();
    assert_eq!(left, 80000 - 5000 - 2500);
    assert_eq!(state.spool_level(SpoolId(uuid(&sp))).left_cg.0, left);
    let (_, p) = owner.get(&format!("/products/{rex}")).await;
    assert_eq!(p["stock"]["on_hand"], 4);
    assert_eq!(state.on_hand(ProductId(uuid(&rex))), 4);
    assert_eq!(state.job_status(PrintJobId(uuid(&done))), JobStatus::Done);
    assert_eq!(
        state.job_status(PrintJobId(uuid(&failed))),
        JobStatus::Failed
    );
    assert_eq!(
        state.job_status(PrintJobId(uuid(&cancelled))),
        JobStatus::Cancelled
    );
    let spool_fields = state.entity(EntityKind::Spool, uuid(&sp)).unwrap().fields;
    assert_eq!(spool_fields["location"], "Shelf B");
    assert_eq!(spool_fields["filament_id"], f.as_str());
    let fil = state.entity(EntityKind::Filament, uuid(&f)).unwrap().fields;
    assert_eq!(
        (fil["brand"].as_str(), fil["nozzle_temp_c"].as_i64()),
        (Some("Prusament Pro"), Some(215))
    );
    assert_eq!(fil["colour"]["name"], "Galaxy Black");
    let lines = state.plan(MarketEventId(uuid(&ev)));
    assert_eq!(lines.len(), 1);
    assert_eq!((lines[0].product_id.0, lines[0].target), (uuid(&rex), 12));

    // A phone weighs the spool, then the back office uses it: both see the same grams.
    let mut phone = Device::new(&seller);
    let op = phone.op(json!({"kind": "spool.weigh.v1", "spool_id": sp, "gross_cg": 70000, "empty_spool_cg": 20000}));
    let (status, r) = phone.push(&[op]).await;
    assert_eq!((status, statuses(&r)), (200, vec!["applied".to_owned()]));
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (status, out) = owner
        .post(
            &format!("/spools/{sp}/use"),
            json!({"used_cg": 1000, "reason": "print"}),
        )
        .await;
    assert_eq!(
        (status, out["spool"]["left_cg"].as_i64()),
        (200, Some(49000))
    );
    // A phone's job step is shown by the REST API too.
    let queued = job(json!({})).await;
    let op = phone.op(json!({"kind": "job.transition.v1", "job_id": queued, "to": "printing"}));
    let (status, r) = phone.push(&[op]).await;
    assert_eq!((status, statuses(&r)), (200, vec!["applied".to_owned()]));
    let (_, read) = owner.get(&format!("/print-jobs/{queued}")).await;
    assert_eq!(read["status"], "printing");
    pulled.drain(&seller, 50).await;
    assert_eq!(
        pulled.state().spool_level(SpoolId(uuid(&sp))).left_cg.0,
        49000
    );

    // A filament and a spool made on the phone are shown by the REST API, colour and all.
    let (pf, ps) = (Uuid::now_v7(), Uuid::now_v7());
    let mut phone = Device::new(&owner);
    let ops = [
        phone.op(json!({"kind": "entity.set.v1", "entity": "filament", "id": pf, "fields": {
            "brand": "Extrudr", "material": "petg", "colour": {"name": "Silk Red", "hex": "#aa0000", "multi_hexes": ["#00aa00"]},
            "diameter": "1.75", "density_mg_cm3": 1270, "net_weight_cg": 100000}})),
        phone.op(json!({"kind": "entity.set.v1", "entity": "spool", "id": ps, "fields": {
            "filament_id": pf, "initial_net_cg": 50000}})),
        phone.op(json!({"kind": "spool.use.v1", "spool_id": ps, "used_cg": 1500, "reason": "print"})),
        phone.op(json!({"kind": "entity.set.v1", "entity": "filament", "id": pf, "fields": {
            "colour": {"name": "Silk Ruby", "hex": "#bb0000"}}})),
    ];
    let (status, r) = phone.push(&ops).await;
    assert_eq!(status, 200, "{r}");
    assert!(
        r["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["status"] == "applied" && a["notes"].is_null()),
        "{r}"
    );
    let (status, fil) = owner.get(&format!("/filaments/{pf}")).await;
    assert_eq!(status, 200, "{fil}");
    assert_eq!(
        fil["colour"],
        json!({"name": "Silk Ruby", "hex": "#bb0000", "multi_hexes": []})
    );
    let (status, spool_out) = owner.get(&format!("/spools/{ps}")).await;
    assert_eq!(
        (status, spool_out["left_cg"].as_i64()),
        (200, Some(48500)),
        "{spool_out}"
    );

    // The REST ledgers still add up.
    let bad: i64 = sqlx::query_scalar(
        "select count(*) from spool s where s.left_cg <> s.initial_net_cg - coalesce((select sum(used_cg) from spool_usage u where u.spool_id = s.id), 0)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(bad, 0);
    server.stop().await;
}

/// Events, printers and print jobs made, edited and moved through REST are ops: a fresh
/// device pulls them. Those a phone makes (`entity.set.v1`) are shown by the REST lists,
/// a phone-started job with its status, and deleting on the phone archives.
#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn events_jobs_and_printers_flow_both_ways(pool: PgPool) {
    use common::fixtures::{event, filament, model, printer, variant};
    use printstall_core::domain::PrintJobId;
    use printstall_core::domain::print_job::JobStatus;

    let server = start_api(pool.clone()).await;
    let owner = Api::register(&server.url, "o@example.com").await;
    let seller = seller_of(&owner, "s@example.com").await;
    let f = filament(&owner, "Galaxy Black").await;
    let m = model(&owner, "Flexi Rex").await;
    let v = variant(&owner, &m, &f).await;
    let uuid = |s: &str| Uuid::parse_str(s).unwrap();

    // REST: an event, a printer and three jobs, then edits and a move.
    let ev = event(&owner, "Winter market").await;
    let prn = printer(&owner, "MK4S #1").await;
    let mut jobs = Vec::new();
    for units in [4, 8, 2] {
        let (status, j) = owner
            .post(
                "/print-jobs",
                json!({"variant_id": v, "units": units, "event_id": ev, "printer_id": prn}),
            )
            .await;
        assert_eq!(status, 201, "{j}");
        jobs.push(j["id"].as_str().unwrap().to_owned());
    }
    let (status, out) = owner
        .patch(
            &format!("/events/{ev}"),
            json!({"name": "Winter market, old town", "location": "Town hall"}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    let (status, out) = owner
        .patch(
            &format!("/printers/{prn}"),
            json!({"name": "MK4S left", "build_volume": {"x_mm": 250, "y_mm": 210, "z_mm": 200}}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    let (status, out) = owner
        .patch(
            &format!("/print-jobs/{}", jobs[0]),
            json!({"notes": "matte"}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    // The last job goes first: every job whose place changed is an op.
    let (status, out) = owner
        .post(
            &format!("/print-jobs/{}/move", jobs[2]),
            json!({"before": jobs[0]}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    let (_, listed) = owner.get("/print-jobs").await;
    let rest_order: Vec<String> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        rest_order,
        vec![jobs[2].clone(), jobs[0].clone(), jobs[1].clone()]
    );

    let mut pulled = Pulled::default();
    pulled.drain(&seller, 50).await;
    let state = pulled.state();
    let e = state
        .entity(EntityKind::MarketEvent, uuid(&ev))
        .unwrap()
        .fields;
    assert_eq!(
        (
            e["name"].as_str(),
            e["location"].as_str(),
            e["starts_on"].as_str(),
            e["booth_fee"].as_i64()
        ),
        (
            Some("Winter market, old town"),
            Some("Town hall"),
            Some("2026-12-01"),
            Some(4500)
        )
    );
    let p = state
        .entity(EntityKind::Printer, uuid(&prn))
        .unwrap()
        .fields;
    assert_eq!(p["name"], "MK4S left");
    assert_eq!(
        p["build_volume"],
        json!({"x_mm": 250, "y_mm": 210, "z_mm": 200})
    );
    assert_eq!(p["nozzle_um"], 400);
    let place = |id: &str| {
        let j = state.entity(EntityKind::PrintJob, uuid(id)).unwrap().fields;
        (
            j["priority"].as_i64().unwrap(),
            j["position"].as_i64().unwrap(),
        )
    };
    let mut device_order = jobs.clone();
    device_order.sort_by_key(|j| place(j));
    assert_eq!(
        device_order, rest_order,
        "devices order the queue as REST does"
    );
    let j0 = state
        .entity(EntityKind::PrintJob, uuid(&jobs[0]))
        .unwrap()
        .fields;
    assert_eq!(
        (
            j0["units"].as_i64(),
            j0["notes"].as_str(),
            j0["variant_id"].as_str(),
            j0["event_id"].as_str()
        ),
        (Some(4), Some("matte"), Some(v.as_str()), Some(ev.as_str()))
    );
    assert!(j0.get("status").is_none(), "the status is not a field");

    // A phone (the seller's) makes an event, a job for it that it starts at once, and the
    // owner's phone a printer, then deletes it.
    let (pev, pjob, pprn) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let mut phone = Device::new(&owner);
    let ops = [
        phone.op(json!({"kind": "entity.set.v1", "entity": "market_event", "id": pev, "fields": {
            "name": "Spring fair", "starts_on": "2027-03-06", "ends_on": "2027-03-07",
            "location": "Harbour", "theme_tags": ["spring"]}})),
        phone.op(json!({"kind": "job.transition.v1", "job_id": pjob, "to": "printing"})),
        phone.op(json!({"kind": "entity.set.v1", "entity": "print_job", "id": pjob, "fields": {
            "variant_id": v, "units": 6, "plates": 2, "priority": 5, "position": 1024,
            "event_id": pev, "printer_id": prn}})),
        phone.op(json!({"kind": "entity.set.v1", "entity": "printer", "id": pprn, "fields": {
            "name": "Bambu A1", "nozzle_um": 400, "build_volume": {"x_mm": 256, "y_mm": 256, "z_mm": 256}}})),
    ];
    let (status, r) = phone.push(&ops).await;
    assert_eq!(status, 200, "{r}");
    assert!(
        r["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["status"] == "applied" && a["notes"].is_null()),
        "{r}"
    );
    let (_, evs) = owner.get("/events").await;
    let spring = evs["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == pev.to_string())
        .unwrap_or_else(|| panic!("the phone's event is listed: {evs}"))
        .clone();
    assert_eq!(
        (
            spring["name"].as_str(),
            spring["ends_on"].as_str(),
            spring["theme_tags"].clone()
        ),
        (Some("Spring fair"), Some("2027-03-07"), json!(["spring"]))
    );
    let (_, listed) = owner.get("/print-jobs").await;
    let first = &listed["items"][0];
    assert_eq!(
        first["id"],
        pjob.to_string(),
        "priority 5 goes first: {listed}"
    );
    assert_eq!(
        (
            first["status"].as_str(),
            first["units"].as_i64(),
            first["event_id"].as_str()
        ),
        (Some("printing"), Some(6), Some(pev.to_string().as_str()))
    );
    assert!(first["started_at"].is_string(), "{first}");
    assert_eq!(first["created_by"], owner.user_id.as_str());
    let (_, by_event) = owner.get(&format!("/print-jobs?event_id={pev}")).await;
    assert_eq!(by_event["items"].as_array().unwrap().len(), 1);
    let (status, a1) = owner.get(&format!("/printers/{pprn}")).await;
    assert_eq!(status, 200, "{a1}");
    assert_eq!(
        (a1["name"].as_str(), a1["build_volume"].clone()),
        (
            Some("Bambu A1"),
            json!({"x_mm": 256, "y_mm": 256, "z_mm": 256})
        )
    );
    // The phone changes the job's printer and deletes its printer; REST follows.
    let ops = [
        phone.op(json!({"kind": "entity.set.v1", "entity": "print_job", "id": pjob, "fields": {"printer_id": null, "notes": "any printer"}})),
        phone.op(json!({"kind": "entity.delete.v1", "entity": "printer", "id": pprn})),
        phone.op(json!({"kind": "entity.set.v1", "entity": "printer", "id": prn, "fields": {"build_volume": null}})),
    ];
    let (status, r) = phone.push(&ops).await;
    assert_eq!(
        (status, statuses(&r)),
        (200, vec!["applied".to_owned(); 3]),
        "{r}"
    );
    let (_, j) = owner.get(&format!("/print-jobs/{pjob}")).await;
    assert_eq!(
        (j["printer_id"].clone(), j["notes"].as_str()),
        (Value::Null, Some("any printer"))
    );
    let (_, a1) = owner.get(&format!("/printers/{pprn}")).await;
    assert_eq!(a1["archived"], true);
    let (_, left) = owner.get(&format!("/printers/{prn}")).await;
    assert_eq!(left["build_volume"], Value::Null);

    // REST archives the REST-made event: a tombstone for devices.
    assert_eq!(owner.delete(&format!("/events/{ev}")).await.0, 204);
    pulled.drain(&seller, 50).await;
    let state = pulled.state();
    assert!(
        state
            .entity(EntityKind::MarketEvent, uuid(&ev))
            .unwrap()
            .deleted,
        "deleted for devices"
    );
    assert_eq!(state.job_status(PrintJobId(pjob)), JobStatus::Printing);
    server.stop().await;
}

/// Models and variants are ops both ways (issues 4 and 6): REST-made ones and their edits
/// reach a fresh device's pull; a phone-made model and variant (with filament needs) are
/// listed by `GET /models` and `GET /variants`, and a phone's delete archives them.
#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn models_and_variants_flow_both_ways(pool: PgPool) {
    use common::fixtures::{filament, model, variant};

    let server = start_api(pool.clone()).await;
    let owner = Api::register(&server.url, "o@example.com").await;
    let seller = seller_of(&owner, "s@example.com").await;
    let f = filament(&owner, "Galaxy Black").await;
    let m = model(&owner, "Flexi Rex").await;
    let v = variant(&owner, &m, &f).await;
    let uuid = |s: &str| Uuid::parse_str(s).unwrap();
    let (status, out) = owner
        .patch(
            &format!("/models/{m}"),
            json!({"designer_name": "DrLex", "tags": ["dino"]}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    let (status, out) = owner
        .patch(
            &format!("/variants/{v}"),
            json!({"name": "Large, matte", "filament_needs": [{"filament_id": f, "per_unit_cg": 1400}]}),
        )
        .await;
    assert_eq!(status, 200, "{out}");

    let mut pulled = Pulled::default();
    pulled.drain(&seller, 50).await;
    let state = pulled.state();
    let pm = state.entity(EntityKind::Model, uuid(&m)).unwrap().fields;
    assert_eq!(
        (
            pm["name"].as_str(),
            pm["designer_name"].as_str(),
            pm["source_site"].as_str(),
            pm["licence"].clone(),
            pm["tags"].clone()
        ),
        (
            Some("Flexi Rex"),
            Some("DrLex"),
            Some("printables"),
            json!({"name": "CC-BY-4.0", "allows_selling": true}),
            json!(["dino"])
        )
    );
    let pv = state.entity(EntityKind::Variant, uuid(&v)).unwrap().fields;
    assert_eq!(
        (
            pv["name"].as_str(),
            pv["model_id"].as_str(),
            pv["parts_per_plate"].as_i64(),
            pv["print_time_s"].as_i64(),
            pv["slicer_settings"].clone(),
            pv["filament_needs"].clone()
        ),
        (
            Some("Large, matte"),
            Some(m.as_str()),
            Some(4),
            Some(3600),
            json!({"layer_height": "0.2", "infill": "15%"}),
            json!([{"filament_id": f, "per_unit_cg": 1400}])
        )
    );

    // The owner's phone makes a model and a variant of it (the variant first: it waits for the
    // model's row), with one known filament and one the server never had.
    let (pm_id, pv_id, ghost) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let mut phone = Device::new(&owner);
    let ops = [
        phone.op(json!({"kind": "entity.set.v1", "entity": "variant", "id": pv_id, "fields": {
            "model_id": pm_id, "name": "Keychain, 0.16 mm", "parts_per_plate": 6,
            "print_time_s": 5400, "slicer_settings": {"layer_height": "0.16", "printer_profile": "Bambu A1"},
            "filament_needs": [{"filament_id": f, "per_unit_cg": 820}, {"filament_id": ghost, "per_unit_cg": 100}]}})),
        phone.op(json!({"kind": "entity.set.v1", "entity": "model", "id": pm_id, "fields": {
            "name": "Dragon keychain", "source_site": "own",
            "licence": {"name": "Own design", "allows_selling": true}}})),
    ];
    let (status, r) = phone.push(&ops).await;
    assert_eq!(
        (status, statuses(&r)),
        (200, vec!["applied".to_owned(); 2]),
        "{r}"
    );
    // The model's row exists now; the variant's follows with its next change.
    let (status, got) = owner.get(&format!("/models/{pm_id}")).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(
        (
            got["name"].as_str(),
            got["source_site"].as_str(),
            got["licence"]["allows_selling"].as_bool()
        ),
        (Some("Dragon keychain"), Some("own"), Some(true))
    );
    let ops = [phone.op(
        json!({"kind": "entity.set.v1", "entity": "variant", "id": pv_id, "fields": {"name": "Keychain, 0.16 mm fine"}}),
    )];
    let (status, r) = phone.push(&ops).await;
    assert_eq!(
        (status, statuses(&r)),
        (200, vec!["applied".to_owned()]),
        "{r}"
    );
    let (_, models) = owner.get("/models").await;
    assert!(
        models["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == pm_id.to_string()),
        "{models}"
    );
    let (_, listed) = owner.get(&format!("/variants?model_id={pm_id}")).await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{listed}");
    let got = &items[0];
    assert_eq!(
        (
            got["id"].as_str(),
            got["name"].as_str(),
            got["parts_per_plate"].as_i64(),
            got["print_time_s"].as_i64(),
            got["slicer_settings"]["layer_height"].as_str(),
            got["filament_needs"].clone()
        ),
        (
            Some(pv_id.to_string().as_str()),
            Some("Keychain, 0.16 mm fine"),
            Some(6),
            Some(5400),
            Some("0.16"),
            json!([{"filament_id": f, "per_unit_cg": 820}])
        ),
        "the unknown filament is left out of the REST rows"
    );

    // The phone edits the REST-made variant and deletes its own model; REST follows.
    let ops = [
        phone.op(json!({"kind": "entity.set.v1", "entity": "variant", "id": v, "fields": {"print_time_s": null, "parts_per_plate": 8}})),
        phone.op(json!({"kind": "entity.delete.v1", "entity": "model", "id": pm_id})),
    ];
    let (status, r) = phone.push(&ops).await;
    assert_eq!(
        (status, statuses(&r)),
        (200, vec!["applied".to_owned(); 2]),
        "{r}"
    );
    let (_, got) = owner.get(&format!("/variants/{v}")).await;
    assert_eq!(
        (
            got["print_time_s"].clone(),
            got["parts_per_plate"].as_i64(),
            got["filament_needs"].clone()
        ),
        (
            Value::Null,
            Some(8),
            json!([{"filament_id": f, "per_unit_cg": 1400}])
        )
    );
    let (_, got) = owner.get(&format!("/models/{pm_id}")).await;
    assert_eq!(got["archived"], true);
    server.stop().await;
}

/// The same fields edited on a phone and through REST converge, last writer (by clock)
/// wins, on both sides: an older phone edit pushed after a REST edit loses; a newer one
/// wins, and REST then shows it.
#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn phone_and_rest_edits_of_one_field_converge(pool: PgPool) {
    use common::fixtures::{event, filament, model, printer, variant};

    let server = start_api(pool.clone()).await;
    let owner = Api::register(&server.url, "o@example.com").await;
    let f = filament(&owner, "Galaxy Black").await;
    let m = model(&owner, "Flexi Rex").await;
    let v = variant(&owner, &m, &f).await;
    let ev = event(&owner, "Winter market").await;
    let prn = printer(&owner, "MK4S").await;
    let (_, job) = owner
        .post("/print-jobs", json!({"variant_id": v, "units": 4}))
        .await;
    let job = job["id"].as_str().unwrap().to_owned();
    let uuid = |s: &str| Uuid::parse_str(s).unwrap();
    let mut phone = Device::new(&owner);

    // Made offline first (older clocks), pushed after the REST edits.
    let stale = [
        phone.op(json!({"kind": "entity.set.v1", "entity": "market_event", "id": ev, "fields": {"name": "Phone name", "notes": "phone notes"}})),
        phone.op(json!({"kind": "entity.set.v1", "entity": "print_job", "id": job, "fields": {"units": 9}})),
        phone.op(json!({"kind": "entity.set.v1", "entity": "printer", "id": prn, "fields": {"name": "Phone printer"}})),
    ];
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert_eq!(
        owner
            .patch(&format!("/events/{ev}"), json!({"name": "REST name"}))
            .await
            .0,
        200
    );
    assert_eq!(
        owner
            .patch(&format!("/print-jobs/{job}"), json!({"units": 5}))
            .await
            .0,
        200
    );
    assert_eq!(
        owner
            .patch(&format!("/printers/{prn}"), json!({"name": "REST printer"}))
            .await
            .0,
        200
    );
    let (status, r) = phone.push(&stale).await;
    assert_eq!(
        (status, statuses(&r)),
        (200, vec!["applied".to_owned(); 3]),
        "{r}"
    );
    // REST's later values stay; the phone's other field (notes) lands.
    let (_, e) = owner.get(&format!("/events/{ev}")).await;
    assert_eq!(
        (e["name"].as_str(), e["notes"].as_str()),
        (Some("REST name"), Some("phone notes"))
    );
    let (_, j) = owner.get(&format!("/print-jobs/{job}")).await;
    assert_eq!(j["units"], 5);
    let (_, p) = owner.get(&format!("/printers/{prn}")).await;
    assert_eq!(p["name"], "REST printer");
    let mut pulled = Pulled::default();
    pulled.drain(&owner, 50).await;
    let state = pulled.state();
    let field = |kind, id: &str, f: &str| state.entity(kind, uuid(id)).unwrap().fields[f].clone();
    assert_eq!(field(EntityKind::MarketEvent, &ev, "name"), "REST name");
    assert_eq!(field(EntityKind::MarketEvent, &ev, "notes"), "phone notes");
    assert_eq!(field(EntityKind::PrintJob, &job, "units"), 5);
    assert_eq!(field(EntityKind::Printer, &prn, "name"), "REST printer");

    // A newer phone edit wins over REST's; then a newer REST edit wins again.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let newer = [
        phone.op(json!({"kind": "entity.set.v1", "entity": "market_event", "id": ev, "fields": {"name": "Phone again"}})),
        phone.op(json!({"kind": "entity.set.v1", "entity": "print_job", "id": job, "fields": {"units": 7}})),
    ];
    let (status, r) = phone.push(&newer).await;
    assert_eq!(
        (status, statuses(&r)),
        (200, vec!["applied".to_owned(); 2]),
        "{r}"
    );
    let (_, e) = owner.get(&format!("/events/{ev}")).await;
    assert_eq!(e["name"], "Phone again");
    let (_, j) = owner.get(&format!("/print-jobs/{job}")).await;
    assert_eq!(j["units"], 7);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (_, e) = owner
        .patch(&format!("/events/{ev}"), json!({"name": "REST last"}))
        .await;
    assert_eq!(e["name"], "REST last");
    pulled.drain(&owner, 50).await;
    let state = pulled.state();
    assert_eq!(
        state
            .entity(EntityKind::MarketEvent, uuid(&ev))
            .unwrap()
            .fields["name"],
        "REST last"
    );
    assert_eq!(
        state
            .entity(EntityKind::PrintJob, uuid(&job))
            .unwrap()
            .fields["units"],
        7
    );
    server.stop().await;
}

/// Filaments and spools imported from CSV or from Spoolman are ops: a fresh device pulls
/// them, with the grams left the REST API shows.
#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn imported_filaments_and_spools_reach_devices(pool: PgPool) {
    use common::fixtures::{filament, spool};
    use printstall_core::domain::SpoolId;

    let server = start_api(pool.clone()).await;
    let a = Api::register(&server.url, "a@example.com").await;
    let b = Api::register(&server.url, "b@example.com").await;
    let f = filament(&a, "Galaxy Black").await;
    let sp = spool(&a, &f, 1000).await;
    let (status, _) = a
        .post(
            &format!("/spools/{sp}/use"),
            json!({"used_cg": 12345, "reason": "print"}),
        )
        .await;
    assert_eq!(status, 200);

    // A's CSV export into B.
    for kind in ["filaments", "spools"] {
        let r = a
            .http
            .get(format!("{}/api/v1/csv/{kind}", a.base))
            .bearer_auth(&a.token)
            .send()
            .await
            .unwrap();
        let csv = r.text().await.unwrap();
        let (status, report) = b.post(&format!("/csv/{kind}"), json!({"csv": csv})).await;
        assert_eq!(
            (status, report["created"].as_i64()),
            (200, Some(1)),
            "{report}"
        );
    }
    // And from Spoolman: one filament, one spool with 250.5 g used.
    let (status, report) = b
        .post(
            "/imports/spoolman",
            json!({
                "vendors": [{"id": 3, "name": "Polymaker"}],
                "filaments": [{"id": 7, "name": "PolyTerra Charcoal Black", "vendor_id": 3,
                    "material": "PLA", "density": 1.24, "diameter": 1.75, "weight": 1000.0,
                    "spool_weight": 140.0, "color_hex": "1A1A1A"}],
                "spools": [{"id": 12, "filament_id": 7, "initial_weight": 1000.0, "used_weight": 250.5,
                    "location": "Shelf A", "lot_nr": "LOT-42", "archived": false}]
            }),
        )
        .await;
    assert_eq!(status, 200, "{report}");

    let (_, listed) = b.get("/spools").await;
    let spools = listed["items"].as_array().unwrap();
    assert_eq!(spools.len(), 2, "{listed}");
    let mut pulled = Pulled::default();
    pulled.drain(&b, 50).await;
    let state = pulled.state();
    for s in spools {
        let id = Uuid::parse_str(s["id"].as_str().unwrap()).unwrap();
        let fields = state.entity(EntityKind::Spool, id).unwrap().fields;
        assert_eq!(fields["filament_id"], s["filament_id"], "{s}");
        assert_eq!(fields["initial_net_cg"], s["initial_net_cg"], "{s}");
        assert_eq!(
            state.spool_level(SpoolId(id)).left_cg.0,
            s["left_cg"].as_i64().unwrap(),
            "{s}"
        );
        let fil = Uuid::parse_str(s["filament_id"].as_str().unwrap()).unwrap();
        assert!(state.entity(EntityKind::Filament, fil).is_some(), "{s}");
    }
    let lefts: Vec<i64> = spools
        .iter()
        .map(|s| s["left_cg"].as_i64().unwrap())
        .collect();
    assert!(lefts.contains(&(100_000 - 12345)), "{lefts:?}");
    assert!(lefts.contains(&(100_000 - 25050)), "{lefts:?}");
    let brands: Vec<String> = state
        .entities
        .get(&EntityKind::Filament)
        .unwrap()
        .values()
        .map(|c| c.values()["brand"].as_str().unwrap().to_owned())
        .collect();
    assert!(brands.contains(&"Polymaker".to_owned()), "{brands:?}");
    server.stop().await;
}

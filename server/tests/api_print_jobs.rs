//! Print jobs over HTTP: queue order and moves, core's status machine, finish and fail in
//! one transaction (spool ledger + stock ledger), sellers moving jobs along, bad inputs,
//! and two jobs finishing on the same spool at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::fixtures::{event, filament, model, printer, product, seller_of, spool, variant};
use common::{Api, start_api};
use serde_json::{Value, json};
use sqlx::PgPool;

struct Shop {
    owner: Api,
    seller: Api,
    variant: String,
    spool: String,
    product: String,
    printer: String,
}

async fn shop(server_url: &str) -> Shop {
    let owner = Api::register(server_url, "o@example.com").await;
    let seller = seller_of(&owner).await;
    let f = filament(&owner, "Galaxy Black").await;
    let m = model(&owner, "Flexi Rex").await;
    let variant = variant(&owner, &m, &f).await;
    let spool = spool(&owner, &f, 1000).await;
    let product = product(&owner, "REX-L", Some(&variant)).await;
    let printer = printer(&owner, "MK4S #1").await;
    Shop {
        owner,
        seller,
        variant,
        spool,
        product,
        printer,
    }
}

async fn job(api: &Api, variant: &str, body: Value) -> Value {
    let mut b = json!({"variant_id": variant, "units": 4});
    for (k, v) in body.as_object().unwrap() {
        b[k] = v.clone();
    }
    let (status, j) = api.post("/print-jobs", b).await;
    assert_eq!(status, 201, "{j}");
    j
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap().to_owned())
        .collect()
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn queue_order_moves_and_status_machine(pool: PgPool) {
    let server = start_api(pool).await;
    let s = shop(&server.url).await;
    let ev = event(&s.owner, "Advent market").await;
    let a = job(&s.owner, &s.variant, json!({"units": 9})).await;
    // Plates default to core's plates_for: 9 units at 4 per plate is 3 plates.
    assert_eq!(
        (a["plates"].as_i64(), a["status"].as_str()),
        (Some(3), Some("queued"))
    );
    assert_eq!(a["created_by"].as_str(), Some(s.owner.user_id.as_str()));
    let b = job(
        &s.owner,
        &s.variant,
        json!({"printer_id": s.printer, "event_id": ev}),
    )
    .await;
    let c = job(
        &s.owner,
        &s.variant,
        json!({"priority": 5, "notes": "rush"}),
    )
    .await;
    let (a, b, c) = (
        a["id"].as_str().unwrap().to_owned(),
        b["id"].as_str().unwrap().to_owned(),
        c["id"].as_str().unwrap().to_owned(),
    );

    let (_, page) = s.seller.get("/print-jobs").await;
    assert_eq!(ids(&page), [c.as_str(), a.as_str(), b.as_str()]);
    let (_, page) = s.seller.get("/print-jobs?limit=2").await;
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let (_, rest) = s
        .seller
        .get(&format!("/print-jobs?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(ids(&rest), [b.as_str()]);
    let (_, page) = s
        .seller
        .get(&format!("/print-jobs?printer_id={}", s.printer))
        .await;
    assert_eq!(ids(&page), [b.as_str()]);
    let (_, page) = s.seller.get(&format!("/print-jobs?event_id={ev}")).await;
    assert_eq!(ids(&page), [b.as_str()]);

    // Moves: b before a; c after b (takes its priority); a to priority 9.
    let (status, out) = s
        .owner
        .post(&format!("/print-jobs/{b}/move"), json!({"before": a}))
        .await;
    assert_eq!(status, 200, "{out}");
    let (_, page) = s.owner.get("/print-jobs").await;
    assert_eq!(ids(&page), [c.as_str(), b.as_str(), a.as_str()]);
    s.owner
        .post(&format!("/print-jobs/{c}/move"), json!({"after": b}))
        .await;
    let (_, page) = s.owner.get("/print-jobs").await;
    assert_eq!(ids(&page), [b.as_str(), c.as_str(), a.as_str()]);
    s.owner
        .post(&format!("/print-jobs/{a}/move"), json!({"priority": 9}))
        .await;
    let (_, page) = s.owner.get("/print-jobs").await;
    assert_eq!(ids(&page), [a.as_str(), b.as_str(), c.as_str()]);
    for body in [
        json!({}),
        json!({"before": a, "after": b}),
        json!({"before": a, "priority": 1}),
        json!({"before": "first"}),
        json!({"to": "top"}),
    ] {
        assert_eq!(
            s.owner
                .post(&format!("/print-jobs/{b}/move"), body.clone())
                .await
                .0,
            422,
            "{body}"
        );
    }
    assert_eq!(
        s.owner
            .post(&format!("/print-jobs/{b}/move"), json!({"before": b}))
            .await
            .0,
        422
    );
    assert_eq!(
        s.owner
            .post(
                &format!("/print-jobs/{b}/move"),
                json!({"before": uuid::Uuid::now_v7()})
            )
            .await
            .0,
        404
    );
    // Sellers move jobs along but do not plan them.
    assert_eq!(
        s.seller
            .post(&format!("/print-jobs/{b}/move"), json!({"before": a}))
            .await
            .0,
        403
    );
    assert_eq!(
        s.seller
            .post("/print-jobs", json!({"variant_id": s.variant, "units": 1}))
            .await
            .0,
        403
    );
    assert_eq!(
        s.seller
            .patch(&format!("/print-jobs/{b}"), json!({"units": 2}))
            .await
            .0,
        403
    );

    // The status machine is core's: start, pause, resume, cancel; bad transitions are 409.
    let (status, out) = s
        .seller
        .post(
            &format!("/print-jobs/{a}/status"),
            json!({"status": "printing"}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    assert!(out["started_at"].is_string());
    let (_, out) = s
        .seller
        .post(
            &format!("/print-jobs/{a}/status"),
            json!({"status": "paused"}),
        )
        .await;
    assert_eq!(out["status"], "paused");
    let (_, out) = s
        .seller
        .post(
            &format!("/print-jobs/{a}/status"),
            json!({"status": "printing"}),
        )
        .await;
    assert_eq!(out["status"], "printing");
    let (status, err) = s
        .seller
        .post(
            &format!("/print-jobs/{b}/status"),
            json!({"status": "paused"}),
        )
        .await;
    assert_eq!(status, 409, "{err}");
    assert!(err["error"]["message"].as_str().unwrap().contains("queued"));
    let (status, out) = s
        .seller
        .post(
            &format!("/print-jobs/{c}/status"),
            json!({"status": "cancelled"}),
        )
        .await;
    assert_eq!(status, 200);
    assert!(out["finished_at"].is_string());
    let (status, err) = s
        .seller
        .post(
            &format!("/print-jobs/{c}/status"),
            json!({"status": "printing"}),
        )
        .await;
    assert_eq!(status, 409);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already cancelled")
    );
    assert_eq!(
        s.owner
            .patch(&format!("/print-jobs/{c}"), json!({"units": 2}))
            .await
            .0,
        409
    );
    for body in [
        json!({"status": "done"}),
        json!({"status": "failed"}),
        json!({"status": "flying"}),
        json!({}),
    ] {
        assert_eq!(
            s.seller
                .post(&format!("/print-jobs/{b}/status"), body.clone())
                .await
                .0,
            422,
            "{body}"
        );
    }
    let (_, page) = s.owner.get("/print-jobs?status=cancelled").await;
    assert_eq!(ids(&page), [c.as_str()]);
    let (_, page) = s.owner.get("/print-jobs?status=all").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    assert_eq!(s.owner.get("/print-jobs?status=lost").await.0, 422);

    // Patch: fields of the job, not its status.
    let (status, out) = s
        .owner
        .patch(
            &format!("/print-jobs/{b}"),
            json!({"units": 8, "plates": 2, "printer_id": null, "notes": "gift"}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(
        (
            out["units"].as_i64(),
            out["printer_id"].is_null(),
            out["notes"].as_str()
        ),
        (Some(8), true, Some("gift"))
    );
    for body in [
        json!({"status": "done"}),
        json!({"units": 0}),
        json!({"units": 20000}),
        json!({"units": -1}),
        json!({"notes": "x".repeat(4001)}),
        json!({"variant_id": null}),
    ] {
        assert_eq!(
            s.owner
                .patch(&format!("/print-jobs/{b}"), body.clone())
                .await
                .0,
            422,
            "{body}"
        );
    }
    assert_eq!(
        s.owner
            .patch(
                &format!("/print-jobs/{b}"),
                json!({"printer_id": uuid::Uuid::now_v7()})
            )
            .await
            .0,
        404
    );
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn create_job_bad_inputs(pool: PgPool) {
    let server = start_api(pool).await;
    let s = shop(&server.url).await;
    for (body, status) in [
        (json!({"variant_id": s.variant}), 422),
        (json!({"variant_id": s.variant, "units": 0}), 422),
        (json!({"variant_id": s.variant, "units": -3}), 422),
        (json!({"variant_id": s.variant, "units": 1000000}), 422),
        (json!({"variant_id": s.variant, "units": "four"}), 422),
        (
            json!({"variant_id": s.variant, "units": 1, "plates": 0}),
            422,
        ),
        (
            json!({"variant_id": s.variant, "units": 1, "priority": 99999999999i64}),
            422,
        ),
        (
            json!({"variant_id": s.variant, "units": 1, "notes": "x".repeat(4001)}),
            422,
        ),
        (
            json!({"variant_id": s.variant, "units": 1, "status": "done"}),
            422,
        ),
        (json!({"variant_id": "rex", "units": 1}), 422),
        (json!({"variant_id": uuid::Uuid::now_v7(), "units": 1}), 404),
        (
            json!({"variant_id": s.variant, "units": 1, "printer_id": uuid::Uuid::now_v7()}),
            404,
        ),
        (
            json!({"variant_id": s.variant, "units": 1, "event_id": uuid::Uuid::now_v7()}),
            404,
        ),
    ] {
        let (got, err) = s.owner.post("/print-jobs", body.clone()).await;
        assert_eq!(got, status, "{body}: {err}");
    }
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn finish_and_fail_write_both_ledgers(pool: PgPool) {
    let server = start_api(pool.clone()).await;
    let s = shop(&server.url).await;
    let f2 = filament(&s.owner, "Silk Red").await;
    let red = spool(&s.owner, &f2, 100).await;

    // Finish with the default product (the one made from the variant): 4 units.
    let j = job(&s.owner, &s.variant, json!({})).await;
    let j = j["id"].as_str().unwrap();
    let (status, out) = s
        .seller
        .post(
            &format!("/print-jobs/{j}/finish"),
            json!({"spools": [{"spool_id": s.spool, "used_cg": 5000}, {"spool_id": red, "used_cg": 15000}, {"spool_id": s.spool, "used_cg": 1000}]}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["status"], "done");
    assert!(out["finished_at"].is_string() && out["started_at"].is_string());
    assert_eq!(
        out["produced"],
        json!([{"product_id": s.product, "quantity": 4, "at": out["produced"][0]["at"]}])
    );
    let used = out["spools_used"].as_array().unwrap();
    assert_eq!(used.len(), 2);
    let red_row = used.iter().find(|u| u["spool_id"] == red.as_str()).unwrap();
    // 150 g asked of a 100 g spool: 100 g taken, 50 g overshoot, the spool at 0.
    assert_eq!(
        (
            red_row["used_cg"].as_i64(),
            red_row["overshoot_cg"].as_i64()
        ),
        (Some(10000), Some(5000))
    );
    assert_eq!(red_row["reason"], "print");
    let (_, sp) = s.owner.get(&format!("/spools/{}", s.spool)).await;
    assert_eq!(sp["left_cg"], 94000);
    let (_, sp) = s.owner.get(&format!("/spools/{red}")).await;
    assert_eq!(sp["left_cg"], 0);
    let (_, p) = s.owner.get(&format!("/products/{}", s.product)).await;
    assert_eq!(p["stock"]["on_hand"], 4);
    let (_, ledger) = s
        .owner
        .get(&format!("/products/{}/ledger", s.product))
        .await;
    assert_eq!(ledger["items"][0]["reason"], "produced");
    assert_eq!(ledger["items"][0]["job_id"], j);
    let (_, read) = s.owner.get(&format!("/print-jobs/{j}")).await;
    assert_eq!(read["spools_used"].as_array().unwrap().len(), 2);
    // Finishing twice is refused and writes nothing.
    let (status, _) = s
        .seller
        .post(
            &format!("/print-jobs/{j}/finish"),
            json!({"spools": [{"spool_id": s.spool, "used_cg": 100}]}),
        )
        .await;
    assert_eq!(status, 409);
    let (_, sp) = s.owner.get(&format!("/spools/{}", s.spool)).await;
    assert_eq!(sp["left_cg"], 94000);

    // Explicit products; an unknown spool rolls the whole finish back.
    let j2 = job(&s.owner, &s.variant, json!({})).await;
    let j2 = j2["id"].as_str().unwrap();
    let (status, _) = s
        .seller
        .post(
            &format!("/print-jobs/{j2}/finish"),
            json!({"spools": [{"spool_id": s.spool, "used_cg": 100}, {"spool_id": uuid::Uuid::now_v7(), "used_cg": 100}], "produced": [{"product_id": s.product, "quantity": 3}]}),
        )
        .await;
    assert_eq!(status, 404);
    let (_, sp) = s.owner.get(&format!("/spools/{}", s.spool)).await;
    assert_eq!(sp["left_cg"], 94000);
    let (_, jr) = s.owner.get(&format!("/print-jobs/{j2}")).await;
    assert_eq!(jr["status"], "queued");
    for body in [
        json!({"spools": [{"spool_id": s.spool, "used_cg": 0}]}),
        json!({"spools": [{"spool_id": s.spool, "used_cg": -100}]}),
        json!({"spools": [{"spool_id": s.spool, "used_cg": 3000000}]}),
        json!({"spools": [{"spool_id": s.spool, "used_cg": 1500000}, {"spool_id": s.spool, "used_cg": 1500000}]}),
        json!({"spools": [{"spool_id": s.spool}]}),
        json!({"spools": [{"spool_id": s.spool, "used_cg": "lots"}]}),
        json!({"produced": [{"product_id": s.product, "quantity": -2}]}),
        json!({"produced": [{"product_id": s.product, "quantity": 0}]}),
        json!({"produced": [{"product_id": s.product, "quantity": 5000000}]}),
        json!({"produced": [{"product_id": s.product, "quantity": 1}], "grams": 5}),
        json!({"spools": "all"}),
    ] {
        let (status, err) = s
            .seller
            .post(&format!("/print-jobs/{j2}/finish"), body.clone())
            .await;
        assert_eq!(status, 422, "{body}: {err}");
    }
    let (status, out) = s
        .seller
        .post(
            &format!("/print-jobs/{j2}/finish"),
            json!({"produced": [{"product_id": s.product, "quantity": 3}]}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    let (_, p) = s.owner.get(&format!("/products/{}", s.product)).await;
    assert_eq!(p["stock"]["on_hand"], 7);

    // Fail: wasted grams as failed_print, the reason kept.
    let j3 = job(&s.owner, &s.variant, json!({})).await;
    let j3 = j3["id"].as_str().unwrap();
    s.seller
        .post(
            &format!("/print-jobs/{j3}/status"),
            json!({"status": "printing"}),
        )
        .await;
    let (status, err) = s
        .seller
        .post(
            &format!("/print-jobs/{j3}/fail"),
            json!({"reason": "x".repeat(481)}),
        )
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("reason"))
    );
    let (status, out) = s
        .seller
        .post(
            &format!("/print-jobs/{j3}/fail"),
            json!({"reason": "spaghetti on plate 2", "spools": [{"spool_id": s.spool, "used_cg": 2050}]}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["status"], "failed");
    assert_eq!(out["failure_reason"], "spaghetti on plate 2");
    assert_eq!(out["spools_used"][0]["reason"], "failed_print");
    assert_eq!(out["produced"], json!([]));
    let (_, sp) = s.owner.get(&format!("/spools/{}", s.spool)).await;
    assert_eq!(sp["left_cg"], 91950);
    assert_eq!(
        s.seller
            .post(&format!("/print-jobs/{j3}/fail"), json!({}))
            .await
            .0,
        409
    );
    assert_eq!(
        s.seller
            .post(
                &format!("/print-jobs/{}/fail", uuid::Uuid::now_v7()),
                json!({})
            )
            .await
            .0,
        404
    );

    // The database agrees: each level equals its ledger.
    let bad: i64 = sqlx::query_scalar(
        "select count(*) from spool s where s.left_cg <> s.initial_net_cg - coalesce((select sum(used_cg) from spool_usage u where u.spool_id = s.id), 0)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(bad, 0);
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn finish_needs_products_named_when_several(pool: PgPool) {
    let server = start_api(pool).await;
    let s = shop(&server.url).await;
    product(&s.owner, "REX-L-2", Some(&s.variant)).await;
    let j = job(&s.owner, &s.variant, json!({})).await;
    let (status, err) = s
        .seller
        .post(
            &format!("/print-jobs/{}/finish", j["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("produced"))
    );
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn two_jobs_finishing_on_the_same_spool_at_once(pool: PgPool) {
    let server = start_api(pool.clone()).await;
    let s = shop(&server.url).await;
    // 1000 g; 10 rounds of two finishes at 30.01 g and 20.02 g each.
    for round in 0..10 {
        let a = job(&s.owner, &s.variant, json!({})).await;
        let b = job(&s.owner, &s.variant, json!({})).await;
        let (pa, pb) = (
            format!("/print-jobs/{}/finish", a["id"].as_str().unwrap()),
            format!("/print-jobs/{}/finish", b["id"].as_str().unwrap()),
        );
        let (ra, rb) = tokio::join!(
            s.owner.post(
                &pa,
                json!({"spools": [{"spool_id": s.spool, "used_cg": 3001}]})
            ),
            s.seller.post(
                &pb,
                json!({"spools": [{"spool_id": s.spool, "used_cg": 2002}]})
            )
        );
        assert_eq!((ra.0, rb.0), (200, 200), "round {round}: {ra:?} {rb:?}");
    }
    let (_, sp) = s.owner.get(&format!("/spools/{}", s.spool)).await;
    assert_eq!(sp["left_cg"], 100000 - 10 * (3001 + 2002));
    let (left, sum, n): (i64, i64, i64) = sqlx::query_as(
        "select s.left_cg, sum(u.used_cg)::bigint, count(*) from spool s join spool_usage u on u.spool_id = s.id where s.id = $1::uuid group by s.id",
    )
    .bind(&s.spool)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((left, sum, n), (49970, 50030, 20));
    let (_, p) = s.owner.get(&format!("/products/{}", s.product)).await;
    assert_eq!(p["stock"]["on_hand"], 80);

    // Past the end: both clamp; the spool sits at 0 and the overshoot is on record.
    let a = job(&s.owner, &s.variant, json!({})).await;
    let b = job(&s.owner, &s.variant, json!({})).await;
    let (pa, pb) = (
        format!("/print-jobs/{}/finish", a["id"].as_str().unwrap()),
        format!("/print-jobs/{}/finish", b["id"].as_str().unwrap()),
    );
    let (ra, rb) = tokio::join!(
        s.owner.post(
            &pa,
            json!({"spools": [{"spool_id": s.spool, "used_cg": 30000}]})
        ),
        s.seller.post(
            &pb,
            json!({"spools": [{"spool_id": s.spool, "used_cg": 30000}]})
        )
    );
    assert_eq!((ra.0, rb.0), (200, 200));
    let (left, used, over): (i64, i64, i64) = sqlx::query_as(
        "select s.left_cg, sum(u.used_cg)::bigint, sum(u.overshoot_cg)::bigint from spool s join spool_usage u on u.spool_id = s.id where s.id = $1::uuid group by s.id",
    )
    .bind(&s.spool)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((left, used, over), (0, 100000, 60000 - 49970));
    server.stop().await;
}

/// `GET /print-jobs?q=` finds jobs by their variant's name, their variant's model's name
/// and their printer's name (case-insensitive, anywhere in the name); `%` and `_` are
/// literal; another shop's names find nothing; too long a `q` is 422.
#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn list_searches_variant_model_and_printer_names(pool: PgPool) {
    let server = start_api(pool).await;
    let s = shop(&server.url).await;
    let api = &s.owner;
    let f = filament(api, "Signal White").await;
    let dragon = model(api, "Crystal Dragon").await;
    let (status, v) = api
        .post(
            "/variants",
            json!({"model_id": dragon, "name": "Mini_50%", "parts_per_plate": 2,
                   "filament_needs": [{"filament_id": f, "per_unit_cg": 500}]}),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    let mini = v["id"].as_str().unwrap().to_owned();
    let xl = printer(api, "XL Toolchanger").await;
    // Rex (variant "Large" of "Flexi Rex") on the MK4S, the dragon on the XL, and a Rex
    // with no printer.
    let rex_mk4 = job(api, &s.variant, json!({"printer_id": s.printer})).await;
    let dragon_xl = job(api, &mini, json!({"printer_id": xl})).await;
    let rex_none = job(api, &s.variant, json!({})).await;
    let id = |j: &Value| j["id"].as_str().unwrap().to_owned();
    for (q, expected) in [
        ("rex", vec![id(&rex_mk4), id(&rex_none)]),
        ("CRYSTAL", vec![id(&dragon_xl)]),
        ("larg", vec![id(&rex_mk4), id(&rex_none)]),
        ("mk4s", vec![id(&rex_mk4)]),
        ("toolchanger", vec![id(&dragon_xl)]),
        ("50%25", vec![id(&dragon_xl)]),
        ("i_5", vec![id(&dragon_xl)]),
        ("Min%5F", vec![]),
        ("l%25", vec![]),
        ("%25", vec![id(&dragon_xl)]),
        ("nothing+like+it", vec![]),
    ] {
        let (status, page) = api.get(&format!("/print-jobs?status=all&q={q}")).await;
        assert_eq!(status, 200, "{q}: {page}");
        let mut got = ids(&page);
        got.sort();
        let mut want = expected.clone();
        want.sort();
        assert_eq!(got, want, "q={q}");
    }
    // Combined with the other filters.
    let (_, page) = api
        .get(&format!("/print-jobs?q=rex&printer_id={}", s.printer))
        .await;
    assert_eq!(ids(&page), vec![id(&rex_mk4)]);
    // A seller may search too; another shop finds nothing of this one.
    let (status, page) = s.seller.get("/print-jobs?q=dragon").await;
    assert_eq!((status, ids(&page)), (200, vec![id(&dragon_xl)]));
    let other = Api::register(&server.url, "other@example.com").await;
    let (status, page) = other.get("/print-jobs?status=all&q=rex").await;
    assert_eq!((status, page["items"].clone()), (200, json!([])));
    let (status, err) = api.get(&format!("/print-jobs?q={}", "x".repeat(257))).await;
    assert_eq!((status, err["error"]["field"].as_str()), (422, Some("q")));
    server.stop().await;
}

//! The Spoolman-compatible API, driven with the exact requests its clients send (read from
//! their source): Moonraker's `[spoolman]` component (`moonraker/components/spoolman.py`:
//! the websocket on `{server}/api/v1/spool`, `GET {server}/api/v1/spool/{id}` to check the
//! active spool, `PUT {server}/api/v1/spool/{id}/use` with `{"use_length": mm}` every few
//! seconds, its optional `additional_headers`) and OctoPrint-Spoolman
//! (`SpoolmanConnector.py`: `GET {instance}/api/v1/spool`, `PUT .../spool/{id}/use` with
//! `{"use_length": mm}`, no headers). The ledger, the feed, other shops' and revoked tokens
//! are checked against the real server and database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod sync_common;

use common::fixtures::{create, filament, model, printer, product, spool, variant};
use common::{Api, start_api};
use futures_util::{SinkExt, StreamExt};
use printstall_core::domain::SpoolId;
use printstall_core::domain::print_job::JobStatus;
use printstall_core::domain::spoolman::grams_for_length;
use serde_json::{Value, json};
use sqlx::PgPool;
use sync_common::{Device, Pulled, statuses};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use uuid::Uuid;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next JSON text message (a guard against a hang, not a timing assertion).
async fn next_json(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(60), ws.next())
            .await
            .expect("no websocket message within a minute")
            .unwrap()
            .unwrap();
        if let Message::Text(t) = msg {
            return serde_json::from_str(t.as_str()).unwrap();
        }
    }
}

async fn token(owner: &Api, name: &str) -> (String, String) {
    let (status, t) = owner.post("/printer-tokens", json!({"name": name})).await;
    assert_eq!(status, 201, "{t}");
    assert!(t["token"].as_str().unwrap().starts_with("pst_"));
    assert_eq!(t["spoolman_path"], "/spoolman");
    (
        t["id"].as_str().unwrap().to_owned(),
        t["token"].as_str().unwrap().to_owned(),
    )
}

/// A client that sends what a printer host sends.
struct Host {
    http: reqwest::Client,
    /// `{spoolman_url}` in Moonraker (`{server}/api`), `{instance}/api` for OctoPrint.
    api: String,
    bearer: Option<String>,
}

impl Host {
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.api));
        if let Some(t) = &self.bearer {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        if let Some(b) = body {
            // Both clients send a JSON body with its content type.
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

async fn ledger_cg(owner: &Api, spool: &str) -> (i64, Vec<Value>) {
    let (status, page) = owner
        .get(&format!("/spools/{spool}/ledger?limit=200"))
        .await;
    assert_eq!(status, 200, "{page}");
    let rows = page["items"].as_array().unwrap().clone();
    (
        rows.iter().map(|r| r["used_cg"].as_i64().unwrap()).sum(),
        rows,
    )
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn moonraker_and_octoprint_report_into_the_ledger(pool: PgPool) {
    let server = start_api(pool.clone()).await;
    let owner = Api::register(&server.url, "owner@example.com").await;
    let fil = filament(&owner, "Galaxy Black").await;
    let sp = spool(&owner, &fil, 1000).await;
    let (voron_id, voron) = token(&owner, "Voron 2.4").await;
    let (_, mk4) = token(&owner, "MK4S").await;
    let ws_base = server.url.replace("http://", "ws://");

    // Sellers cannot make printer tokens; the token itself is never listed.
    let seller = common::fixtures::seller_of(&owner).await;
    assert_eq!(
        seller.post("/printer-tokens", json!({"name": "x"})).await.0,
        403
    );
    let (_, list) = owner.get("/printer-tokens").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert!(!list.to_string().contains(&voron));

    // --- Moonraker, `server: http://host/spoolman/t/<token>` (no headers) ---------------
    let moonraker = Host {
        http: reqwest::Client::new(),
        api: format!("{}/spoolman/t/{voron}/api", server.url),
        bearer: None,
    };
    // `_connect_websocket`: the feed of every spool.
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("{ws_base}/spoolman/t/{voron}/api/v1/spool"))
            .await
            .unwrap();
    // `_check_spool_deleted`: the active spool (spool ids are integers per shop).
    let (status, s) = moonraker
        .send(reqwest::Method::GET, "/v1/spool/1", None)
        .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["id"], 1);
    assert_eq!(s["remaining_weight"], 1000.0);
    assert_eq!(s["used_weight"], 0.0);
    assert_eq!(s["initial_weight"], 1000.0);
    assert_eq!(s["archived"], false);
    assert_eq!(s["filament"]["id"], 1);
    assert_eq!(s["filament"]["material"], "PLA");
    assert_eq!(s["filament"]["density"], 1.24);
    assert_eq!(s["filament"]["diameter"], 1.75);
    assert_eq!(s["filament"]["weight"], 1000.0);
    assert_eq!(s["filament"]["spool_weight"], 200.0);
    assert_eq!(s["filament"]["color_hex"], "1C1C1E");
    assert_eq!(s["filament"]["name"], "Galaxy Black");
    assert_eq!(s["filament"]["vendor"]["name"], "Prusament");
    assert_eq!(s["filament"]["vendor"]["id"], 1);
    assert!(s["registered"].as_str().unwrap().ends_with('Z'));
    assert!(s.get("location").is_none(), "empty fields are left out");
    // `report_extrusion`: the extruded length since the last report, every few seconds.
    let reports = [812.5_f64, 0.75, 0.75, 0.75, 1500.0, 33.333];
    for mm in reports {
        let (status, s) = moonraker
            .send(
                reqwest::Method::PUT,
                "/v1/spool/1/use",
                Some(json!({"use_length": mm})),
            )
            .await;
        assert_eq!(status, 200, "{s}");
        assert_eq!(s["id"], 1);
    }
    let reported: f64 = reports
        .iter()
        .map(|mm| grams_for_length(*mm, 1.75, 1.24))
        .sum();
    let (used, rows) = ledger_cg(&owner, &sp).await;
    // Parts of a centigram are carried to the next report: the total is never more than
    // one centigram short, however small the reports.
    let expected = (reported * 100.0).floor() as i64;
    assert!(
        used == expected || used == expected - 1,
        "{used} vs {reported} g"
    );
    assert!(rows.iter().all(|r| r["reason"] == "print"), "{rows:?}");
    // The feed told Moonraker about its spool, in Spoolman's event shape.
    let event = next_json(&mut ws).await;
    assert_eq!(
        (&event["type"], &event["resource"], &event["payload"]["id"]),
        (&json!("updated"), &json!("spool"), &json!(1)),
        "{event}"
    );
    assert!(event["payload"]["remaining_weight"].as_f64().unwrap() < 1000.0);
    assert!(event["date"].is_string());
    // A text message is answered as Spoolman does.
    ws.send(Message::Text("hello".into())).await.unwrap();
    loop {
        let m = next_json(&mut ws).await;
        if m == json!({"status": "healthy"}) {
            break;
        }
        assert_eq!(m["resource"], "spool", "{m}");
    }

    // The same host with `additional_headers: Authorization: Bearer <token>` and the plain
    // address `server: http://host/spoolman`.
    let with_header = Host {
        http: reqwest::Client::new(),
        api: format!("{}/spoolman/api", server.url),
        bearer: Some(mk4.clone()),
    };
    let (status, s) = with_header
        .send(
            reqwest::Method::PUT,
            "/v1/spool/1/use",
            Some(json!({"use_weight": 10.5})),
        )
        .await;
    assert_eq!(status, 200, "{s}");
    let mut req = format!("{ws_base}/spoolman/api/v1/spool/1")
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("Authorization", format!("Bearer {mk4}").parse().unwrap());
    let (mut ws_one, _) = tokio_tungstenite::connect_async(req).await.unwrap();

    // --- OctoPrint-Spoolman, `instanceUrl: http://host/spoolman/t/<token>` ----------------
    let octoprint = Host {
        http: reqwest::Client::new(),
        api: format!("{}/spoolman/t/{mk4}/api", server.url),
        bearer: None,
    };
    // `handleGetSpoolsAvailable`
    let (status, spools) = octoprint
        .send(reqwest::Method::GET, "/v1/spool", None)
        .await;
    assert_eq!(status, 200, "{spools}");
    assert_eq!(spools.as_array().unwrap().len(), 1);
    assert_eq!(spools[0]["filament"]["vendor"]["name"], "Prusament");
    // `handleCommitSpoolUsage`
    let (status, s) = octoprint
        .send(
            reqwest::Method::PUT,
            "/v1/spool/1/use",
            Some(json!({"use_length": 1000.0})),
        )
        .await;
    assert_eq!(status, 200, "{s}");
    let event = next_json(&mut ws_one).await;
    assert_eq!(event["payload"]["id"], 1, "{event}");

    // An offline phone's use (made before the printers reported, pushed after) adds to
    // the printers' reports: counted once each, whatever order they arrive in; its
    // redelivery changes nothing.
    let (before, _) = ledger_cg(&owner, &sp).await;
    let mut phone = Device::new(&owner);
    phone.skew_ms = -60_000;
    let op = phone
        .op(json!({"kind": "spool.use.v1", "spool_id": sp, "used_cg": 5000, "reason": "test"}));
    let (status, answer) = phone.push(std::slice::from_ref(&op)).await;
    assert_eq!(
        (status, statuses(&answer)),
        (200, vec!["applied".to_owned()]),
        "{answer}"
    );
    let (status, answer) = phone.push(std::slice::from_ref(&op)).await;
    assert_eq!(
        (status, statuses(&answer)),
        (200, vec!["duplicate".to_owned()])
    );
    let (after, _) = ledger_cg(&owner, &sp).await;
    assert_eq!(after, before + 5000);
    let (_, s) = owner.get(&format!("/spools/{sp}")).await;
    assert_eq!(s["left_cg"].as_i64().unwrap(), 100_000 - after);
    let (_, s) = octoprint
        .send(reqwest::Method::GET, "/v1/spool/1", None)
        .await;
    assert_eq!(s["used_weight"].as_f64().unwrap(), after as f64 / 100.0);
    assert!(
        (s["remaining_length"].as_f64().unwrap()
            - printstall_core::domain::spoolman::length_for_grams(
                (100_000 - after) as f64 / 100.0,
                1.75,
                1.24
            ))
        .abs()
            < 1e-6
    );

    // Each op names the printer that reported it.
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("select set_config('app.shop_id', $1, true)")
        .bind(&owner.shop_id)
        .execute(&mut *tx)
        .await
        .unwrap();
    let notes: Vec<String> = sqlx::query_scalar(
        "select body->'body'->>'note' from applied_op where kind = 'spool.use.v1' and body->'body'->>'note' is not null order by version",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    // ... made on the printer's own device (named after it, registered to the shop), not
    // the owner's server-side one, and the ledger rows name the printer in columns.
    let devices: Vec<(Option<String>, Option<Uuid>, i64)> = sqlx::query_as(
        "select d.name, d.printer_token_id, count(a.op_id) from device d
         left join applied_op a on a.device_id = d.id and a.kind = 'spool.use.v1'
         where d.printer_token_id is not null group by d.id order by d.name",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    assert!(notes.iter().any(|n| n.contains("Voron 2.4")), "{notes:?}");
    assert!(notes.iter().any(|n| n.contains("MK4S")), "{notes:?}");
    assert_eq!(devices.len(), 2, "{devices:?}");
    assert_eq!(devices[0].0.as_deref(), Some("MK4S"));
    assert_eq!(devices[1].0.as_deref(), Some("Voron 2.4"));
    assert_eq!(devices[1].1, Some(Uuid::parse_str(&voron_id).unwrap()));
    assert!(devices.iter().all(|d| d.2 > 0), "{devices:?}");
    let (_, rows) = ledger_cg(&owner, &sp).await;
    let named: Vec<Option<&str>> = rows.iter().map(|r| r["printer_name"].as_str()).collect();
    assert!(
        named.contains(&Some("Voron 2.4")) && named.contains(&Some("MK4S")),
        "{rows:?}"
    );
    let phones = rows
        .iter()
        .filter(|r| r["reason"] == "test")
        .collect::<Vec<_>>();
    assert!(
        phones.iter().all(|r| r.get("printer_name").is_none()),
        "{rows:?}"
    );
    // The print history per printer: every report, newest first; one token's only.
    let (status, all) = owner.get("/printer-history").await;
    assert_eq!(status, 200, "{all}");
    let items = all["items"].as_array().unwrap();
    assert_eq!(items.len(), named.iter().filter(|n| n.is_some()).count());
    assert!(
        items
            .windows(2)
            .all(|w| w[0]["id"].as_str() > w[1]["id"].as_str())
    );
    assert_eq!(items[0]["brand"], "Prusament");
    let (_, voron_only) = owner
        .get(&format!("/printer-history?printer_token_id={voron_id}"))
        .await;
    let voron_rows = voron_only["items"].as_array().unwrap();
    assert!(!voron_rows.is_empty());
    assert!(
        voron_rows.iter().all(|r| r["printer_name"] == "Voron 2.4"),
        "{voron_only}"
    );
    let used: i64 = voron_rows
        .iter()
        .map(|r| r["used_cg"].as_i64().unwrap())
        .sum();
    assert!(used > 0);

    // Spoolman's own errors, in its `{"message"}` shape.
    for (body, status) in [
        (json!({"use_weight": 1, "use_length": 1}), 400),
        (json!({}), 400),
        (json!({"use_weight": 1e9}), 400),
    ] {
        let (got, err) = octoprint
            .send(reqwest::Method::PUT, "/v1/spool/1/use", Some(body.clone()))
            .await;
        assert_eq!(got, status, "{body}: {err}");
        assert!(err["message"].is_string(), "{err}");
    }
    let (status, err) = octoprint
        .send(
            reqwest::Method::PUT,
            "/v1/spool/99/use",
            Some(json!({"use_length": 1})),
        )
        .await;
    assert_eq!(
        (status, err["message"].as_str()),
        (404, Some("No spool with ID 99 found."))
    );

    // A weighing: 700 g on the scale with the 200 g empty spool leaves 500 g.
    let (status, s) = octoprint
        .send(
            reqwest::Method::PUT,
            "/v1/spool/1/measure",
            Some(json!({"weight": 700})),
        )
        .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["remaining_weight"], 500.0);
    let (_, rows) = ledger_cg(&owner, &sp).await;
    assert_eq!(rows.last().unwrap()["reason"], "measurement");

    // Info, health, lists, the token in the query, the vendors and filaments.
    let (status, info) = octoprint.send(reqwest::Method::GET, "/v1/info", None).await;
    assert_eq!(status, 200);
    assert!(info["version"].is_string());
    let (status, health) = octoprint
        .send(reqwest::Method::GET, "/v1/health", None)
        .await;
    assert_eq!((status, health), (200, json!({"status": "healthy"})));
    let r = reqwest::get(format!(
        "{}/spoolman/api/v1/spool?token={mk4}&allow_archived=true",
        server.url
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-total-count"], "1");
    let (status, vendors) = octoprint
        .send(reqwest::Method::GET, "/v1/vendor", None)
        .await;
    assert_eq!(
        (status, vendors[0]["name"].as_str()),
        (200, Some("Prusament"))
    );
    let (status, f) = octoprint
        .send(reqwest::Method::GET, "/v1/filament/1", None)
        .await;
    assert_eq!((status, f["vendor"]["id"].as_i64()), (200, Some(1)));

    // No token, a wrong one, and a revoked one: 401 for requests and the feed alike.
    let plain = Host {
        http: reqwest::Client::new(),
        api: format!("{}/spoolman/api", server.url),
        bearer: None,
    };
    assert_eq!(
        plain.send(reqwest::Method::GET, "/v1/spool", None).await.0,
        401
    );
    let wrong = Host {
        bearer: Some("pst_wrong".into()),
        ..plain
    };
    assert_eq!(
        wrong.send(reqwest::Method::GET, "/v1/spool", None).await.0,
        401
    );
    assert_eq!(
        owner.delete(&format!("/printer-tokens/{voron_id}")).await.0,
        204
    );
    let (status, err) = moonraker
        .send(
            reqwest::Method::PUT,
            "/v1/spool/1/use",
            Some(json!({"use_length": 5})),
        )
        .await;
    assert_eq!(status, 401, "{err}");
    assert!(
        tokio_tungstenite::connect_async(format!("{ws_base}/spoolman/t/{voron}/api/v1/spool"))
            .await
            .is_err()
    );
    let (_, list) = owner.get("/printer-tokens").await;
    assert!(list["items"][0]["revoked_at"].is_string(), "{list}");
    assert!(list["items"][0]["last_used_at"].is_string(), "{list}");

    ws.close(None).await.unwrap();
    ws_one.close(None).await.unwrap();
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn another_shops_token_reaches_only_its_own_spools(pool: PgPool) {
    let server = start_api(pool).await;
    let a = Api::register(&server.url, "a@example.com").await;
    let b = Api::register(&server.url, "b@example.com").await;
    let fil = filament(&a, "Galaxy Black").await;
    let sp = spool(&a, &fil, 1000).await;
    let (_, b_token) = token(&b, "B's printer").await;
    let b_host = Host {
        http: reqwest::Client::new(),
        api: format!("{}/spoolman/t/{b_token}/api", server.url),
        bearer: None,
    };
    // Shop A's spool 1 does not exist for shop B's printer.
    let (status, list) = b_host.send(reqwest::Method::GET, "/v1/spool", None).await;
    assert_eq!((status, list), (200, json!([])));
    for (method, path, body) in [
        (reqwest::Method::GET, "/v1/spool/1", None),
        (
            reqwest::Method::PUT,
            "/v1/spool/1/use",
            Some(json!({"use_weight": 100})),
        ),
        (
            reqwest::Method::PUT,
            "/v1/spool/1/measure",
            Some(json!({"weight": 300})),
        ),
        (reqwest::Method::GET, "/v1/filament/1", None),
    ] {
        let (status, out) = b_host.send(method.clone(), path, body).await;
        assert_eq!(status, 404, "{method} {path}: {out}");
        assert!(!out.to_string().contains("Prusament"));
    }
    // B's own spool is B's number 1.
    let b_fil = filament(&b, "Blue").await;
    let b_sp = create(
        &b,
        "/spools",
        json!({"filament_id": b_fil, "initial_net_cg": 50000}),
    )
    .await;
    let (status, s) = b_host
        .send(
            reqwest::Method::PUT,
            "/v1/spool/1/use",
            Some(json!({"use_weight": 100})),
        )
        .await;
    assert_eq!(
        (status, s["remaining_weight"].as_f64()),
        (200, Some(400.0)),
        "{s}"
    );
    let (_, own) = b.get(&format!("/spools/{b_sp}")).await;
    assert_eq!(own["left_cg"], 40000);
    // Shop A's spool is untouched.
    let (_, s) = a.get(&format!("/spools/{sp}")).await;
    assert_eq!(s["left_cg"], 100000);
    server.stop().await;
}

/// Finishing a job with the grams its printer reported (issue 8): the queue's view of what
/// each running job's printer reported since the job started, the finish that takes those
/// grams as the job's without taking them off the spool again, a phone's finish op that
/// does the same offline, and the refusals.
#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn a_job_finished_with_the_printers_grams_takes_them_once(pool: PgPool) {
    let server = start_api(pool.clone()).await;
    let owner = Api::register(&server.url, "owner@example.com").await;
    let fil = filament(&owner, "Galaxy Black").await;
    let sp = spool(&owner, &fil, 1000).await;
    let mdl = model(&owner, "Rex").await;
    let var = variant(&owner, &mdl, &fil).await;
    let rex = product(&owner, "REX-L", Some(&var)).await;
    let voron = printer(&owner, "Voron 2.4").await;
    let (status, t) = owner
        .post(
            "/printer-tokens",
            json!({"name": "voron host", "printer_id": voron}),
        )
        .await;
    assert_eq!(status, 201, "{t}");
    let host = Host {
        http: reqwest::Client::new(),
        api: format!(
            "{}/spoolman/t/{}/api",
            server.url,
            t["token"].as_str().unwrap()
        ),
        bearer: None,
    };
    let report = |grams: f64| {
        let host = &host;
        async move {
            let (status, s) = host
                .send(
                    reqwest::Method::PUT,
                    "/v1/spool/1/use",
                    Some(json!({"use_weight": grams})),
                )
                .await;
            assert_eq!(status, 200, "{s}");
        }
    };
    let job = |units: u32, printer: Option<&str>| {
        let (owner, var) = (&owner, &var);
        let body = json!({"variant_id": var, "units": units, "printer_id": printer});
        async move { create(owner, "/print-jobs", body).await }
    };
    let start = |id: String| {
        let owner = &owner;
        async move {
            let (status, j) = owner
                .post(
                    &format!("/print-jobs/{id}/status"),
                    json!({"status": "printing"}),
                )
                .await;
            assert_eq!(status, 200, "{j}");
        }
    };
    let left = || {
        let (owner, sp) = (&owner, &sp);
        async move {
            owner.get(&format!("/spools/{sp}")).await.1["left_cg"]
                .as_i64()
                .unwrap()
        }
    };

    // A report before the job started is not the job's.
    report(5.0).await;
    let a = job(4, Some(&voron)).await;
    start(a.clone()).await;
    report(20.5).await;
    report(10.0).await;
    assert_eq!(left().await, 100_000 - 500 - 2050 - 1000);

    // The queue's view: what the running job's printer reported, per spool.
    let (status, running) = owner.get("/printer-history/jobs").await;
    assert_eq!(status, 200, "{running}");
    assert_eq!(
        running,
        json!({"items": [{"job_id": a, "printer_id": voron, "printer_name": "Voron 2.4",
                "spools": [{"spool_id": sp, "used_cg": 3050}],
                "last_at": running["items"][0]["last_at"]}]})
    );
    let (_, read) = owner.get(&format!("/print-jobs/{a}")).await;
    assert_eq!(
        read["printer_reports"],
        json!([{"spool_id": sp, "used_cg": 3050}])
    );
    assert_eq!(read["spools_reported"], json!([]));

    // Refused, and nothing changes: both spools and grams_from; a job without a printer.
    let (status, err) = owner
        .post(
            &format!("/print-jobs/{a}/finish"),
            json!({"grams_from": "printer", "spools": [{"spool_id": sp, "used_cg": 100}]}),
        )
        .await;
    assert_eq!(
        (status, &err["error"]["field"]),
        (422, &json!("grams_from")),
        "{err}"
    );
    let b = job(1, None).await;
    let (status, err) = owner
        .post(
            &format!("/print-jobs/{b}/finish"),
            json!({"grams_from": "printer"}),
        )
        .await;
    assert_eq!(status, 422, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no printer"),
        "{err}"
    );
    let (status, err) = owner
        .post(
            &format!("/print-jobs/{a}/finish"),
            json!({"grams_from": "scale"}),
        )
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(left().await, 96_450);
    assert_eq!(
        owner.get(&format!("/print-jobs/{a}")).await.1["status"],
        "printing"
    );

    // The finish takes the printer's grams as the job's and nothing more off the spool.
    let (status, done) = owner
        .post(
            &format!("/print-jobs/{a}/finish"),
            json!({"grams_from": "printer"}),
        )
        .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["status"], "done");
    assert_eq!(
        done["spools_reported"],
        json!([{"spool_id": sp, "used_cg": 3050}])
    );
    assert_eq!(done["spools_used"], json!([]));
    assert_eq!(done["produced"][0]["quantity"], 4);
    assert_eq!(left().await, 96_450);
    let (_, p) = owner.get(&format!("/products/{rex}")).await;
    assert_eq!(p["stock"]["on_hand"], 4);
    let (_, running) = owner.get("/printer-history/jobs").await;
    assert_eq!(
        running,
        json!({"items": []}),
        "a finished job is not running"
    );

    // A phone finishes another job offline with the reported grams marked as such (its
    // op's lines say `reported`), and a second spool's estimate taken as usual.
    let sp2 = spool(&owner, &fil, 500).await;
    let c = job(2, Some(&voron)).await;
    start(c.clone()).await;
    report(7.25).await;
    let mut phone = Device::new(&owner);
    let finish = phone.op(json!({"kind": "job.finish.v1", "job_id": c,
        "produced": [{"product_id": rex, "quantity": 2}],
        "spools": [{"spool_id": sp, "used_cg": 725, "reported": true},
                   {"spool_id": sp2, "used_cg": 1200}]}));
    let (status, answer) = phone.push(std::slice::from_ref(&finish)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(statuses(&answer), ["applied"]);
    // Sent again (a lost answer): a duplicate, nothing twice.
    let (_, again) = phone.push(&[finish]).await;
    assert_eq!(statuses(&again), ["duplicate"]);
    assert_eq!(left().await, 96_450 - 725);
    let (_, s2) = owner.get(&format!("/spools/{sp2}")).await;
    assert_eq!(s2["left_cg"], 50_000 - 1200);
    let (_, read) = owner.get(&format!("/print-jobs/{c}")).await;
    assert_eq!(read["status"], "done");
    assert_eq!(
        read["spools_reported"],
        json!([{"spool_id": sp, "used_cg": 725}])
    );
    let used = read["spools_used"].as_array().unwrap();
    assert_eq!(used.len(), 1, "{read}");
    assert_eq!(
        (&used[0]["spool_id"], &used[0]["used_cg"]),
        (&json!(sp2), &json!(1200))
    );

    // A fresh device pulls the same grams and statuses.
    let mut pulled = Pulled::default();
    pulled.drain(&owner, 100).await;
    let state = pulled.state();
    let id = |s: &str| Uuid::parse_str(s).unwrap();
    assert_eq!(state.spool_level(SpoolId(id(&sp))).left_cg.0, 96_450 - 725);
    assert_eq!(
        state.spool_level(SpoolId(id(&sp2))).left_cg.0,
        50_000 - 1200
    );
    for j in [&a, &c] {
        assert_eq!(
            state.job_status(printstall_core::domain::PrintJobId(id(j))),
            JobStatus::Done
        );
    }
}

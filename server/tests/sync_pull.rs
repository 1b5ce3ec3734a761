//! `GET /sync/pull` and `GET /sync/events` against real PostgreSQL through the real HTTP
//! API: a puller that keeps paging while several writers push ends with the database's
//! view; a restore (epoch change) answers 409 `resync_required`; a push pokes subscribers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod sync_common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{Api, start_api};
use serde_json::{Value, json};
use sqlx::PgPool;
use sync_common::*;
use uuid::Uuid;

async fn database_view(pool: &PgPool, shop: &str) -> BTreeMap<(String, Uuid), (i64, Value)> {
    let rows: Vec<(String, Uuid, i64, Value)> =
        sqlx::query_as("select kind, id, version, cell from sync_cell where shop_id = $1")
            .bind(Uuid::parse_str(shop).unwrap())
            .fetch_all(pool)
            .await
            .unwrap();
    rows.into_iter()
        .map(|(k, id, v, c)| ((k, id), (v, c)))
        .collect()
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn a_puller_paging_while_writers_push_ends_equal_to_the_database(pool: PgPool) {
    let server = start_api(pool.clone()).await;
    let owner = Api::register(&server.url, "o@example.com").await;
    let mut products = Vec::new();
    for i in 0..8 {
        products.push(product(&owner, &format!("P{i}")).await);
    }
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let mut dev = Device::new(&owner);
            let products = products.clone();
            tokio::spawn(async move {
                for batch in 0..12 {
                    let ops: Vec<Value> = (0..15)
                        .map(|i| {
                            let p = &products[(w * 7 + batch * 3 + i) % products.len()];
                            if i % 5 == 0 {
                                dev.op(json!({"kind": "entity.set.v1", "entity": "product", "id": p, "fields": {"location": format!("shelf {w}-{batch}")}}))
                            } else {
                                dev.op(adjust(p, 1 + (i as i64 % 3)))
                            }
                        })
                        .collect();
                    let (status, r) = dev.push(&ops).await;
                    assert_eq!(status, 200, "{r}");
                    tokio::time::sleep(Duration::from_millis(3)).await;
                }
            })
        })
        .collect();
    let mut pulled = Pulled::default();
    while !writers.iter().all(|w| w.is_finished()) {
        pulled.drain(&owner, 3).await;
    }
    for w in writers {
        w.await.unwrap();
    }
    pulled.drain(&owner, 3).await;
    assert!(pulled.pages > 10, "the puller paged while writers pushed");
    let db = database_view(&pool, &owner.shop_id).await;
    assert_eq!(pulled.cells, db);
    // And what the puller computes is what the REST API shows.
    let state = pulled.state();
    for p in &products {
        let id = printstall_core::domain::ProductId(Uuid::parse_str(p).unwrap());
        assert_eq!(state.on_hand(id), on_hand(&owner, p).await);
    }
    // Nothing new: an empty page with the same cursor.
    let (_, page) = owner
        .get(&format!("/sync/pull?cursor={}", pulled.cursor))
        .await;
    assert_eq!(page["cells"], json!([]));
    assert_eq!(page["cursor"], pulled.cursor.as_str());
    assert_eq!(page["more"], false);
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn a_restore_asks_devices_to_resync(pool: PgPool) {
    let server = start_api(pool.clone()).await;
    let owner = Api::register(&server.url, "o@example.com").await;
    let other = Api::register(&server.url, "other@example.com").await;
    let rex = product(&owner, "REX").await;
    let mut a = Device::new(&owner);
    let op = a.op(adjust(&rex, 2));
    a.push(&[op]).await;
    let mut pulled = Pulled::default();
    pulled.drain(&owner, 10).await;
    assert_eq!(pulled.cells.len(), 1);

    // Another shop sees none of it, and cannot use this shop's cursor.
    let (status, page) = other.get("/sync/pull").await;
    assert_eq!((status, page["cells"].clone()), (200, json!([])));
    let (status, err) = other
        .get(&format!("/sync/pull?cursor={}", pulled.cursor))
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (409, Some("resync_required"))
    );

    // The database is restored: its epoch changes.
    sqlx::query("update shop_sync set epoch = gen_random_uuid()")
        .execute(&pool)
        .await
        .unwrap();
    let (status, err) = owner
        .get(&format!("/sync/pull?cursor={}", pulled.cursor))
        .await;
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["error"]["code"], "resync_required");
    let mut fresh = Pulled::default();
    fresh.drain(&owner, 10).await;
    assert_eq!(fresh.cells, pulled.cells);

    let (status, err) = owner.get("/sync/pull?cursor=garbage").await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (400, Some("bad_cursor"))
    );
    assert_eq!(owner.get("/sync/pull?limit=0").await.0, 422);
    server.stop().await;
}

async fn next_event(r: &mut reqwest::Response, buf: &mut String, name: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(start) = buf.find(&format!("event: {name}\n"))
            && let Some(end) = buf[start..].find("\n\n")
        {
            let event = buf[start..start + end].to_owned();
            buf.drain(..start + end + 2);
            return event;
        }
        let chunk = tokio::time::timeout_at(deadline, r.chunk())
            .await
            .unwrap_or_else(|_| panic!("no {name} event; got {buf:?}"))
            .unwrap()
            .unwrap();
        buf.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn a_push_pokes_the_shops_other_devices(pool: PgPool) {
    let server = start_api(pool.clone()).await;
    let owner = Api::register(&server.url, "o@example.com").await;
    let other = Api::register(&server.url, "other@example.com").await;
    let rex = product(&owner, "REX").await;

    // EventSource cannot send headers: the token comes in the query.
    let mut events = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/sync/events?access_token={}",
            owner.base, owner.token
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    assert!(
        events.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut buf = String::new();
    let hello = next_event(&mut events, &mut buf, "hello").await;
    // Version 1: the product made through the REST API is an op too.
    assert!(hello.contains(r#""version":1"#), "{hello}");

    // Another shop's push does not poke; this shop's does.
    let other_rex = product(&other, "REX").await;
    let mut o = Device::new(&other);
    let op = o.op(adjust(&other_rex, 1));
    o.push(&[op]).await;
    let mut a = Device::new(&owner);
    let op = a.op(adjust(&rex, 1));
    let (_, r) = a.push(&[op]).await;
    let poke = next_event(&mut events, &mut buf, "poke").await;
    assert!(
        poke.contains(&format!(r#""version":{}"#, r["version"])),
        "{poke}"
    );

    let r = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/sync/events?access_token=nope",
            owner.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    drop(events);
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn two_server_processes_share_one_database(pool: PgPool) {
    // Two servers (each with its own pools, listener and hub) on one database.
    let one = start_api(pool.clone()).await;
    let two = start_api(pool.clone()).await;
    let owner = Api::register(&one.url, "o@example.com").await;
    let mut via_two = owner.clone();
    via_two.base = two.url.clone();
    let rex = product(&owner, "REX").await;

    let mut events = reqwest::Client::new()
        .get(format!("{}/api/v1/sync/events", one.url))
        .bearer_auth(&owner.token)
        .send()
        .await
        .unwrap();
    let mut buf = String::new();
    next_event(&mut events, &mut buf, "hello").await;

    // Devices push to different servers, concurrently; one device's batch goes to both.
    let mut a = Device::new(&owner);
    let mut b = Device::new(&via_two);
    let a_ops: Vec<Value> = (0..30).map(|_| a.op(adjust(&rex, 1))).collect();
    let b_ops: Vec<Value> = (0..30).map(|_| b.op(adjust(&rex, -1))).collect();
    let mut a_on_two = a.clone();
    a_on_two.api = via_two.clone();
    let (ra, rb, ra2) = tokio::join!(a.push(&a_ops), b.push(&b_ops), a_on_two.push(&a_ops));
    assert_eq!((ra.0, rb.0, ra2.0), (200, 200, 200));
    // A push through server two pokes a subscriber of server one (NOTIFY).
    let poke = next_event(&mut events, &mut buf, "poke").await;
    assert!(poke.contains("version"), "{poke}");

    assert_eq!(on_hand(&owner, &rex).await, 0);
    assert_eq!(on_hand(&via_two, &rex).await, 0);
    let mut p1 = Pulled::default();
    p1.drain(&owner, 50).await;
    let mut p2 = Pulled::default();
    p2.drain(&via_two, 50).await;
    assert_eq!(p1.cells, p2.cells);
    let recorded: i64 = pushed_op_count(&pool).await;
    assert_eq!(recorded, 60);
    drop(events);
    one.stop().await;
    two.stop().await;
}

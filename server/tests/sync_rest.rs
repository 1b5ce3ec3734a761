//! REST stock and sales changes are ops like a phone's (issue 4, "one set of rules"): a
//! product made, adjusted, counted and sold through the REST API, before and after phone
//! ops on it, ends at the same on-hand for a device that pulls and for `GET /products/{id}`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod sync_common;

use common::{Api, start_api};
use printstall_core::domain::ProductId;
use printstall_core::sync::EntityKind;
use serde_json::json;
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

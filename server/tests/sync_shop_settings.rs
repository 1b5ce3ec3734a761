//! The Settings screen saves the shop's settings as an `entity.set.v1` op on the shop: the
//! owner's change reaches `GET /shop` (the till's tax) and every device that pulls; a seller
//! may not make it, and another shop's row is never touched.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod sync_common;

use common::{Api, start_api};
use printstall_core::sync::EntityKind;
use serde_json::json;
use sqlx::PgPool;
use sync_common::*;
use uuid::Uuid;

fn set_shop(shop: &str, fields: serde_json::Value) -> serde_json::Value {
    json!({"kind": "entity.set.v1", "entity": "shop", "id": shop, "fields": fields})
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn owner_changes_shop_settings_through_sync(pool: PgPool) {
    let server = start_api(pool.clone()).await;
    let owner = Api::register(&server.url, "o@example.com").await;
    let seller = seller_of(&owner, "s@example.com").await;
    let other = Api::register(&server.url, "other@example.com").await;

    let mut phone = Device::new(&owner);
    let op = phone.op(set_shop(
        &owner.shop_id,
        json!({"name": "Layer Lane", "tax_rate_bp": 700, "prices_include_tax": false, "machine_cost_per_hour": 40}),
    ));
    let (status, r) = phone.push(&[op]).await;
    assert_eq!(
        (status, statuses(&r)),
        (200, vec!["applied".to_owned()]),
        "{r}"
    );

    let (status, shop) = owner.get("/shop").await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            shop["name"].as_str(),
            shop["tax_rate_bp"].as_i64(),
            shop["prices_include_tax"].as_bool()
        ),
        (Some("Layer Lane"), Some(700), Some(false))
    );
    // Devices pull the settings, the machine cost included.
    let mut pulled = Pulled::default();
    pulled.drain(&seller, 100).await;
    let cell = pulled
        .state()
        .entity(EntityKind::Shop, Uuid::parse_str(&owner.shop_id).unwrap())
        .unwrap();
    assert_eq!(cell.fields["machine_cost_per_hour"], 40);
    assert_eq!(cell.fields["tax_rate_bp"], 700);

    // A seller may not change them; bad values are refused; nothing changes.
    let mut helper = Device::new(&seller);
    let op = helper.op(set_shop(&owner.shop_id, json!({"tax_rate_bp": 0})));
    let (_, r) = helper.push(&[op]).await;
    assert_eq!(statuses(&r), vec!["rejected".to_owned()], "{r}");
    let op = phone.op(set_shop(
        &owner.shop_id,
        json!({"machine_cost_per_hour": -5}),
    ));
    let (status, r) = phone.push(&[op]).await;
    assert!(
        status == 422 || statuses(&r) == vec!["rejected".to_owned()],
        "{status} {r}"
    );
    let (_, shop) = owner.get("/shop").await;
    assert_eq!(shop["tax_rate_bp"].as_i64(), Some(700));

    // The Settings screen lists the members: owner first; another shop sees only its own.
    let (status, m) = seller.get("/shop/members").await;
    assert_eq!(status, 200, "{m}");
    let who: Vec<(&str, &str)> = m["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["email"].as_str().unwrap(), x["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        who,
        vec![("o@example.com", "owner"), ("s@example.com", "seller")]
    );
    let (_, theirs) = other.get("/shop/members").await;
    assert_eq!(theirs["members"].as_array().unwrap().len(), 1);

    // Naming another shop's id changes nothing there.
    let op = phone.op(set_shop(&other.shop_id, json!({"name": "Stolen"})));
    let _ = phone.push(&[op]).await;
    let (_, theirs) = other.get("/shop").await;
    assert_eq!(theirs["name"].as_str(), Some("Test stall"));
}

//! The shop's settings and members over REST: `PATCH /shop` goes through the same
//! `entity.set.v1` op as the Settings screen (devices pull it), owner only, with bad values
//! refused by field; members change role or leave, the shop always keeps an owner, and a
//! removed or demoted member's sessions end at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod sync_common;

use common::{Api, start_api};
use printstall_core::sync::EntityKind;
use serde_json::{Value, json};
use sqlx::PgPool;
use sync_common::{Pulled, seller_of};
use uuid::Uuid;

async fn refresh(api: &Api) -> u16 {
    reqwest::Client::new()
        .post(format!("{}/api/v1/auth/refresh", api.base))
        .header("cookie", format!("printstall_refresh={}", api.refresh))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn owner_patches_the_shop_through_the_sync_path(pool: PgPool) {
    let server = start_api(pool.clone()).await;
    let owner = Api::register(&server.url, "o@example.com").await;
    let seller = seller_of(&owner, "s@example.com").await;
    let shop = Uuid::parse_str(&owner.shop_id).unwrap();

    let (status, out) = owner
        .patch(
            "/shop",
            json!({"name": "Layer Lane", "currency": "CHF", "time_zone": "Europe/Zurich",
                   "tax_rate_bp": 810, "prices_include_tax": false, "machine_cost_per_hour": 35,
                   "business": {"legal_name": "Layer Lane GmbH", "payment_notes": "IBAN CH00"}}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(
        (
            out["name"].as_str(),
            out["currency"].as_str(),
            out["time_zone"].as_str(),
            out["tax_rate_bp"].as_i64(),
            out["prices_include_tax"].as_bool()
        ),
        (
            Some("Layer Lane"),
            Some("CHF"),
            Some("Europe/Zurich"),
            Some(810),
            Some(false)
        )
    );
    assert_eq!(out["business"]["legal_name"], "Layer Lane GmbH");
    assert_eq!(out["business"]["payment_notes"], "IBAN CH00");
    let (_, read) = owner.get("/shop").await;
    assert_eq!(read, out);

    // The settings went through an op of the owner's server-side device: devices pull them
    // (the machine cost included), and the op log holds no business detail.
    let ops: Vec<(String, Value)> = sqlx::query_as(
        "select kind, body from applied_op where shop_id = $1 and kind = 'entity.set.v1'",
    )
    .bind(shop)
    .fetch_all(&pool)
    .await
    .unwrap();
    let shop_ops: Vec<&Value> = ops
        .iter()
        .map(|(_, b)| b)
        .filter(|b| b["body"]["entity"] == "shop" || b["entity"] == "shop")
        .collect();
    assert_eq!(shop_ops.len(), 1, "{ops:?}");
    assert!(!shop_ops[0].to_string().contains("GmbH"), "{}", shop_ops[0]);
    let mut pulled = Pulled::default();
    pulled.drain(&seller, 100).await;
    let cell = pulled
        .state()
        .entity(EntityKind::Shop, shop)
        .unwrap()
        .clone();
    assert_eq!(cell.fields["name"], "Layer Lane");
    assert_eq!(cell.fields["tax_rate_bp"], 810);
    assert_eq!(cell.fields["machine_cost_per_hour"], 35);
    assert!(cell.fields.get("business").is_none());
    // The seller sees the business details but not the payment notes.
    let (_, as_seller) = seller.get("/shop").await;
    assert_eq!(as_seller["business"]["legal_name"], "Layer Lane GmbH");
    assert!(as_seller["business"].get("payment_notes").is_none());

    // A merge patch: one business field replaced, one cleared, the rest kept.
    let (status, out) = owner
        .patch(
            "/shop",
            json!({"business": {"tax_id": "CHE-123.456.789", "payment_notes": null}}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(
        out["business"],
        json!({"legal_name": "Layer Lane GmbH", "tax_id": "CHE-123.456.789", "address": null})
    );
    assert_eq!(out["name"], "Layer Lane");
    let (status, out) = owner.patch("/shop", json!({"business": null})).await;
    assert_eq!(
        (status, out["business"]["legal_name"].clone()),
        (200, Value::Null)
    );

    // A seller may not; nothing changes.
    let (status, err) = seller.patch("/shop", json!({"name": "Mine now"})).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    // Bad values: 422 naming the field (400 for a body that is not JSON); nothing changes.
    for (body, field) in [
        (json!({"tax_rate_bp": 90000}), Some("tax_rate_bp")),
        (json!({"time_zone": "mars"}), Some("time_zone")),
        // The right shape, but no zone PostgreSQL knows (the reports convert with it).
        (json!({"time_zone": "Mars/Olympus"}), Some("time_zone")),
        (json!({"name": "  "}), Some("name")),
        (json!({"name": null}), Some("name")),
        (json!({"currency": "EURO"}), None),
        (json!({"colour": "red"}), None),
        (json!({"machine_cost_per_hour": -1}), None),
        (
            json!({"business": {"tax_id": "x".repeat(5000)}}),
            Some("business.tax_id"),
        ),
        (json!({"business": {"bank": "x"}}), Some("business")),
        (json!({"business": "text"}), Some("business")),
        (json!({}), Some("body")),
        (json!([1]), None),
    ] {
        let (status, err) = owner.patch("/shop", body.clone()).await;
        assert_eq!(status, 422, "{body}: {err}");
        assert_eq!(err["error"]["code"], "invalid", "{body}: {err}");
        if let Some(f) = field {
            assert_eq!(err["error"]["field"], f, "{body}: {err}");
        }
    }
    let (_, after) = owner.get("/shop").await;
    assert_eq!(
        (after["name"].as_str(), after["tax_rate_bp"].as_i64()),
        (Some("Layer Lane"), Some(810))
    );
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn members_change_role_and_leave_and_the_shop_keeps_an_owner(pool: PgPool) {
    let server = start_api(pool).await;
    let owner = Api::register(&server.url, "o@example.com").await;
    let seller = seller_of(&owner, "s@example.com").await;
    let helper = seller_of(&owner, "h@example.com").await;
    let members = |api: &Api| {
        let api = api.clone();
        async move {
            let (status, m) = api.get("/shop/members").await;
            assert_eq!(status, 200, "{m}");
            m["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    (
                        m["user_id"].as_str().unwrap().to_owned(),
                        m["role"].as_str().unwrap().to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(members(&owner).await.len(), 3);

    // Sellers may not change members.
    let (status, _) = seller
        .patch(
            &format!("/shop/members/{}", helper.user_id),
            json!({"role": "owner"}),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = seller
        .delete(&format!("/shop/members/{}", helper.user_id))
        .await;
    assert_eq!(status, 403);

    // The only owner cannot step down or leave: 409 with the reason.
    let path = format!("/shop/members/{}", owner.user_id);
    let (status, err) = owner.patch(&path, json!({"role": "seller"})).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (409, Some("conflict"))
    );
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("only owner"),
        "{err}"
    );
    let (status, err) = owner.delete(&path).await;
    assert_eq!(status, 409, "{err}");
    // Bad roles and unknown members.
    let (status, err) = owner.patch(&path, json!({"role": "boss"})).await;
    assert_eq!(status, 422, "{err}");
    let unknown = format!("/shop/members/{}", Uuid::now_v7());
    let (status, _) = owner.patch(&unknown, json!({"role": "seller"})).await;
    assert_eq!(status, 404);
    let (status, _) = owner.delete(&unknown).await;
    assert_eq!(status, 404);

    // The seller becomes an owner (from their next refresh); the same role again is a no-op.
    let seller_path = format!("/shop/members/{}", seller.user_id);
    let (status, m) = owner.patch(&seller_path, json!({"role": "owner"})).await;
    assert_eq!((status, m["role"].as_str()), (200, Some("owner")), "{m}");
    let (status, m) = owner.patch(&seller_path, json!({"role": "owner"})).await;
    assert_eq!((status, m["role"].as_str()), (200, Some("owner")), "{m}");
    assert_eq!(refresh(&seller).await, 200);
    // Now the first owner may step down; their sessions of the shop end at once (their
    // access token carried the owner role).
    let (status, m) = owner.patch(&path, json!({"role": "seller"})).await;
    assert_eq!((status, m["role"].as_str()), (200, Some("seller")), "{m}");
    assert_eq!(owner.get("/shop").await.0, 401);
    assert_eq!(refresh(&owner).await, 401);
    // The new owner cannot leave now that they are the only one.
    let new_owner = {
        let r = reqwest::Client::new()
            .post(format!("{}/api/v1/auth/sign-in", server.url))
            .json(&json!({"email": "s@example.com", "password": "seller password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let refresh = common::refresh_cookie_of(&r).unwrap();
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["role"], "owner");
        Api::from_session(&server.url, &body, refresh)
    };
    let (status, _) = new_owner.delete(&seller_path).await;
    assert_eq!(status, 409);

    // Removing the helper: gone from the list, their access token and refresh end at once,
    // and signing in again finds no membership of this shop.
    assert_eq!(helper.get("/shop").await.0, 200);
    let (status, body) = new_owner
        .delete(&format!("/shop/members/{}", helper.user_id))
        .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(helper.get("/shop").await.0, 401);
    assert_eq!(refresh(&helper).await, 401);
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/sign-in", server.url))
        .json(&json!({"email": "h@example.com", "password": "seller password", "shop_id": owner.shop_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let list = members(&new_owner).await;
    assert_eq!(
        list,
        vec![
            (seller.user_id.clone(), "owner".to_owned()),
            (owner.user_id.clone(), "seller".to_owned()),
        ]
    );
    let (status, _) = new_owner
        .delete(&format!("/shop/members/{}", helper.user_id))
        .await;
    assert_eq!(status, 404);
    server.stop().await;
}

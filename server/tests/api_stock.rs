//! Products, stock and sales over HTTP: normal paths, bad inputs, sellers, another shop's
//! ids, and two sales of the last unit at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Api, refresh_cookie_of, start_api};
use serde_json::{Value, json};
use sqlx::PgPool;

async fn seller_of(owner: &Api) -> Api {
    let (_, invite) = owner.post("/auth/invites", json!({})).await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/join", owner.base))
        .json(&json!({"code": invite["code"], "email": format!("seller-{}@example.com", owner.shop_id), "password": "seller password", "display_name": "Seller"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let refresh = refresh_cookie_of(&r).unwrap();
    let body: Value = r.json().await.unwrap();
    Api::from_session(&owner.base, &body, refresh)
}

async fn product(api: &Api, sku: &str) -> String {
    let (status, p) = api
        .post("/products", json!({"sku": sku, "name": format!("Rex {sku}"), "price": 1500, "barcode": format!("BC-{sku}"), "low_stock_threshold": 2}))
        .await;
    assert_eq!(status, 201, "{p}");
    p["id"].as_str().unwrap().to_owned()
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn products_crud_search_and_bad_inputs(pool: PgPool) {
    let server = start_api(pool).await;
    let owner = Api::register(&server.url, "o@example.com").await;
    let id = product(&owner, "REX-L").await;
    product(&owner, "DRAGON-S").await;

    let (status, p) = owner.get(&format!("/products/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        p["stock"],
        json!({"on_hand": 0, "negative": false, "low": true})
    );

    // Duplicate SKU: 409 with a clear message.
    let (status, err) = owner
        .post(
            "/products",
            json!({"sku": "REX-L", "name": "Again", "price": 1}),
        )
        .await;
    assert_eq!(status, 409);
    assert!(
        err["error"]["message"].as_str().unwrap().contains("SKU"),
        "{err}"
    );

    for (body, field) in [
        (json!({"sku": "A B", "name": "x", "price": 1}), Some("sku")),
        (json!({"sku": "A", "name": "x", "price": -1}), Some("price")),
        (
            json!({"sku": "A", "name": "x", "price": 100000000000i64}),
            Some("price"),
        ),
        (
            json!({"sku": "A", "name": "x".repeat(121), "price": 1}),
            Some("name"),
        ),
        (json!({"sku": "A", "name": "x"}), None),
        (json!({"sku": "A", "name": "x", "price": "ten"}), None),
        (
            json!({"sku": "A", "name": "x", "price": 1, "variant_id": uuid::Uuid::now_v7()}),
            None,
        ),
    ] {
        let (status, err) = owner.post("/products", body.clone()).await;
        if body.get("variant_id").is_some() {
            assert_eq!(status, 404, "unknown variant: {err}");
            continue;
        }
        assert_eq!(status, 422, "{body}: {err}");
        if let Some(f) = field {
            assert_eq!(err["error"]["field"], f, "{err}");
        }
    }

    // Search by name, SKU and barcode; cursor pagination.
    let (_, page) = owner.get("/products?q=dragon").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let (_, page) = owner.get("/products?q=BC-REX-L").await;
    assert_eq!(page["items"][0]["id"], id.as_str());
    let (_, page) = owner.get("/products?limit=1").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let (_, page2) = owner
        .get(&format!("/products?limit=1&cursor={cursor}"))
        .await;
    assert_eq!(page2["items"].as_array().unwrap().len(), 1);
    assert!(page2.get("next_cursor").is_none());
    assert_ne!(page["items"][0]["id"], page2["items"][0]["id"]);
    assert_eq!(owner.get("/products?limit=0").await.0, 422);
    assert_eq!(owner.get("/products?cursor=garbage").await.0, 422);

    // Patch: merge semantics, nulls only where allowed, unknown fields refused.
    let (status, p) = owner
        .patch(
            &format!("/products/{id}"),
            json!({"price": 1800, "barcode": null}),
        )
        .await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(
        (
            p["price"].as_i64(),
            p["barcode"].is_null(),
            p["name"].as_str()
        ),
        (Some(1800), true, Some("Rex REX-L"))
    );
    assert_eq!(
        owner
            .patch(&format!("/products/{id}"), json!({"name": null}))
            .await
            .0,
        422
    );
    assert_eq!(
        owner
            .patch(&format!("/products/{id}"), json!({"on_hand": 5}))
            .await
            .0,
        422
    );
    assert_eq!(
        owner
            .patch(&format!("/products/{id}"), json!({"sku": "DRAGON-S"}))
            .await
            .0,
        409
    );
    assert_eq!(
        owner
            .get(&format!("/products/{}", uuid::Uuid::now_v7()))
            .await
            .0,
        404
    );
    let (status, err) = owner.get("/products/not-a-uuid").await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (400, Some("bad_path"))
    );
    let (status, err) = owner.get("/products?limit=many").await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (400, Some("bad_query"))
    );

    // Archive hides it from the list.
    assert_eq!(owner.delete(&format!("/products/{id}")).await.0, 204);
    let (_, page) = owner.get("/products").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let (_, page) = owner.get("/products?archived=true").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn stock_adjust_count_sale_and_seller_rights(pool: PgPool) {
    let server = start_api(pool.clone()).await;
    let owner = Api::register(&server.url, "o@example.com").await;
    let seller = seller_of(&owner).await;
    let id = product(&owner, "REX").await;

    // Sellers adjust, count and sell; they cannot edit the catalogue, prices or delete.
    let (status, p) = seller
        .post(
            &format!("/products/{id}/adjust"),
            json!({"quantity": 5, "reason": "produced"}),
        )
        .await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["stock"]["on_hand"], 5);
    assert_eq!(
        seller
            .post("/products", json!({"sku": "S", "name": "S", "price": 1}))
            .await
            .0,
        403
    );
    assert_eq!(
        seller
            .patch(&format!("/products/{id}"), json!({"price": 1}))
            .await
            .0,
        403
    );
    assert_eq!(seller.delete(&format!("/products/{id}")).await.0, 403);

    for (body, status) in [
        (json!({"quantity": 0, "reason": "adjusted"}), 422),
        (json!({"quantity": -1, "reason": "produced"}), 422),
        (json!({"quantity": 2, "reason": "damaged"}), 422),
        (json!({"quantity": 1, "reason": "sold"}), 422),
        (json!({"quantity": 5000000, "reason": "adjusted"}), 422),
        (json!({"quantity": 1, "reason": "stolen"}), 422),
        (json!({"quantity": "1", "reason": "adjusted"}), 422),
    ] {
        assert_eq!(
            seller
                .post(&format!("/products/{id}/adjust"), body.clone())
                .await
                .0,
            status,
            "{body}"
        );
    }
    let (status, p) = seller
        .post(&format!("/products/{id}/count"), json!({"counted": 3}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(p["stock"]["on_hand"], 3);
    assert_eq!(
        seller
            .post(&format!("/products/{id}/count"), json!({"counted": -1}))
            .await
            .0,
        422
    );

    // A sale of 4 leaves -1: allowed, flagged.
    let (status, sale) = seller
        .post("/sales", json!({"lines": [{"product_id": id, "quantity": 4, "unit_price": 1500}], "discount": {"type": "percent", "bp": 1000}, "payment_method": "cash"}))
        .await;
    assert_eq!(status, 201, "{sale}");
    assert_eq!(sale["totals"]["subtotal"], 6000);
    assert_eq!(sale["totals"]["discount"], 600);
    assert_eq!(sale["totals"]["total"], 5400);
    assert_eq!(sale["totals"]["tax"], 862); // 5400 - round(5400 / 1.19)
    assert_eq!(sale["taken_by"].as_str().unwrap(), seller.user_id);
    let (_, p) = seller.get(&format!("/products/{id}")).await;
    assert_eq!(
        p["stock"],
        json!({"on_hand": -1, "negative": true, "low": true})
    );
    let (_, ledger) = seller.get(&format!("/products/{id}/ledger")).await;
    let sum: i64 = ledger["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["quantity"].as_i64().unwrap())
        .sum();
    assert_eq!(sum, -1);
    let reasons: Vec<&str> = ledger["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["produced", "counted", "sold"]);

    for body in [
        json!({"lines": [], "payment_method": "cash"}),
        json!({"lines": [{"product_id": id, "quantity": 0, "unit_price": 1}], "payment_method": "cash"}),
        json!({"lines": [{"product_id": id, "quantity": 1, "unit_price": -5}], "payment_method": "cash"}),
        json!({"lines": [{"product_id": id, "quantity": 1, "unit_price": 5}], "payment_method": "iou"}),
        json!({"lines": [{"product_id": id, "quantity": 1, "unit_price": 5}], "discount": {"type": "amount", "amount": 6}, "payment_method": "card"}),
    ] {
        assert_eq!(seller.post("/sales", body.clone()).await.0, 422, "{body}");
    }
    // Unknown product: 404, and nothing was written.
    let (status, _) = seller
        .post("/sales", json!({"lines": [{"product_id": uuid::Uuid::now_v7(), "quantity": 1, "unit_price": 5}], "payment_method": "cash"}))
        .await;
    assert_eq!(status, 404);
    let (_, sales) = owner.get("/sales").await;
    assert_eq!(sales["items"].as_array().unwrap().len(), 1);
    let (status, read) = owner
        .get(&format!("/sales/{}", sale["id"].as_str().unwrap()))
        .await;
    assert_eq!(status, 200);
    assert_eq!(read["lines"][0]["quantity"], 4);
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn two_sales_of_the_last_unit_at_once(pool: PgPool) {
    let server = start_api(pool.clone()).await;
    let owner = Api::register(&server.url, "o@example.com").await;
    let seller = seller_of(&owner).await;
    let id = product(&owner, "LAST").await;
    owner
        .post(
            &format!("/products/{id}/adjust"),
            json!({"quantity": 1, "reason": "produced"}),
        )
        .await;
    for round in 0..5 {
        let sale = json!({"lines": [{"product_id": id, "quantity": 1, "unit_price": 1500}], "payment_method": "cash"});
        let (a, b) = tokio::join!(
            owner.post("/sales", sale.clone()),
            seller.post("/sales", sale.clone())
        );
        assert_eq!((a.0, b.0), (201, 201), "round {round}: {a:?} {b:?}");
    }
    let (_, p) = owner.get(&format!("/products/{id}")).await;
    assert_eq!(p["stock"]["on_hand"], -9);
    assert_eq!(p["stock"]["negative"], true);
    let (on_hand, sum, entries): (i64, i64, i64) = sqlx::query_as(
        "select p.on_hand, sum(e.quantity)::bigint, count(e.*) from product p join stock_entry e on e.product_id = p.id where p.id = $1::uuid group by p.on_hand",
    )
    .bind(&id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((on_hand, sum, entries), (-9, -9, 11));
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn another_shops_ids_are_404_and_its_lists_are_empty(pool: PgPool) {
    let server = start_api(pool).await;
    let a = Api::register(&server.url, "a@example.com").await;
    let b = Api::register(&server.url, "b@example.com").await;
    let id = product(&a, "MINE").await;
    let (_, sale) = a
        .post("/sales", json!({"lines": [{"product_id": id, "quantity": 1, "unit_price": 1500}], "payment_method": "cash"}))
        .await;
    let sale_id = sale["id"].as_str().unwrap();

    assert_eq!(b.get(&format!("/products/{id}")).await.0, 404);
    assert_eq!(b.get(&format!("/products/{id}/ledger")).await.0, 404);
    assert_eq!(
        b.patch(&format!("/products/{id}"), json!({"name": "stolen"}))
            .await
            .0,
        404
    );
    assert_eq!(b.delete(&format!("/products/{id}")).await.0, 404);
    assert_eq!(
        b.post(
            &format!("/products/{id}/adjust"),
            json!({"quantity": 1, "reason": "adjusted"})
        )
        .await
        .0,
        404
    );
    assert_eq!(
        b.post(&format!("/products/{id}/count"), json!({"counted": 1}))
            .await
            .0,
        404
    );
    assert_eq!(b.get(&format!("/sales/{sale_id}")).await.0, 404);
    let (status, _) = b
        .post("/sales", json!({"lines": [{"product_id": id, "quantity": 1, "unit_price": 1}], "payment_method": "cash"}))
        .await;
    assert_eq!(status, 404);
    // Same SKU in another shop is fine.
    product(&b, "MINE").await;
    let (_, list) = b.get("/products?q=MINE").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_ne!(list["items"][0]["id"], id.as_str());
    let (_, list) = b.get("/sales").await;
    assert_eq!(list["items"], json!([]));
    // Shop A is untouched.
    let (_, p) = a.get(&format!("/products/{id}")).await;
    assert_eq!(
        (p["name"].as_str(), p["stock"]["on_hand"].as_i64()),
        (Some("Rex MINE"), Some(-1))
    );
    server.stop().await;
}

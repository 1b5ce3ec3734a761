//! The audit log (issue 7): changes made through the REST API and through sync pushes are
//! recorded with who, which device or session, when and what (the changed fields before and
//! after), in the same transaction; the owner reads it with filters and pages, and as CSV; a
//! seller cannot; and the app role can only append to it and read its own shop's rows.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod sync_common;

use common::fixtures::filament;
use common::{Api, app_connection, start_api};
use serde_json::{Value, json};
use sqlx::{Connection, PgPool};
use sync_common::{Device, adjust, product, sale, seller_of, statuses};
use uuid::Uuid;

async fn entries(api: &Api, query: &str) -> Vec<Value> {
    let (status, page) = api.get(&format!("/audit?{query}")).await;
    assert_eq!(status, 200, "{query}: {page}");
    page["items"].as_array().unwrap().clone()
}

fn only<'a>(items: &'a [Value], entity: &str, action: &str) -> Vec<&'a Value> {
    items
        .iter()
        .filter(|e| e["entity"] == entity && e["action"] == action)
        .collect()
}

async fn sessions_of(api: &Api) -> Vec<Value> {
    let (status, s) = api.get("/auth/sessions").await;
    assert_eq!(status, 200, "{s}");
    s["items"].as_array().unwrap().clone()
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn changes_through_the_api_and_sync_are_recorded(pool: PgPool) {
    let server = start_api(pool.clone()).await;
    let owner = Api::register(&server.url, "owner@example.com").await;
    let session = sessions_of(&owner).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Sign-up itself: the shop and the owner's membership.
    let all = entries(&owner, "limit=200").await;
    assert_eq!(only(&all, "shop", "insert").len(), 1, "{all:?}");
    let member = only(&all, "membership", "insert");
    assert_eq!(member[0]["after"]["role"], "owner");
    assert_eq!(member[0]["user_id"], owner.user_id.as_str());

    // A direct REST write: who, which session, what.
    let fil = filament(&owner, "Galaxy Black").await;
    let (status, _) = owner
        .patch(&format!("/filaments/{fil}"), json!({"brand": "Extrudr"}))
        .await;
    assert_eq!(status, 200);
    let log = entries(&owner, &format!("entity=filament&entity_id={fil}")).await;
    assert_eq!(log.len(), 2, "{log:?}");
    let (update, insert) = (&log[0], &log[1]);
    assert_eq!(insert["action"], "insert");
    assert_eq!(insert["after"]["id"], fil.as_str());
    assert!(insert["before"].is_null());
    assert_eq!(update["action"], "update");
    assert_eq!(update["after"], json!({"brand": "Extrudr"}));
    assert_eq!(update["before"], json!({"brand": "Prusament"}));
    assert_eq!(
        update["before"].as_object().unwrap().len(),
        1,
        "only the changed field: {update}"
    );
    for e in [update, insert] {
        assert_eq!(e["user_id"], owner.user_id.as_str());
        assert_eq!(e["user_name"], "Test Person");
        assert_eq!(e["session_id"], session.as_str());
        assert!(e["at"].as_str().unwrap().contains('T'));
    }

    // A REST change made as an op (stock adjust): the op and the level it moved, tied by
    // the op id, on the member's server-side device.
    let rex = product(&owner, "REX").await;
    let (status, _) = owner
        .post(
            &format!("/products/{rex}/adjust"),
            json!({"quantity": 5, "reason": "produced"}),
        )
        .await;
    assert_eq!(status, 200);
    let moved = entries(
        &owner,
        &format!("entity=product&entity_id={rex}&action=update"),
    )
    .await;
    let level = moved
        .iter()
        .find(|e| e["after"]["on_hand"] == 5)
        .unwrap_or_else(|| panic!("no on_hand change: {moved:?}"));
    assert_eq!(level["before"]["on_hand"], 0);
    let op_id = level["op_id"].as_str().unwrap().to_owned();
    let server_device = printstall_server::sync::push::server_device_id(
        owner.shop_id.parse().unwrap(),
        owner.user_id.parse().unwrap(),
    );
    assert_eq!(level["device_id"], server_device.to_string());
    let op = entries(&owner, &format!("op_id={op_id}&action=op")).await;
    assert_eq!(op.len(), 1, "{op:?}");
    assert_eq!(op[0]["after"]["kind"], "stock.adjust.v1");
    assert_eq!(op[0]["entity"], "sync_op");
    let ledger = entries(&owner, &format!("op_id={op_id}&entity=stock_entry")).await;
    assert_eq!(ledger.len(), 1, "the ledger row of the op: {ledger:?}");

    // A seller's phone pushes a sale and an adjustment: recorded with the seller and the
    // phone's device id.
    let seller = seller_of(&owner, "seller@example.com").await;
    let mut phone = Device::new(&seller);
    let sale_id = Uuid::now_v7();
    let ops = [
        phone.op(sale(sale_id, &[(&rex, 2)])),
        phone.op(adjust(&rex, -1)),
    ];
    let (status, r) = phone.push(&ops).await;
    assert_eq!(
        (status, statuses(&r)),
        (200, vec!["applied".to_owned(), "applied".to_owned()]),
        "{r}"
    );
    let from_phone = entries(&owner, &format!("device_id={}&limit=200", phone.id)).await;
    assert!(!from_phone.is_empty());
    for e in &from_phone {
        assert_eq!(e["user_id"], seller.user_id.as_str(), "{e}");
        assert_eq!(e["device_id"], phone.id.to_string(), "{e}");
    }
    let sale_rows = only(&from_phone, "sale", "insert");
    assert_eq!(sale_rows.len(), 1, "{from_phone:?}");
    assert_eq!(sale_rows[0]["entity_id"], sale_id.to_string());
    assert_eq!(only(&from_phone, "sale_line", "insert").len(), 1);
    assert_eq!(only(&from_phone, "sync_op", "op").len(), 2);
    let levels: Vec<(i64, i64)> = only(&from_phone, "product", "update")
        .iter()
        .map(|e| {
            (
                e["before"]["on_hand"].as_i64().unwrap(),
                e["after"]["on_hand"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(levels, vec![(3, 2), (5, 3)], "newest first");
    // Both ops were written together (one statement per table for the batch), yet every
    // row names the op that made it.
    let (sale_op, adjust_op) = (ops[0]["op_id"].as_str(), ops[1]["op_id"].as_str());
    let op_of = |entity: &str, action: &str| -> Vec<Option<&str>> {
        only(&from_phone, entity, action)
            .iter()
            .map(|e| e["op_id"].as_str())
            .collect()
    };
    assert_eq!(op_of("sale", "insert"), vec![sale_op]);
    assert_eq!(op_of("sale_line", "insert"), vec![sale_op]);
    assert_eq!(op_of("product", "update"), vec![adjust_op, sale_op]);
    assert_eq!(op_of("stock_entry", "insert"), vec![adjust_op, sale_op]);
    assert_eq!(op_of("sync_op", "op"), vec![adjust_op, sale_op]);
    let sold = only(&from_phone, "stock_entry", "insert")[1];
    assert_eq!(
        (&sold["after"]["quantity"], &sold["after"]["reason"]),
        (&json!(-2), &json!("sold")),
        "the ledger row as inserted: {sold}"
    );
    assert_eq!(sold["after"]["sale_id"], sale_id.to_string());
    assert_eq!(
        sold["after"]["id"], sold["entity_id"],
        "the entry's own row: {sold}"
    );

    // Filters: by user, by time, and pages that add up to the whole log.
    let by_seller = entries(&owner, &format!("user_id={}&limit=200", seller.user_id)).await;
    assert!(by_seller.len() >= from_phone.len());
    assert!(
        by_seller
            .iter()
            .all(|e| e["user_id"] == seller.user_id.as_str())
    );
    let future = entries(&owner, "from=2999-01-01T00:00:00Z").await;
    assert!(future.is_empty());
    let past = entries(&owner, "to=2000-01-01T00:00:00Z").await;
    assert!(past.is_empty());
    let everything = entries(&owner, "limit=200").await;
    let mut paged = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = owner.get(&format!("/audit?limit=7&cursor={cursor}")).await;
        assert_eq!(status, 200, "{page}");
        paged.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(paged, everything);
    let ids: Vec<i64> = everything
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first");

    // Bad filters change nothing and say why.
    for (query, field) in [
        ("limit=0", "limit"),
        ("cursor=abc", "cursor"),
        ("entity=Robert'); drop", "entity"),
        ("action=truncate", "action"),
    ] {
        let (status, e) = owner.get(&format!("/audit?{query}")).await;
        assert_eq!(
            (status, e["error"]["field"].as_str()),
            (422, Some(field)),
            "{query}: {e}"
        );
    }
    let (status, _) = owner.get("/audit?entity_id=not-a-uuid").await;
    assert_eq!(status, 400);
    let (status, _) = owner.get("/audit?from=yesterday").await;
    assert_eq!(status, 400);

    // CSV: a header and one line per entry, same filters.
    let r = owner
        .http
        .get(format!(
            "{}/api/v1/audit/export?device_id={}",
            server.url, phone.id
        ))
        .bearer_auth(&owner.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let text = r.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    assert_eq!(&header[0], "id");
    assert_eq!(&header[10], "action");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), from_phone.len());
    for (row, e) in rows.iter().zip(&from_phone) {
        assert_eq!(row[0], e["id"].to_string());
        assert_eq!(&row[5], phone.id.to_string().as_str());
        assert_eq!(&row[8], e["entity"].as_str().unwrap());
        if !e["after"].is_null() {
            let after: Value = serde_json::from_str(&row[12]).unwrap();
            assert_eq!(after, e["after"]);
        }
    }
    // Compressed (as browsers and most clients ask), the stream still ends cleanly.
    let r = owner
        .http
        .get(format!("{}/api/v1/audit/export", server.url))
        .header("accept-encoding", "gzip")
        .bearer_auth(&owner.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-encoding"], "gzip");
    assert!(!r.bytes().await.unwrap().is_empty());
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn members_and_invites_are_recorded_without_secrets(pool: PgPool) {
    let server = start_api(pool.clone()).await;
    let owner = Api::register(&server.url, "owner@example.com").await;
    let seller = seller_of(&owner, "seller@example.com").await;
    let log = entries(&owner, "limit=200").await;
    let invite = only(&log, "invite", "insert");
    assert_eq!(invite.len(), 1);
    assert_eq!(invite[0]["after"]["code_hash"], "[redacted]");
    let used = only(&log, "invite", "update");
    assert_eq!(used[0]["after"]["used_by"], seller.user_id.as_str());
    let joined = only(&log, "membership", "insert");
    let joined: Vec<_> = joined
        .iter()
        .filter(|e| e["entity_id"] == seller.user_id.as_str())
        .collect();
    assert_eq!(joined.len(), 1, "{log:?}");
    assert_eq!(joined[0]["after"]["role"], "seller");
    assert_eq!(joined[0]["user_id"], seller.user_id.as_str());
    let text = json!(log).to_string();
    assert!(!text.contains("argon2"), "a password hash reached the log");
    server.stop().await;
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn a_seller_cannot_read_the_log_and_another_shop_sees_none_of_it(pool: PgPool) {
    let server = start_api(pool.clone()).await;
    let owner = Api::register(&server.url, "owner@example.com").await;
    let seller = seller_of(&owner, "seller@example.com").await;
    let rex = product(&owner, "REX").await;
    for path in ["/audit", "/audit/export"] {
        let (status, body) = seller.get(path).await;
        assert_eq!(status, 403, "{path}: {body}");
    }
    // The seller's own changes are still recorded, for the owner.
    let (status, _) = seller
        .post(
            &format!("/products/{rex}/adjust"),
            json!({"quantity": -1, "reason": "damaged"}),
        )
        .await;
    assert_eq!(status, 200);
    let by_seller = entries(&owner, &format!("user_id={}", seller.user_id)).await;
    assert!(!only(&by_seller, "stock_entry", "insert").is_empty());

    let other = Api::register(&server.url, "other@example.com").await;
    let theirs = entries(&other, "limit=200").await;
    assert!(!theirs.is_empty());
    let text = json!(theirs).to_string();
    assert!(
        !text.contains(&owner.shop_id) && !text.contains(&rex),
        "{text}"
    );
    let (status, _) = other.get(&format!("/audit?entity_id={rex}")).await;
    assert_eq!(status, 200);
    assert!(
        entries(&other, &format!("entity_id={rex}"))
            .await
            .is_empty()
    );
    server.stop().await;
}

fn sqlstate(e: &sqlx::Error) -> String {
    e.as_database_error()
        .and_then(|d| d.code().map(|c| c.into_owned()))
        .unwrap_or_default()
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn the_app_role_can_only_append_and_read_its_shop(pool: PgPool) {
    let server = start_api(pool.clone()).await;
    let a = Api::register(&server.url, "a@example.com").await;
    let b = Api::register(&server.url, "b@example.com").await;
    server.stop().await;
    let shop_a: Uuid = a.shop_id.parse().unwrap();
    let shop_b: Uuid = b.shop_id.parse().unwrap();
    let mut conn = app_connection(&pool).await;
    let set = "select set_config('app.shop_id', $1, true), set_config('app.user_id', $2, true)";

    for statement in [
        "update audit_log set after = '{}'",
        "update audit_log set user_id = null",
        "delete from audit_log",
        "truncate audit_log",
    ] {
        let mut tx = conn.begin().await.unwrap();
        sqlx::query(set)
            .bind(shop_a.to_string())
            .bind(&a.user_id)
            .execute(&mut *tx)
            .await
            .unwrap();
        let err = sqlx::query(statement).execute(&mut *tx).await.unwrap_err();
        assert_eq!(sqlstate(&err), "42501", "{statement}: {err}");
        tx.rollback().await.unwrap();
    }

    let mut tx = conn.begin().await.unwrap();
    sqlx::query(set)
        .bind(shop_a.to_string())
        .bind(&a.user_id)
        .execute(&mut *tx)
        .await
        .unwrap();
    let shops: Vec<Uuid> = sqlx::query_scalar("select distinct shop_id from audit_log")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(shops, vec![shop_a], "only its own shop's rows");
    // Appending works for its own shop, not for another.
    sqlx::query("insert into audit_log (shop_id, entity, action) values ($1, 'note', 'op')")
        .bind(shop_a)
        .execute(&mut *tx)
        .await
        .unwrap();
    let err =
        sqlx::query("insert into audit_log (shop_id, entity, action) values ($1, 'note', 'op')")
            .bind(shop_b)
            .execute(&mut *tx)
            .await
            .unwrap_err();
    assert_eq!(sqlstate(&err), "42501", "{err}");
    tx.rollback().await.unwrap();

    // Without a shop, nothing is seen.
    let seen: i64 = sqlx::query_scalar("select count(*) from audit_log")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(seen, 0);
    let total: i64 = sqlx::query_scalar("select count(*) from audit_log")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(total > 0);
}

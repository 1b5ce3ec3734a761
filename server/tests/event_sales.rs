//! Sales taken for a market event (issue 6, Sell): a pushed `sale.record.v1` with an
//! `event_id` lands in `GET /sales` with it, also when the back office has no row for that
//! event yet (planned on a phone), and `GET /events/{id}/report` counts sales by event id,
//! falling back to the day (in the shop's time zone) only for sales taken for no event.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod sync_common;

use common::fixtures::event;
use common::start_api;
use serde_json::{Value, json};
use sqlx::PgPool;
use sync_common::*;
use uuid::Uuid;

fn sale_for(event: Option<&str>, product: &str, quantity: u32, taken_at: &str) -> (Uuid, Value) {
    let id = Uuid::now_v7();
    (
        id,
        json!({
            "kind": "sale.record.v1", "sale_id": id, "event_id": event,
            "lines": [{"product_id": product, "quantity": quantity, "unit_price": 1500}],
            "payment_method": "card", "tax_rate_bp": 1900, "prices_include_tax": true,
            "taken_at": taken_at,
        }),
    )
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn pushed_sales_keep_their_event_and_the_report_counts_them_by_id(pool: PgPool) {
    let server = start_api(pool.clone()).await;
    let owner = common::Api::register(&server.url, "o@example.com").await;
    let seller = seller_of(&owner, "s@example.com").await;
    let rex = product(&owner, "REX").await;
    // The market runs 1 to 3 December 2026 (fee €45.00); the shop is in Europe/Berlin.
    let market = event(&owner, "Advent market").await;
    // Planned on a phone, not (yet) a row of the back office.
    let phone_event = Uuid::now_v7().to_string();

    let mut phone = Device::new(&seller);
    // For the market by id, though taken on another day: counted (2 × €15.00).
    let (by_id, op1) = sale_for(Some(&market), &rex, 2, "2026-11-20T10:00:00Z");
    // For no event, on the market's first day in Berlin (00:30 on 1 December): counted.
    let (by_day, op2) = sale_for(None, &rex, 1, "2026-11-30T23:30:00Z");
    // For no event, after its last day in Berlin (00:30 on 4 December): not counted.
    let (_, op3) = sale_for(None, &rex, 4, "2026-12-03T23:30:00Z");
    // For the phone's own event, on a market day: that event's, never this market's.
    let (other, op4) = sale_for(Some(&phone_event), &rex, 3, "2026-12-02T10:00:00Z");
    let ops: Vec<Value> = [op1, op2, op3, op4]
        .into_iter()
        .map(|b| phone.op(b))
        .collect();
    let (status, r) = phone.push(&ops).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(statuses(&r), vec!["applied"; 4], "{r}");

    // `/sales` has each sale with the event it was taken for.
    let (status, list) = owner.get("/sales?limit=50").await;
    assert_eq!(status, 200, "{list}");
    let event_of = |id: Uuid| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id.to_string())
            .unwrap_or_else(|| panic!("sale {id} not listed: {list}"))["event_id"]
            .clone()
    };
    assert_eq!(event_of(by_id), json!(market));
    assert_eq!(event_of(by_day), Value::Null);
    assert_eq!(event_of(other), json!(phone_event));
    let (_, one) = owner.get(&format!("/sales/{by_id}")).await;
    assert_eq!(one["event_id"], json!(market));

    // The report: the sale for it by id and the no-event sale on its day.
    let (status, report) = seller.get(&format!("/events/{market}/report")).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["event_id"], json!(market));
    assert_eq!(report["sales"], 2, "{report}");
    assert_eq!(report["sales_for_event"], 1);
    assert_eq!(report["units"], 3);
    assert_eq!(report["gross"], 4500);
    assert_eq!(report["fee"], 4500);
    assert_eq!(report["lines"][0]["product_id"], json!(rex));
    assert_eq!(report["lines"][0]["units"], 3);

    // Voiding the sale for the market (the owner's phone) takes it out of the report.
    let mut owners_phone = Device::new(&owner);
    let op = owners_phone.op(void(by_id));
    let (status, r) = owners_phone.push(&[op]).await;
    assert_eq!((status, statuses(&r)), (200, vec!["applied".to_owned()]));
    let (_, report) = owner.get(&format!("/events/{market}/report")).await;
    assert_eq!(
        (report["sales"].clone(), report["gross"].clone()),
        (json!(1), json!(1500))
    );

    // An unknown event is 404, and so is another shop's.
    let (status, _) = owner.get(&format!("/events/{phone_event}/report")).await;
    assert_eq!(status, 404);
    let stranger = common::Api::register(&server.url, "x@example.com").await;
    let (status, _) = stranger.get(&format!("/events/{market}/report")).await;
    assert_eq!(status, 404);
    server.stop().await;
}

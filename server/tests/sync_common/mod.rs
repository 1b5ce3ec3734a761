//! Shared support for the sync tests: a device with its own clock and outbox sequence,
//! op builders, push and pull over HTTP, and the merged state rebuilt from pulled cells.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use printstall_core::domain::DeviceId;
use printstall_core::sync::{CellDoc, EntityKind, EntityRef, Hlc, State};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{Api, refresh_cookie_of};

pub fn now_ms() -> u64 {
    u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap()
}

/// A phone: a device id, its clock, its op sequence, and the member signed in on it.
#[derive(Clone)]
pub struct Device {
    pub id: Uuid,
    pub clock: Hlc,
    pub seq: u64,
    pub api: Api,
    /// Added to the real time when stamping ops (a clock that is ahead).
    pub skew_ms: i64,
}

impl Device {
    pub fn new(api: &Api) -> Self {
        let id = Uuid::now_v7();
        Device {
            id,
            clock: Hlc::zero(DeviceId(id)),
            seq: 0,
            api: api.clone(),
            skew_ms: 0,
        }
    }

    /// A new op with `body`, stamped now by this device's clock.
    pub fn op(&mut self, body: Value) -> Value {
        self.seq += 1;
        let now = now_ms().saturating_add_signed(self.skew_ms);
        let hlc = self.clock.tick(now);
        json!({
            "op_id": Uuid::now_v7(),
            "device_id": self.id,
            "client_seq": self.seq,
            "hlc": hlc,
            "body": body,
        })
    }

    pub async fn push(&self, ops: &[Value]) -> (u16, Value) {
        push_as(&self.api, self.id, ops).await
    }
}

pub async fn push_as(api: &Api, device: Uuid, ops: &[Value]) -> (u16, Value) {
    api.post(
        "/sync/push",
        json!({"protocol": 1, "device_id": device, "ops": ops}),
    )
    .await
}

pub fn statuses(answer: &Value) -> Vec<String> {
    answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_owned())
        .collect()
}

pub fn adjust(product: &str, delta: i64) -> Value {
    let reason = if delta > 0 { "produced" } else { "damaged" };
    json!({"kind": "stock.adjust.v1", "product_id": product, "delta": delta, "reason": reason})
}

pub fn count(product: &str, counted: i64) -> Value {
    json!({"kind": "stock.count.v1", "product_id": product, "counted": counted})
}

pub fn sale(sale_id: Uuid, lines: &[(&str, u32)]) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(p, q)| json!({"product_id": p, "quantity": q, "unit_price": 1500}))
        .collect();
    json!({
        "kind": "sale.record.v1", "sale_id": sale_id, "lines": lines, "payment_method": "cash",
        "tax_rate_bp": 1900, "prices_include_tax": true, "taken_at": "2026-05-01T10:00:00Z"
    })
}

pub fn void(sale_id: Uuid) -> Value {
    json!({"kind": "sale.void.v1", "sale_id": sale_id, "reason": "rang up twice"})
}

pub async fn product(api: &Api, sku: &str) -> String {
    let (status, p) = api
        .post(
            "/products",
            json!({"sku": sku, "name": format!("Rex {sku}"), "price": 1500}),
        )
        .await;
    assert_eq!(status, 201, "{p}");
    p["id"].as_str().unwrap().to_owned()
}

pub async fn on_hand(api: &Api, product: &str) -> i64 {
    let (status, p) = api.get(&format!("/products/{product}")).await;
    assert_eq!(status, 200, "{p}");
    p["stock"]["on_hand"].as_i64().unwrap()
}

pub async fn seller_of(owner: &Api, email: &str) -> Api {
    let (_, invite) = owner.post("/auth/invites", json!({})).await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/join", owner.base))
        .json(&json!({"code": invite["code"], "email": email, "password": "seller password", "display_name": "Seller"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let refresh = refresh_cookie_of(&r).unwrap();
    let body: Value = r.json().await.unwrap();
    Api::from_session(&owner.base, &body, refresh)
}

/// What a device has pulled: the latest cell and version of each row, and the cursor.
#[derive(Default, Clone)]
pub struct Pulled {
    pub cursor: String,
    pub cells: BTreeMap<(String, Uuid), (i64, Value)>,
    pub pages: usize,
}

impl Pulled {
    /// Pulls pages until `more` is false.
    pub async fn drain(&mut self, api: &Api, limit: usize) {
        loop {
            let (status, page) = api
                .get(&format!("/sync/pull?cursor={}&limit={limit}", self.cursor))
                .await;
            assert_eq!(status, 200, "{page}");
            self.pages += 1;
            for c in page["cells"].as_array().unwrap() {
                let key = (
                    c["kind"].as_str().unwrap().to_owned(),
                    Uuid::parse_str(c["id"].as_str().unwrap()).unwrap(),
                );
                self.cells
                    .insert(key, (c["version"].as_i64().unwrap(), c["cell"].clone()));
            }
            self.cursor = page["cursor"].as_str().unwrap().to_owned();
            if !page["more"].as_bool().unwrap() {
                return;
            }
        }
    }

    /// The merged state the pulled cells make up (as a device rebuilds it).
    pub fn state(&self) -> State {
        let mut s = State::new();
        for ((kind, id), (_, cell)) in &self.cells {
            let kind: EntityKind = serde_json::from_value(Value::String(kind.clone())).unwrap();
            let doc: CellDoc = serde_json::from_value(cell.clone()).unwrap();
            s.put_cell(EntityRef { kind, id: *id }, doc);
        }
        s
    }
}

/// Ops pushed by devices: every `applied_op` but those of the members' server-side devices
/// (the REST API's changes, such as making a product, are ops too).
pub async fn pushed_op_count(pool: &sqlx::PgPool) -> i64 {
    let members: Vec<(Uuid, Uuid)> = sqlx::query_as("select shop_id, user_id from membership")
        .fetch_all(pool)
        .await
        .unwrap();
    let rest: Vec<Uuid> = members
        .into_iter()
        .map(|(shop, user)| printstall_server::sync::push::server_device_id(shop, user))
        .collect();
    sqlx::query_scalar("select count(*) from applied_op where device_id <> all($1)")
        .bind(&rest)
        .fetch_one(pool)
        .await
        .unwrap()
}

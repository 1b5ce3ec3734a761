//! The sync benchmark (issue 4; run by `scripts/bench`, which serves a release build on a
//! fresh database): measures, never asserts. Prints one JSON object.
//!
//! 1. One device pushes 10,000 queued ops (products, sales, adjustments) in batches of 500:
//!    ops per second, and the 50th/99th percentile batch latency. A fresh device then pulls
//!    them all: pages, seconds, page latency.
//! 2. A shop of 5,000 products, 500 spools and 20,000 ledger entries (15,000 stock moves and
//!    5,000 filament uses), pushed as ops; then a fresh device pulls it and rebuilds the
//!    merged state with core's code, as the app does: seconds until ready.
//!
//! `cargo bench -p printstall-server --bench sync -- http://127.0.0.1:PORT`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use printstall_core::domain::DeviceId;
use printstall_core::sync::{CellDoc, EntityKind, EntityRef, Hlc, State};
use serde_json::{Value, json};
use uuid::Uuid;

const BATCH: usize = 500;
const PULL_LIMIT: usize = 500;

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    async fn register(base: &str) -> Client {
        let http = reqwest::Client::new();
        let email = format!("bench-{}@example.com", Uuid::now_v7());
        let r = http
            .post(format!("{base}/api/v1/auth/register"))
            .json(
                &json!({"email": email, "password": "bench password 42", "display_name": "Bench",
                          "shop": {"name": "Bench shop", "currency": "EUR", "time_zone": "UTC"}}),
            )
            .send()
            .await
            .expect("the server answers");
        assert_eq!(r.status().as_u16(), 201, "register");
        let body: Value = r.json().await.unwrap();
        Client {
            http,
            base: base.to_owned(),
            token: body["access_token"].as_str().unwrap().to_owned(),
        }
    }

    async fn push(&self, device: Uuid, ops: &[Value]) -> f64 {
        let t = Instant::now();
        let r = self
            .http
            .post(format!("{}/api/v1/sync/push", self.base))
            .bearer_auth(&self.token)
            .json(&json!({"protocol": 1, "device_id": device, "ops": ops}))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, 200, "{body}");
        let rejected = body["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["status"] != "applied")
            .count();
        assert_eq!(rejected, 0, "every op is applied: {body}");
        t.elapsed().as_secs_f64()
    }

    /// Pulls everything from an empty cursor; returns the cells and each page's seconds.
    async fn pull_all(&self) -> (Vec<Value>, Vec<f64>) {
        let mut cursor = String::new();
        let mut cells = Vec::new();
        let mut times = Vec::new();
        loop {
            let t = Instant::now();
            let r = self
                .http
                .get(format!(
                    "{}/api/v1/sync/pull?limit={PULL_LIMIT}&cursor={cursor}",
                    self.base
                ))
                .bearer_auth(&self.token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
            let mut page: Value = r.json().await.unwrap();
            times.push(t.elapsed().as_secs_f64());
            if let Value::Array(c) = page["cells"].take() {
                cells.extend(c);
            }
            cursor = page["cursor"].as_str().unwrap().to_owned();
            if !page["more"].as_bool().unwrap() {
                return (cells, times);
            }
        }
    }
}

/// A device making ops with its own clock and sequence.
struct Device {
    id: Uuid,
    clock: Hlc,
    seq: u64,
}

impl Device {
    fn new() -> Device {
        let id = Uuid::now_v7();
        Device {
            id,
            clock: Hlc::zero(DeviceId(id)),
            seq: 0,
        }
    }

    fn op(&mut self, body: Value) -> Value {
        self.seq += 1;
        let now = u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
            .unwrap();
        let hlc = self.clock.tick(now);
        json!({"op_id": Uuid::now_v7(), "device_id": self.id, "client_seq": self.seq, "hlc": hlc, "body": body})
    }
}

fn product_op(id: Uuid, i: usize) -> Value {
    json!({"kind": "entity.set.v1", "entity": "product", "id": id,
           "fields": {"sku": format!("SKU-{i:05}"), "name": format!("Product {i}"), "price": 1200 + (i % 50) as i64 * 10}})
}

fn sale_op(products: &[Uuid], i: usize) -> Value {
    let lines: Vec<Value> = (0..1 + i % 2)
        .map(|k| json!({"product_id": products[(i * 7 + k * 13) % products.len()], "quantity": 1 + (i % 3), "unit_price": 1500}))
        .collect();
    json!({"kind": "sale.record.v1", "sale_id": Uuid::now_v7(), "lines": lines, "payment_method": "cash",
           "tax_rate_bp": 1900, "prices_include_tax": true, "taken_at": "2026-12-01T10:00:00Z"})
}

fn adjust_op(product: Uuid, i: usize) -> Value {
    json!({"kind": "stock.adjust.v1", "product_id": product, "delta": 1 + (i % 5) as i64, "reason": "produced"})
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p / 100.0 * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn summary(mut times: Vec<f64>) -> Value {
    times.sort_by(f64::total_cmp);
    json!({"n": times.len(), "p50_ms": percentile(&times, 50.0) * 1000.0,
           "p99_ms": percentile(&times, 99.0) * 1000.0,
           "max_ms": times.last().copied().unwrap_or(0.0) * 1000.0})
}

/// Pushes `ops` in batches; returns the batch times.
async fn push_all(client: &Client, device: Uuid, ops: &[Value]) -> Vec<f64> {
    let mut times = Vec::new();
    for batch in ops.chunks(BATCH) {
        times.push(client.push(device, batch).await);
    }
    times
}

/// The merged state a device rebuilds from pulled cells.
fn rebuild(cells: &[Value]) -> State {
    let mut state = State::new();
    for c in cells {
        let kind: EntityKind = serde_json::from_value(c["kind"].clone()).unwrap();
        let id = Uuid::parse_str(c["id"].as_str().unwrap()).unwrap();
        let doc: CellDoc = serde_json::from_value(c["cell"].clone()).unwrap();
        state.put_cell(EntityRef { kind, id }, doc);
    }
    state
}

async fn throughput(base: &str) -> Value {
    let client = Client::register(base).await;
    let mut phone = Device::new();
    let products: Vec<Uuid> = (0..100).map(|_| Uuid::now_v7()).collect();
    let mut ops: Vec<Value> = products
        .iter()
        .enumerate()
        .map(|(i, p)| phone.op(product_op(*p, i)))
        .collect();
    let mut i = 0;
    while ops.len() < 10_000 {
        let body = if i % 4 == 3 {
            adjust_op(products[i % products.len()], i)
        } else {
            sale_op(&products, i)
        };
        ops.push(phone.op(body));
        i += 1;
    }
    let t = Instant::now();
    let batches = push_all(&client, phone.id, &ops).await;
    let push_s = t.elapsed().as_secs_f64();

    let fresh = Client {
        http: reqwest::Client::new(),
        base: base.to_owned(),
        token: client.token.clone(),
    };
    let t = Instant::now();
    let (cells, pages) = fresh.pull_all().await;
    let state = rebuild(&cells);
    let pull_s = t.elapsed().as_secs_f64();
    assert!(state.sales.len() > 7_000, "the pull brought the sales");
    json!({
        "ops": ops.len(), "push_seconds": push_s, "push_ops_per_s": ops.len() as f64 / push_s,
        "push_batches": summary(batches),
        "pull_cells": cells.len(), "pull_seconds": pull_s, "pull_ops_per_s": ops.len() as f64 / pull_s,
        "pull_pages": summary(pages),
    })
}

async fn fresh_device(base: &str) -> Value {
    let client = Client::register(base).await;
    let mut office = Device::new();
    let filament = Uuid::now_v7();
    let mut ops = vec![office.op(json!({"kind": "entity.set.v1", "entity": "filament", "id": filament,
        "fields": {"brand": "Prusament", "material": "pla", "colour": {"name": "Galaxy Black", "hex": "#1c1c1e"},
                   "diameter": "1.75", "density_mg_cm3": 1240, "net_weight_cg": 100000, "empty_spool_cg": 20000}}))];
    let products: Vec<Uuid> = (0..5_000).map(|_| Uuid::now_v7()).collect();
    let spools: Vec<Uuid> = (0..500).map(|_| Uuid::now_v7()).collect();
    for (i, p) in products.iter().enumerate() {
        ops.push(office.op(product_op(*p, i)));
    }
    for s in &spools {
        ops.push(
            office.op(json!({"kind": "entity.set.v1", "entity": "spool", "id": s,
            "fields": {"filament_id": filament, "initial_net_cg": 100000}})),
        );
    }
    for i in 0..15_000 {
        ops.push(office.op(adjust_op(products[(i * 31) % products.len()], i)));
    }
    for i in 0..5_000 {
        ops.push(office.op(
            json!({"kind": "spool.use.v1", "spool_id": spools[(i * 17) % spools.len()],
            "used_cg": 150 + (i % 40) as i64, "reason": "print"}),
        ));
    }
    let t = Instant::now();
    push_all(&client, office.id, &ops).await;
    let seed_s = t.elapsed().as_secs_f64();

    let fresh = Client {
        http: reqwest::Client::new(),
        base: base.to_owned(),
        token: client.token.clone(),
    };
    let t = Instant::now();
    let (cells, pages) = fresh.pull_all().await;
    let state = rebuild(&cells);
    let ready_s = t.elapsed().as_secs_f64();
    assert_eq!(state.stock.len(), 5_000);
    assert_eq!(state.spools.len(), 500);
    json!({
        "products": products.len(), "spools": spools.len(), "ledger_entries": 20_000,
        "seed_ops": ops.len(), "seed_seconds": seed_s,
        "cells": cells.len(), "ready_seconds": ready_s, "pull_pages": summary(pages),
    })
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; the server's URL is the other argument.
    let base = std::env::args()
        .skip(1)
        .find(|a| a.starts_with("http"))
        .expect("usage: cargo bench -p printstall-server --bench sync -- http://HOST:PORT");
    let base = base.trim_end_matches('/').to_owned();
    let mut runs = Vec::new();
    for _ in 0..3 {
        runs.push(json!({"throughput": throughput(&base).await, "fresh_device": fresh_device(&base).await}));
    }
    println!("{}", json!({"runs": runs}));
}

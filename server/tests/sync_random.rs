//! A randomised run: three devices (two of the owner, one of a seller) make 10,000 ops with
//! random offline windows, lost responses and re-delivered batches. At the end nothing is
//! lost and nothing is counted twice: the server's levels, its ledger sums, its sales and a
//! fresh device's pulled state all equal the core `fold` of the unique ops.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod sync_common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::{Api, start_api};
use printstall_core::domain::{ProductId, SaleId};
use printstall_core::sync::{Op, decode_op, fold};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use sqlx::PgPool;
use sync_common::*;
use uuid::Uuid;

const TOTAL_OPS: usize = 10_000;

struct Phone {
    dev: Device,
    outbox: Vec<Value>,
    /// Batches the server acknowledged (kept to deliver again by mistake).
    sent: Vec<Vec<Value>>,
    owner: bool,
}

#[sqlx::test(migrator = "printstall_server::db::MIGRATOR")]
async fn ten_thousand_ops_from_three_devices_none_lost_none_doubled(pool: PgPool) {
    let server = start_api(pool.clone()).await;
    let owner = Api::register(&server.url, "o@example.com").await;
    let seller = seller_of(&owner, "s@example.com").await;
    let mut products = Vec::new();
    for i in 0..6 {
        products.push(product(&owner, &format!("P{i}")).await);
    }
    let seed: u64 = std::env::var("SYNC_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_260_501);
    println!("seed {seed} (set SYNC_SEED to replay)");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut phones = [
        Phone {
            dev: Device::new(&owner),
            outbox: Vec::new(),
            sent: Vec::new(),
            owner: true,
        },
        Phone {
            dev: Device::new(&owner),
            outbox: Vec::new(),
            sent: Vec::new(),
            owner: true,
        },
        Phone {
            dev: Device::new(&seller),
            outbox: Vec::new(),
            sent: Vec::new(),
            owner: false,
        },
    ];
    let mut all_ops: Vec<Value> = Vec::with_capacity(TOTAL_OPS);
    let mut sales: Vec<Uuid> = Vec::new();
    let mut pushes = 0usize;
    let mut delivered = 0usize;
    let mut batch_ms: Vec<f64> = Vec::new();
    let started = Instant::now();
    let mut push_time = Duration::ZERO;

    while all_ops.len() < TOTAL_OPS || phones.iter().any(|p| !p.outbox.is_empty()) {
        let i = rng.random_range(0..phones.len());
        let phone = &mut phones[i];
        let offline_work = all_ops.len() < TOTAL_OPS && rng.random_bool(0.6);
        if offline_work {
            // An offline window: a run of changes made on this phone.
            let n = rng.random_range(1..=60).min(TOTAL_OPS - all_ops.len());
            for _ in 0..n {
                let p = &products[rng.random_range(0..products.len())];
                let roll = rng.random_range(0..100);
                let body = if roll < 45 {
                    let mut d = rng.random_range(1..=5);
                    if rng.random_bool(0.3) {
                        d = -d;
                    }
                    adjust(p, d)
                } else if roll < 85 {
                    let id = Uuid::now_v7();
                    sales.push(id);
                    let q = rng.random_range(1..=3);
                    if rng.random_bool(0.2) {
                        let p2 = &products[rng.random_range(0..products.len())];
                        sale(id, &[(p, q), (p2, 1)])
                    } else {
                        sale(id, &[(p, q)])
                    }
                } else if roll < 88 {
                    count(p, rng.random_range(0..40))
                } else if phone.owner && !sales.is_empty() {
                    // Any phone's sale, possibly not yet pushed: a void may arrive first.
                    void(sales[rng.random_range(0..sales.len())])
                } else {
                    adjust(p, 1)
                };
                let op = phone.dev.op(body);
                all_ops.push(op.clone());
                phone.outbox.push(op);
            }
        } else if !phone.outbox.is_empty() {
            // Online: send up to 500 from the outbox.
            let take = phone.outbox.len().min(rng.random_range(1..=500));
            let mut batch: Vec<Value> = phone.outbox[..take].to_vec();
            // Now and then a batch acknowledged earlier is delivered again.
            if !phone.sent.is_empty() && rng.random_bool(0.15) {
                let old = &phone.sent[rng.random_range(0..phone.sent.len())];
                let room = 500 - batch.len();
                batch.extend(old.iter().take(room).cloned());
            }
            let t = Instant::now();
            let (status, r) = phone.dev.push(&batch).await;
            let elapsed = t.elapsed();
            push_time += elapsed;
            batch_ms.push(elapsed.as_secs_f64() * 1000.0);
            pushes += 1;
            delivered += batch.len();
            assert_eq!(status, 200, "{r}");
            for res in r["results"].as_array().unwrap() {
                assert_ne!(res["status"], "rejected", "{res}");
            }
            // Sometimes the answer is lost after the commit: the phone keeps its outbox.
            if rng.random_bool(0.1) {
                continue;
            }
            phone.sent.push(batch[..take].to_vec());
            phone.outbox.drain(..take);
        }
    }
    let total = started.elapsed();

    // The oracle: the fold of the unique ops, in any order.
    let ops: Vec<Op> = all_ops.iter().map(|v| decode_op(v).unwrap()).collect();
    let unique: BTreeSet<Uuid> = ops.iter().map(|o| o.op_id).collect();
    assert_eq!(unique.len(), TOTAL_OPS);
    let expected = fold(ops.iter().rev());

    let recorded: i64 = pushed_op_count(&pool).await;
    assert_eq!(recorded, TOTAL_OPS as i64, "every op recorded once");

    let ledger: BTreeMap<Uuid, i64> = sqlx::query_as::<_, (Uuid, i64)>(
        "select product_id, sum(quantity)::bigint from stock_entry group by product_id",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    .into_iter()
    .collect();
    let mut fresh = Pulled::default();
    fresh.drain(&owner, 2000).await;
    let pulled = fresh.state();
    for p in &products {
        let id = Uuid::parse_str(p).unwrap();
        let want = expected.on_hand(ProductId(id));
        assert_eq!(on_hand(&owner, p).await, want, "REST on_hand of {p}");
        assert_eq!(
            ledger.get(&id).copied().unwrap_or(0),
            want,
            "ledger sum of {p}"
        );
        assert_eq!(pulled.on_hand(ProductId(id)), want, "pulled on_hand of {p}");
    }
    let voided_expected: BTreeSet<Uuid> = sales
        .iter()
        .filter(|s| {
            expected
                .sales
                .get(&SaleId(**s))
                .is_some_and(|c| c.void.is_some() && c.record.is_some())
        })
        .copied()
        .collect();
    let rows: Vec<(Uuid, bool)> = sqlx::query_as("select id, voided from sale")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(rows.len(), sales.len(), "every sale once");
    let voided: BTreeSet<Uuid> = rows.iter().filter(|r| r.1).map(|r| r.0).collect();
    assert_eq!(voided, voided_expected);
    // The merge cells themselves, not only the levels (the pulled state also holds the
    // products' descriptive fields, seeded from the REST rows; the fold has none).
    assert!(
        pulled.stock == expected.stock,
        "pulled stock cells differ from the fold"
    );
    assert!(
        pulled.sales == expected.sales,
        "pulled sale cells differ from the fold"
    );

    batch_ms.sort_by(f64::total_cmp);
    let pct = |q: f64| batch_ms[((batch_ms.len() - 1) as f64 * q).round() as usize];
    println!(
        "{TOTAL_OPS} unique ops, {delivered} deliveries in {pushes} pushes; push time {:.1} s ({:.0} delivered ops/s), batch latency p50 {:.1} ms p99 {:.1} ms; whole run {:.1} s",
        push_time.as_secs_f64(),
        delivered as f64 / push_time.as_secs_f64(),
        pct(0.5),
        pct(0.99),
        total.as_secs_f64()
    );
    server.stop().await;
}

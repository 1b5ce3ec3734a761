//! Convergence of the sync merge rules: ops from 2–4 devices, delivered in any order and
//! with duplicates, give the same state, equal to the fold of the unique ops.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use printstall_core::domain::print_job::JobStatus;
use printstall_core::domain::product::StockReason;
use printstall_core::domain::sale::{Discount, NewSale, PaymentMethod, SaleLine};
use printstall_core::domain::spool::UsageReason;
use printstall_core::domain::{
    Centigrams, DeviceId, MarketEventId, PrintJobId, ProductId, SaleId, SpoolId,
};
use printstall_core::money::Minor;
use printstall_core::sync::op::{
    EntitySet, EntityTarget, EventPlan, JobFail, JobFinish, JobTransition, Produced, SaleVoid,
    SpoolGrams, SpoolUse, SpoolWeigh, StockAdjust, StockCount,
};
use printstall_core::sync::{EntityKind, Hlc, Op, OpBody, Outcome, RejectCode, State, apply, fold};
use proptest::prelude::*;
use serde_json::json;
use uuid::Uuid;

fn device(d: u8) -> DeviceId {
    DeviceId(Uuid::from_u128(0xd000 + u128::from(d)))
}
fn product(p: u8) -> ProductId {
    ProductId(Uuid::from_u128(0x1000 + u128::from(p % 2)))
}
fn spool(s: u8) -> SpoolId {
    SpoolId(Uuid::from_u128(0x2000 + u128::from(s % 2)))
}
fn sale_id(s: u8) -> SaleId {
    SaleId(Uuid::from_u128(0x3000 + u128::from(s % 3)))
}
const JOB: PrintJobId = PrintJobId(Uuid::from_u128(0x4000));
const EVENT: MarketEventId = MarketEventId(Uuid::from_u128(0x5000));

fn new_sale(id: SaleId, lines: &[(ProductId, u32)]) -> NewSale {
    NewSale {
        sale_id: id,
        event_id: None,
        lines: lines
            .iter()
            .map(|&(product_id, quantity)| SaleLine {
                product_id,
                quantity,
                unit_price: Minor(1200),
            })
            .collect(),
        discount: Discount::None,
        payment_method: PaymentMethod::Cash,
        tax_rate_bp: 1900,
        prices_include_tax: true,
        taken_at: time::macros::datetime!(2025-12-06 14:03 UTC),
    }
}

/// A device making ops with its own clock.
struct Device {
    id: DeviceId,
    clock: Hlc,
    seq: u64,
}

impl Device {
    fn new(d: u8) -> Self {
        Device {
            id: device(d),
            clock: Hlc::zero(device(d)),
            seq: 0,
        }
    }

    fn op(&mut self, now_ms: u64, body: OpBody) -> Op {
        self.seq += 1;
        let hlc = self.clock.tick(now_ms);
        let op_id = Uuid::from_u128((self.id.0.as_u128() << 32) | u128::from(self.seq));
        Op {
            op_id,
            device_id: self.id,
            client_seq: self.seq,
            hlc,
            body,
        }
    }
}

/// What a user does, drawn by proptest from a small universe so ops collide.
#[derive(Debug, Clone)]
enum Act {
    Adjust(u8, i8),
    Count(u8, u8),
    Use(u8, u16),
    Weigh(u8, u16),
    Sale(u8, u8, u8),
    Void(u8),
    Set(u8, u8, u16),
    Delete(u8),
    Undelete(u8),
    Job(u8),
    Plan(u8, u8),
}

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        3 => (any::<u8>(), -5i8..6).prop_map(|(p, d)| Act::Adjust(p, d)),
        1 => (any::<u8>(), 0u8..20).prop_map(|(p, c)| Act::Count(p, c)),
        2 => (any::<u8>(), 0u16..400).prop_map(|(s, g)| Act::Use(s, g)),
        1 => (any::<u8>(), 0u16..1200).prop_map(|(s, g)| Act::Weigh(s, g)),
        3 => (any::<u8>(), any::<u8>(), 1u8..5).prop_map(|(s, p, q)| Act::Sale(s, p, q)),
        1 => any::<u8>().prop_map(Act::Void),
        3 => (any::<u8>(), 0u8..4, 0u16..3000).prop_map(|(p, f, v)| Act::Set(p, f, v)),
        1 => any::<u8>().prop_map(Act::Delete),
        1 => any::<u8>().prop_map(Act::Undelete),
        2 => (0u8..6).prop_map(Act::Job),
        1 => (any::<u8>(), 0u8..4).prop_map(|(p, t)| Act::Plan(p, t)),
    ]
}

fn body(a: &Act) -> OpBody {
    match *a {
        Act::Adjust(p, d) => OpBody::StockAdjust(StockAdjust {
            product_id: product(p),
            delta: i64::from(d), // 0 is invalid: rejected the same way in any order
            reason: StockReason::Adjusted,
            job_id: None,
            event_id: None,
            note: None,
        }),
        Act::Count(p, c) => OpBody::StockCount(StockCount {
            product_id: product(p),
            counted: i64::from(c),
            event_id: None,
            note: None,
        }),
        Act::Use(s, g) => OpBody::SpoolUse(SpoolUse {
            spool_id: spool(s),
            used_cg: Centigrams::from_grams(i64::from(g)),
            reason: UsageReason::Test,
            job_id: None,
            note: None,
        }),
        Act::Weigh(s, g) => OpBody::SpoolWeigh(SpoolWeigh {
            spool_id: spool(s),
            gross_cg: Centigrams::from_grams(i64::from(g)),
            empty_spool_cg: Centigrams::from_grams(200),
            note: None,
        }),
        Act::Sale(s, p, q) => OpBody::SaleRecord(new_sale(
            sale_id(s),
            &[(product(p), u32::from(q)), (product(p.wrapping_add(1)), 1)],
        )),
        Act::Void(s) => OpBody::SaleVoid(SaleVoid {
            sale_id: sale_id(s),
            reason: "rang up twice".into(),
        }),
        Act::Set(p, f, v) => {
            let fields = match f {
                0 => json!({"name": format!("Rex {v}")}),
                1 => json!({"price": v}),
                2 => json!({"low_stock_threshold": v % 5, "barcode": null}),
                _ => json!({"sku": format!("REX-{v}"), "price": v / 2}),
            };
            OpBody::EntitySet(EntitySet {
                entity: EntityKind::Product,
                id: product(p).0,
                fields: fields.as_object().cloned().unwrap(),
            })
        }
        Act::Delete(p) => OpBody::EntityDelete(EntityTarget {
            entity: EntityKind::Product,
            id: product(p).0,
        }),
        Act::Undelete(p) => OpBody::EntityUndelete(EntityTarget {
            entity: EntityKind::Product,
            id: product(p).0,
        }),
        Act::Job(0) => OpBody::JobTransition(JobTransition {
            job_id: JOB,
            to: JobStatus::Printing,
            note: None,
        }),
        Act::Job(1) => OpBody::JobTransition(JobTransition {
            job_id: JOB,
            to: JobStatus::Paused,
            note: None,
        }),
        Act::Job(2) => OpBody::JobTransition(JobTransition {
            job_id: JOB,
            to: JobStatus::Cancelled,
            note: None,
        }),
        Act::Job(n @ (3 | 4)) => OpBody::JobFinish(JobFinish {
            job_id: JOB,
            produced: vec![Produced {
                product_id: product(0),
                quantity: 4,
            }],
            spools: vec![SpoolGrams {
                spool_id: spool(0),
                used_cg: Centigrams::from_grams(50),
                // A finish with the grams the printer already reported.
                reported: n == 4,
            }],
        }),
        Act::Job(_) => OpBody::JobFail(JobFail {
            job_id: JOB,
            reason: "spaghetti".into(),
            spools: vec![SpoolGrams {
                spool_id: spool(1),
                used_cg: Centigrams::from_grams(30),
                reported: false,
            }],
        }),
        Act::Plan(p, t) => OpBody::EventPlan(EventPlan {
            event_id: EVENT,
            product_id: product(p),
            target: u32::from(t),
        }),
    }
}

/// The ops of 2–4 devices working offline: each device's clock is skewed and advances
/// by its own steps; ops of a device come in its own order.
fn scenario() -> impl Strategy<Value = Vec<Op>> {
    (2u8..=4)
        .prop_flat_map(|n| {
            let per_device = prop::collection::vec((act(), 0u64..5_000), 1..14);
            (
                Just(n),
                prop::collection::vec(per_device, n as usize),
                prop::collection::vec(0u64..60_000, n as usize),
            )
        })
        .prop_map(|(n, acts, skews)| {
            let mut ops = Vec::new();
            // The shop's setup, made by device 0 first: two products and two spools.
            let mut setup = Device::new(0);
            for p in 0..2u8 {
                ops.push(
                    setup.op(
                        1_000,
                        OpBody::EntitySet(EntitySet {
                            entity: EntityKind::Product,
                            id: product(p).0,
                            fields: json!({"sku": format!("P{p}"), "name": "Rex", "price": 1200})
                                .as_object()
                                .cloned()
                                .unwrap(),
                        }),
                    ),
                );
                ops.push(
                    setup.op(
                        1_000,
                        OpBody::EntitySet(EntitySet {
                            entity: EntityKind::Spool,
                            id: spool(p).0,
                            fields: json!({"filament_id": Uuid::nil(), "initial_net_cg": 100_000})
                                .as_object()
                                .cloned()
                                .unwrap(),
                        }),
                    ),
                );
            }
            for d in 0..n {
                let mut dev = Device::new(d + 1);
                let mut now = 10_000 + skews[d as usize];
                for (a, step) in &acts[d as usize] {
                    now += step;
                    ops.push(dev.op(now, body(a)));
                }
            }
            ops
        })
}

/// A delivery of `ops`: every op at least once, some twice or three times, in an order
/// drawn from `seed` (a small xorshift generator, so proptest shrinks only the scenario).
fn delivery(ops: &[Op], seed: u64) -> Vec<Op> {
    let mut x = seed | 1;
    let mut next = move |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        usize::try_from(x % n.max(1) as u64).unwrap()
    };
    let mut all: Vec<Op> = ops.to_vec();
    for _ in 0..next(ops.len() + 1) {
        let i = next(ops.len());
        all.push(ops[i].clone());
    }
    for i in (1..all.len()).rev() {
        let j = next(i + 1);
        all.swap(i, j);
    }
    all
}

fn two_deliveries() -> impl Strategy<Value = (Vec<Op>, Vec<Op>, Vec<Op>)> {
    (scenario(), any::<u64>(), any::<u64>()).prop_map(|(ops, s1, s2)| {
        let a = delivery(&ops, s1);
        let b = delivery(&ops, s2);
        (ops, a, b)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn any_order_with_duplicates_converges((unique, a, b) in two_deliveries()) {
        let reference = fold(&unique);
        let sa = fold(&a);
        let sb = fold(&b);
        prop_assert_eq!(&sa, &reference);
        prop_assert_eq!(&sb, &reference);
        // Every op merged exactly once.
        prop_assert_eq!(reference.seen.len(), unique.len());
    }

    #[test]
    fn incremental_apply_equals_fold_and_survives_json((unique, a, _b) in two_deliveries()) {
        // A device that stores its state as JSON between ops (like IndexedDB) gets the same.
        let mut s = State::new();
        let mut duplicates = 0usize;
        for op in &a {
            let json = serde_json::to_string(&s).unwrap();
            s = serde_json::from_str(&json).unwrap();
            if matches!(apply(&mut s, op), Ok(applied) if applied.outcome == Outcome::Duplicate) {
                duplicates += 1;
            }
        }
        prop_assert_eq!(&s, &fold(&unique));
        // Every redelivery, and only a redelivery, is answered as a duplicate.
        prop_assert_eq!(duplicates, a.len() - unique.len());
    }

    #[test]
    fn spools_never_go_below_zero((unique, _a, _b) in two_deliveries()) {
        let s = fold(&unique);
        for sp in 0..2 {
            prop_assert!(s.spool_level(spool(sp)).left_cg.0 >= 0);
        }
    }
}

#[test]
fn two_phones_sell_3_and_2_of_10_offline() {
    let mut owner = Device::new(0);
    let mut a = Device::new(1);
    let mut b = Device::new(2);
    let p = product(0);
    let count = owner.op(
        1_000,
        OpBody::StockCount(StockCount {
            product_id: p,
            counted: 10,
            event_id: None,
            note: None,
        }),
    );
    let sell_a = a.op(5_000, OpBody::SaleRecord(new_sale(sale_id(0), &[(p, 3)])));
    let sell_b = b.op(5_000, OpBody::SaleRecord(new_sale(sale_id(1), &[(p, 2)])));
    for order in [
        vec![&count, &sell_a, &sell_b],
        vec![&sell_b, &count, &sell_a],
        vec![&sell_a, &sell_b, &sell_a, &count, &sell_b],
    ] {
        let s = fold(order);
        assert_eq!(s.on_hand(p), 5);
    }
}

#[test]
fn a_sale_is_never_refused_for_lack_of_stock() {
    let mut a = Device::new(1);
    let p = product(0);
    let mut s = State::new();
    let out = apply(
        &mut s,
        &a.op(1_000, OpBody::SaleRecord(new_sale(sale_id(0), &[(p, 2)]))),
    )
    .unwrap();
    assert_eq!(s.on_hand(p), -2);
    assert!(s.stock_level(p).negative);
    assert!(out.notes.iter().any(|n| n.contains("count it")));
}

#[test]
fn count_then_later_delta() {
    let mut a = Device::new(1);
    let mut b = Device::new(2);
    let p = product(0);
    let adj = |d| {
        OpBody::StockAdjust(StockAdjust {
            product_id: p,
            delta: d,
            reason: StockReason::Adjusted,
            job_id: None,
            event_id: None,
            note: None,
        })
    };
    let early_delta = a.op(1_000, adj(5)); // before the count: contained in it
    let count = b.op(
        2_000,
        OpBody::StockCount(StockCount {
            product_id: p,
            counted: 7,
            event_id: None,
            note: None,
        }),
    );
    let late_delta = a.op(3_000, adj(-2)); // after the count: on top of it
    for order in [
        vec![&early_delta, &count, &late_delta],
        vec![&late_delta, &count, &early_delta],
        vec![&count, &late_delta, &early_delta],
    ] {
        assert_eq!(fold(order).on_hand(p), 5);
    }
}

#[test]
fn delete_wins_over_edit() {
    let mut owner = Device::new(1);
    let mut phone = Device::new(2);
    let id = product(0).0;
    let set = |v: serde_json::Value| {
        OpBody::EntitySet(EntitySet {
            entity: EntityKind::Product,
            id,
            fields: v.as_object().cloned().unwrap(),
        })
    };
    let create = owner.op(
        1_000,
        set(json!({"sku": "REX", "name": "Rex", "price": 1200})),
    );
    let delete = owner.op(
        2_000,
        OpBody::EntityDelete(EntityTarget {
            entity: EntityKind::Product,
            id,
        }),
    );
    // The phone, offline and with a clock ahead, edits the price after the delete.
    let edit = phone.op(3_000, set(json!({"price": 999})));

    let mut s = State::new();
    apply(&mut s, &create).unwrap();
    apply(&mut s, &delete).unwrap();
    let r = apply(&mut s, &edit).unwrap_err();
    assert_eq!(r.code, RejectCode::Deleted);
    assert!(r.message.contains("undelete"));
    assert!(s.entity(EntityKind::Product, id).unwrap().deleted);

    // Same state when the edit arrives first.
    assert_eq!(fold([&edit, &create, &delete]), s);

    // Undelete brings the row back without the rejected edit.
    let undelete = owner.op(
        4_000,
        OpBody::EntityUndelete(EntityTarget {
            entity: EntityKind::Product,
            id,
        }),
    );
    apply(&mut s, &undelete).unwrap();
    let v = s.entity(EntityKind::Product, id).unwrap();
    assert!(!v.deleted);
    assert_eq!(v.fields["price"], json!(1200));
}

#[test]
fn last_writer_wins_per_field() {
    let mut a = Device::new(1);
    let mut b = Device::new(2);
    let id = product(0).0;
    let set = |v: serde_json::Value| {
        OpBody::EntitySet(EntitySet {
            entity: EntityKind::Product,
            id,
            fields: v.as_object().cloned().unwrap(),
        })
    };
    let x = a.op(1_000, set(json!({"name": "A name", "price": 100})));
    let y = b.op(2_000, set(json!({"price": 200})));
    for order in [[&x, &y], [&y, &x]] {
        let v = fold(order).entity(EntityKind::Product, id).unwrap();
        assert_eq!(v.fields["name"], json!("A name"));
        assert_eq!(v.fields["price"], json!(200));
    }
}

#[test]
fn void_before_sale_arrives_and_duplicate_pushes() {
    let mut a = Device::new(1);
    let mut owner = Device::new(2);
    let p = product(0);
    let sale = a.op(1_000, OpBody::SaleRecord(new_sale(sale_id(0), &[(p, 3)])));
    let void = owner.op(
        2_000,
        OpBody::SaleVoid(SaleVoid {
            sale_id: sale_id(0),
            reason: "test".into(),
        }),
    );
    let mut s = State::new();
    apply(&mut s, &void).unwrap();
    apply(&mut s, &sale).unwrap();
    assert_eq!(s.on_hand(p), 0);
    assert_eq!(apply(&mut s, &sale).unwrap().outcome, Outcome::Duplicate);
    assert_eq!(
        s.sale(sale_id(0)).unwrap().void_reason.as_deref(),
        Some("test")
    );
    assert_eq!(fold([&sale, &void, &sale]), s);
}

#[test]
fn job_finish_moves_stock_and_filament_once() {
    let mut a = Device::new(1);
    let mut b = Device::new(2);
    let mut s = State::new();
    apply(
        &mut s,
        &a.op(
            500,
            OpBody::EntitySet(EntitySet {
                entity: EntityKind::Spool,
                id: spool(0).0,
                fields: json!({"filament_id": Uuid::nil(), "initial_net_cg": 10_000})
                    .as_object()
                    .cloned()
                    .unwrap(),
            }),
        ),
    )
    .unwrap();
    let start = a.op(
        1_000,
        OpBody::JobTransition(JobTransition {
            job_id: JOB,
            to: JobStatus::Printing,
            note: None,
        }),
    );
    let finish = |d: &mut Device, t| {
        d.op(
            t,
            OpBody::JobFinish(JobFinish {
                job_id: JOB,
                produced: vec![Produced {
                    product_id: product(0),
                    quantity: 4,
                }],
                spools: vec![SpoolGrams {
                    spool_id: spool(0),
                    used_cg: Centigrams::from_grams(150),
                    reported: false,
                }],
            }),
        )
    };
    let f1 = finish(&mut a, 2_000);
    let f2 = finish(&mut b, 2_500); // the helper pressed finish too, offline
    apply(&mut s, &start).unwrap();
    apply(&mut s, &f2).unwrap();
    let r = apply(&mut s, &f1);
    assert!(r.is_ok(), "the earlier finish takes over");
    assert_eq!(s.on_hand(product(0)), 4);
    let lvl = s.spool_level(spool(0));
    assert_eq!(lvl.left_cg, Centigrams(0));
    assert_eq!(lvl.overshoot_cg, Centigrams::from_grams(50));
    assert_eq!(s.job_status(JOB), JobStatus::Done);
    let again = apply(
        &mut s,
        &b.op(
            3_000,
            OpBody::JobTransition(JobTransition {
                job_id: JOB,
                to: JobStatus::Paused,
                note: None,
            }),
        ),
    );
    assert_eq!(again.unwrap_err().code, RejectCode::InvalidTransition);
}

/// A printer reported its use while printing (its own device's `spool.use.v1`); the phone
/// then finishes the job with those grams marked as reported: the spool loses them once.
/// If an offline helper's finish with the estimate wins by clock, the estimate is taken and
/// the reported lines take nothing: either way one use per gram printed plus the printer's.
#[test]
fn a_finish_with_the_printers_grams_takes_nothing_twice() {
    let mut phone = Device::new(1);
    let mut printer = Device::new(3);
    let mut s = State::new();
    let setup = phone.op(
        500,
        OpBody::EntitySet(EntitySet {
            entity: EntityKind::Spool,
            id: spool(0).0,
            fields: json!({"filament_id": Uuid::nil(), "initial_net_cg": 100_000})
                .as_object()
                .cloned()
                .unwrap(),
        }),
    );
    let start = phone.op(
        1_000,
        OpBody::JobTransition(JobTransition {
            job_id: JOB,
            to: JobStatus::Printing,
            note: None,
        }),
    );
    let report = printer.op(
        1_500,
        OpBody::SpoolUse(SpoolUse {
            spool_id: spool(0),
            used_cg: Centigrams::from_grams(42),
            reason: UsageReason::Print,
            job_id: None,
            note: Some("Voron".into()),
        }),
    );
    let finish = phone.op(
        2_000,
        OpBody::JobFinish(JobFinish {
            job_id: JOB,
            produced: vec![Produced {
                product_id: product(0),
                quantity: 2,
            }],
            spools: vec![SpoolGrams {
                spool_id: spool(0),
                used_cg: Centigrams::from_grams(42),
                reported: true,
            }],
        }),
    );
    let ops = [setup, start, report, finish];
    for op in &ops {
        apply(&mut s, op).unwrap();
    }
    assert_eq!(s.job_status(JOB), JobStatus::Done);
    assert_eq!(s.on_hand(product(0)), 2);
    assert_eq!(
        s.spool_level(spool(0)).left_cg,
        Centigrams::from_grams(958),
        "the printer's 42 g, taken once"
    );
    let lines = s.jobs.get(&JOB).map(|c| c.reported_lines()).unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].used_cg, Centigrams::from_grams(42));
    // The same ops in another order, and pushed twice, give the same state.
    let again = fold([&ops[3], &ops[2], &ops[0], &ops[1], &ops[3]]);
    assert_eq!(again, s);
    // The line survives the op's JSON (an old app's finish has no `reported` and takes).
    let text = serde_json::to_string(&ops[3]).unwrap();
    assert!(text.contains("\"reported\":true"), "{text}");
    let old: OpBody = serde_json::from_value(json!({
        "kind": "job.finish.v1",
        "job_id": JOB.0,
        "spools": [{"spool_id": spool(0).0, "used_cg": 100}]
    }))
    .unwrap();
    let OpBody::JobFinish(old) = old else {
        panic!("not a finish")
    };
    assert!(!old.spools[0].reported);
}

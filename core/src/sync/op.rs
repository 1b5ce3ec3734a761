//! Ops: the unit of change a device makes offline and the server applies exactly once.
//!
//! An op is `{op_id, device_id, client_seq, hlc, body}`; the body is tagged by `kind` with
//! a versioned name (`"stock.adjust.v1"`). A version, once released, is never changed:
//! a new shape gets a new name (`.v2`) and the old one stays decodable (and is upgraded
//! in [`OpBody`] handling), so an outbox written by an older app still syncs.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::hlc::Hlc;
use super::outcome::{RejectCode, Rejection};
use crate::domain::member::{Action, Role, require};
use crate::domain::print_job::JobStatus;
use crate::domain::product::{ProductPatch, StockReason, validate_count};
use crate::domain::sale::NewSale;
use crate::domain::spool::{UsageReason, validate_use, validate_weighing};
use crate::domain::validation::{self as v, Valid, ValidationError, max_len};
use crate::domain::{
    Centigrams, DeviceId, MarketEventId, PrintJobId, ProductId, SaleId, SpoolId, filament,
    market_event, model, print_job, printer, shop, spool, variant,
};

/// Most ops in one push.
pub const MAX_BATCH: usize = 500;
/// Most fields in one `entity.set.v1`.
pub const MAX_FIELDS: usize = 64;

/// One change made on a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Op {
    /// Idempotency key (UUIDv7 made by the device): an op is applied once, whatever
    /// how often it is delivered.
    pub op_id: Uuid,
    /// The device that made it.
    pub device_id: DeviceId,
    /// 1, 2, 3… per device, in the order the device made its ops.
    pub client_seq: u64,
    /// When, by the device's hybrid logical clock; orders ops for the merge rules.
    pub hlc: Hlc,
    /// What.
    pub body: OpBody,
}

/// The kinds of rows that have a pulled state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    /// The shop's settings.
    Shop,
    /// A model.
    Model,
    /// A model variant.
    Variant,
    /// A filament kind.
    Filament,
    /// A spool (its state includes grams left).
    Spool,
    /// A product (its state includes stock on hand).
    Product,
    /// A printer.
    Printer,
    /// A print job (its state includes its status).
    PrintJob,
    /// A market event (its state includes its stock plan).
    MarketEvent,
    /// A sale (recorded and voided by sale ops only).
    Sale,
}

impl EntityKind {
    /// Lower-case name, as in JSON.
    pub fn label(self) -> &'static str {
        match self {
            EntityKind::Shop => "shop",
            EntityKind::Model => "model",
            EntityKind::Variant => "variant",
            EntityKind::Filament => "filament",
            EntityKind::Spool => "spool",
            EntityKind::Product => "product",
            EntityKind::Printer => "printer",
            EntityKind::PrintJob => "print_job",
            EntityKind::MarketEvent => "market_event",
            EntityKind::Sale => "sale",
        }
    }
}

/// What an op does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum OpBody {
    /// Add or remove units of a product (a delta).
    #[serde(rename = "stock.adjust.v1")]
    StockAdjust(StockAdjust),
    /// A stock-take: set the level to what was counted.
    #[serde(rename = "stock.count.v1")]
    StockCount(StockCount),
    /// Take grams off a spool (a delta).
    #[serde(rename = "spool.use.v1")]
    SpoolUse(SpoolUse),
    /// Weigh a spool: set grams left from a scale reading.
    #[serde(rename = "spool.weigh.v1")]
    SpoolWeigh(SpoolWeigh),
    /// Record a sale (a fact; never refused for lack of stock).
    #[serde(rename = "sale.record.v1")]
    SaleRecord(NewSale),
    /// Void a sale: it never happened; its stock effect is undone.
    #[serde(rename = "sale.void.v1")]
    SaleVoid(SaleVoid),
    /// Set descriptive fields of a row, last writer wins per field (creates the row).
    #[serde(rename = "entity.set.v1")]
    EntitySet(EntitySet),
    /// Delete a row (a tombstone that wins over edits).
    #[serde(rename = "entity.delete.v1")]
    EntityDelete(EntityTarget),
    /// Bring a deleted row back.
    #[serde(rename = "entity.undelete.v1")]
    EntityUndelete(EntityTarget),
    /// Start, pause, resume or cancel a print job.
    #[serde(rename = "job.transition.v1")]
    JobTransition(JobTransition),
    /// A print job finished: units into stock, grams off spools.
    #[serde(rename = "job.finish.v1")]
    JobFinish(JobFinish),
    /// A print job failed: grams wasted off spools.
    #[serde(rename = "job.fail.v1")]
    JobFail(JobFail),
    /// Set how many of a product to bring to a market event.
    #[serde(rename = "event.plan.v1")]
    EventPlan(EventPlan),
}

/// Every op kind this version understands.
pub const OP_KINDS: &[&str] = &[
    "stock.adjust.v1",
    "stock.count.v1",
    "spool.use.v1",
    "spool.weigh.v1",
    "sale.record.v1",
    "sale.void.v1",
    "entity.set.v1",
    "entity.delete.v1",
    "entity.undelete.v1",
    "job.transition.v1",
    "job.finish.v1",
    "job.fail.v1",
    "event.plan.v1",
];

/// `stock.adjust.v1`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockAdjust {
    /// Product.
    pub product_id: ProductId,
    /// Units added (positive) or removed (negative).
    pub delta: i64,
    /// Why: `produced`, `adjusted`, `returned` or `damaged`.
    pub reason: StockReason,
    /// The job it came from.
    #[serde(default)]
    pub job_id: Option<PrintJobId>,
    /// The event it belongs to.
    #[serde(default)]
    pub event_id: Option<MarketEventId>,
    /// Note.
    #[serde(default)]
    pub note: Option<String>,
}

/// `stock.count.v1`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockCount {
    /// Product.
    pub product_id: ProductId,
    /// Units counted.
    pub counted: i64,
    /// The event it was counted at.
    #[serde(default)]
    pub event_id: Option<MarketEventId>,
    /// Note.
    #[serde(default)]
    pub note: Option<String>,
}

/// `spool.use.v1`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpoolUse {
    /// Spool.
    pub spool_id: SpoolId,
    /// Centigrams used (negative only with `correction`).
    pub used_cg: Centigrams,
    /// Why.
    pub reason: UsageReason,
    /// The job it was for.
    #[serde(default)]
    pub job_id: Option<PrintJobId>,
    /// Note.
    #[serde(default)]
    pub note: Option<String>,
}

/// `spool.weigh.v1`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpoolWeigh {
    /// Spool.
    pub spool_id: SpoolId,
    /// Scale reading with the spool.
    pub gross_cg: Centigrams,
    /// Empty-spool weight the device used (from the spool or its filament).
    pub empty_spool_cg: Centigrams,
    /// Note.
    #[serde(default)]
    pub note: Option<String>,
}

/// `sale.void.v1`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleVoid {
    /// The sale.
    pub sale_id: SaleId,
    /// Why (shown in the books).
    pub reason: String,
}

/// `entity.set.v1`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntitySet {
    /// Kind of row.
    pub entity: EntityKind,
    /// Row id.
    pub id: Uuid,
    /// Fields to set, in the JSON spelling of the kind's patch type; `null` clears an
    /// optional field.
    pub fields: Map<String, Value>,
}

/// `entity.delete.v1` and `entity.undelete.v1`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityTarget {
    /// Kind of row.
    pub entity: EntityKind,
    /// Row id.
    pub id: Uuid,
}

/// `job.transition.v1`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobTransition {
    /// The job.
    pub job_id: PrintJobId,
    /// `printing` (start, resume), `paused` or `cancelled`.
    pub to: JobStatus,
    /// Note.
    #[serde(default)]
    pub note: Option<String>,
}

/// Units of a product a finished job produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Produced {
    /// Product.
    pub product_id: ProductId,
    /// Units.
    pub quantity: u32,
}

/// Grams a job took off a spool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpoolGrams {
    /// Spool.
    pub spool_id: SpoolId,
    /// Centigrams used.
    pub used_cg: Centigrams,
    /// The printer already reported these grams (through the Spoolman API), so the spool's
    /// ledger has them: the line records them as the job's use and takes nothing again.
    #[serde(default, skip_serializing_if = "is_false")]
    pub reported: bool,
}

impl SpoolGrams {
    /// Grams the job takes off the spool now (none when the printer reported them).
    pub fn taken(&self) -> Centigrams {
        if self.reported {
            Centigrams(0)
        } else {
            self.used_cg
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// `job.finish.v1`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFinish {
    /// The job.
    pub job_id: PrintJobId,
    /// Units produced, per product.
    #[serde(default)]
    pub produced: Vec<Produced>,
    /// Filament used, per spool.
    #[serde(default)]
    pub spools: Vec<SpoolGrams>,
}

/// `job.fail.v1`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFail {
    /// The job.
    pub job_id: PrintJobId,
    /// What went wrong ("spaghetti", "layer shift").
    pub reason: String,
    /// Filament wasted, per spool.
    #[serde(default)]
    pub spools: Vec<SpoolGrams>,
}

/// `event.plan.v1`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventPlan {
    /// The event.
    pub event_id: MarketEventId,
    /// The product.
    pub product_id: ProductId,
    /// Units to bring (0 removes the product from the plan).
    pub target: u32,
}

/// Reads one op from JSON, with a rejection the UI can show for an unknown kind or a
/// malformed body (the server answers it per op and goes on with the batch).
pub fn decode_op(value: &Value) -> Result<Op, Rejection> {
    let kind = value
        .get("body")
        .and_then(|b| b.get("kind"))
        .and_then(Value::as_str);
    if let Some(kind) = kind.filter(|k| !OP_KINDS.contains(k)) {
        return Err(Rejection {
            code: RejectCode::Malformed,
            message: format!(
                "unknown op kind `{kind}`; this server may be older than the app, update the server"
            ),
            field: Some("body.kind".into()),
        });
    }
    Op::deserialize(value).map_err(|e| Rejection {
        code: RejectCode::Malformed,
        message: format!(
            "the op could not be read ({e}); it was made by an incompatible app version"
        ),
        field: None,
    })
}

impl Op {
    /// Checks the envelope and the body. Intrinsic to the op: the same answer in any state.
    pub fn validate(&self) -> Result<(), Rejection> {
        if self.hlc.device_id != self.device_id {
            return Err(Rejection {
                code: RejectCode::Malformed,
                message:
                    "the op's clock stamp names another device than the op; the outbox is corrupt"
                        .into(),
                field: Some("hlc.device_id".into()),
            });
        }
        self.body.validate().map_err(Rejection::from)
    }
}

impl OpBody {
    /// The versioned kind name.
    pub fn kind(&self) -> &'static str {
        match self {
            OpBody::StockAdjust(_) => "stock.adjust.v1",
            OpBody::StockCount(_) => "stock.count.v1",
            OpBody::SpoolUse(_) => "spool.use.v1",
            OpBody::SpoolWeigh(_) => "spool.weigh.v1",
            OpBody::SaleRecord(_) => "sale.record.v1",
            OpBody::SaleVoid(_) => "sale.void.v1",
            OpBody::EntitySet(_) => "entity.set.v1",
            OpBody::EntityDelete(_) => "entity.delete.v1",
            OpBody::EntityUndelete(_) => "entity.undelete.v1",
            OpBody::JobTransition(_) => "job.transition.v1",
            OpBody::JobFinish(_) => "job.finish.v1",
            OpBody::JobFail(_) => "job.fail.v1",
            OpBody::EventPlan(_) => "event.plan.v1",
        }
    }

    /// Checks the body's values.
    pub fn validate(&self) -> Valid {
        match self {
            OpBody::StockAdjust(b) => {
                b.reason.validate_delta("delta", b.delta)?;
                v::notes("note", b.note.as_deref(), max_len::NOTES)
            }
            OpBody::StockCount(b) => {
                validate_count("counted", b.counted)?;
                v::notes("note", b.note.as_deref(), max_len::NOTES)
            }
            OpBody::SpoolUse(b) => {
                validate_use("used_cg", b.used_cg, b.reason)?;
                v::notes("note", b.note.as_deref(), max_len::NOTES)
            }
            OpBody::SpoolWeigh(b) => {
                validate_weighing(b.gross_cg, b.empty_spool_cg)?;
                v::notes("note", b.note.as_deref(), max_len::NOTES)
            }
            OpBody::SaleRecord(s) => s.validate(),
            OpBody::SaleVoid(b) => v::required_text("reason", &b.reason, max_len::NAME * 4),
            OpBody::EntitySet(b) => validate_fields(b.entity, &b.fields),
            OpBody::EntityDelete(t) | OpBody::EntityUndelete(t) => match t.entity {
                EntityKind::Shop => Err(ValidationError::new(
                    "entity",
                    "a shop cannot be deleted from the app; contact support",
                )),
                EntityKind::Sale => Err(ValidationError::new(
                    "entity",
                    "a sale is not deleted; void it instead",
                )),
                _ => Ok(()),
            },
            OpBody::JobTransition(b) => {
                if b.to.is_final() && b.to != JobStatus::Cancelled || b.to == JobStatus::Queued {
                    return Err(ValidationError::new(
                        "to",
                        format!(
                            "a job cannot be moved to {} directly; use finish or fail for done and failed",
                            b.to.label()
                        ),
                    ));
                }
                v::notes("note", b.note.as_deref(), max_len::NOTES)
            }
            OpBody::JobFinish(b) => {
                for (i, p) in b.produced.iter().enumerate() {
                    v::in_range(
                        "quantity",
                        i64::from(p.quantity),
                        1,
                        i64::from(print_job::MAX_UNITS),
                        "",
                    )
                    .map_err(|e| e.within(&format!("produced[{i}]")))?;
                }
                validate_spools(&b.spools, UsageReason::Print)
            }
            OpBody::JobFail(b) => {
                v::required_text("reason", &b.reason, max_len::NAME * 4)?;
                validate_spools(&b.spools, UsageReason::FailedPrint)
            }
            OpBody::EventPlan(p) => market_event::PlanLine {
                product_id: p.product_id,
                target: p.target,
            }
            .validate(),
        }
    }

    /// What a member must be allowed to do to make this op.
    pub fn action(&self) -> Action {
        match self {
            OpBody::StockAdjust(_)
            | OpBody::StockCount(_)
            | OpBody::SpoolUse(_)
            | OpBody::SpoolWeigh(_) => Action::AdjustStock,
            OpBody::SaleRecord(_) => Action::Sell,
            OpBody::SaleVoid(_) => Action::VoidSale,
            OpBody::EntitySet(s) => match s.entity {
                EntityKind::Shop => Action::ManageShop,
                EntityKind::PrintJob => Action::PlanPrintJobs,
                EntityKind::Product
                    if s.fields
                        .keys()
                        .any(|k| ProductPatch::PRICE_FIELDS.contains(&k.as_str())) =>
                {
                    Action::EditPrices
                }
                _ => Action::EditCatalogue,
            },
            OpBody::EntityDelete(_) | OpBody::EntityUndelete(_) => Action::Delete,
            OpBody::JobTransition(_) | OpBody::JobFinish(_) | OpBody::JobFail(_) => {
                Action::MovePrintJob
            }
            OpBody::EventPlan(_) => Action::PlanPrintJobs,
        }
    }
}

/// Whether a member with `role` may make this op (the server calls this before [`super::apply`]).
pub fn authorize(role: Role, body: &OpBody) -> Result<(), Rejection> {
    require(role, body.action()).map_err(Rejection::from)
}

fn validate_spools(spools: &[SpoolGrams], reason: UsageReason) -> Valid {
    for (i, s) in spools.iter().enumerate() {
        validate_use("used_cg", s.used_cg, reason)
            .map_err(|e| e.within(&format!("spools[{i}]")))?;
    }
    Ok(())
}

/// Checks the fields of an `entity.set.v1`: known names for the kind, `null` only where a
/// field is optional, values of the right type and within bounds (the kind's patch type).
pub fn validate_fields(kind: EntityKind, fields: &Map<String, Value>) -> Valid {
    if fields.is_empty() {
        return Err(ValidationError::new(
            "fields",
            "is empty; set at least one field",
        ));
    }
    if fields.len() > MAX_FIELDS {
        return Err(ValidationError::new(
            "fields",
            format!("has {} fields; send at most {MAX_FIELDS}", fields.len()),
        ));
    }
    match kind {
        EntityKind::Shop => {
            check::<shop::ShopPatch>(fields, shop::ShopPatch::NULLABLE, |p| p.validate())
        }
        EntityKind::Model => {
            check::<model::ModelPatch>(fields, model::ModelPatch::NULLABLE, |p| p.validate())
        }
        EntityKind::Variant => {
            check::<variant::VariantPatch>(fields, variant::VariantPatch::NULLABLE, |p| {
                p.validate()
            })
        }
        EntityKind::Filament => {
            check::<filament::FilamentPatch>(fields, filament::FilamentPatch::NULLABLE, |p| {
                p.validate()
            })
        }
        EntityKind::Spool => {
            check::<spool::SpoolPatch>(fields, spool::SpoolPatch::NULLABLE, |p| p.validate())
        }
        EntityKind::Product => {
            check::<ProductPatch>(fields, ProductPatch::NULLABLE, |p| p.validate())
        }
        EntityKind::Printer => {
            check::<printer::PrinterPatch>(fields, printer::PrinterPatch::NULLABLE, |p| {
                p.validate()
            })
        }
        EntityKind::PrintJob => {
            check::<print_job::PrintJobPatch>(fields, print_job::PrintJobPatch::NULLABLE, |p| {
                p.validate()
            })
        }
        EntityKind::MarketEvent => check::<market_event::MarketEventPatch>(
            fields,
            market_event::MarketEventPatch::NULLABLE,
            |p| p.validate(),
        ),
        EntityKind::Sale => Err(ValidationError::new(
            "entity",
            "a sale is recorded or voided, not edited",
        )),
    }
}

fn check<P: serde::de::DeserializeOwned>(
    fields: &Map<String, Value>,
    nullable: &[&str],
    validate: impl Fn(&P) -> Valid,
) -> Valid {
    let mut present = Map::new();
    for (k, val) in fields {
        if val.is_null() {
            if !nullable.contains(&k.as_str()) {
                return Err(ValidationError::new(
                    k.clone(),
                    "cannot be cleared; it is required, enter a value",
                ));
            }
        } else {
            present.insert(k.clone(), val.clone());
        }
    }
    let patch: P = serde_json::from_value(Value::Object(present)).map_err(|e| {
        let msg = e.to_string();
        let field = msg
            .split('`')
            .nth(1)
            .filter(|f| fields.contains_key(*f))
            .unwrap_or("fields")
            .to_owned();
        if msg.starts_with("unknown field") {
            ValidationError::new(
                field,
                "is not a field that can be set here (levels and statuses change with their own ops)",
            )
        } else {
            ValidationError::new(field, format!("cannot be read ({msg}); check the value's type"))
        }
    })?;
    validate(&patch)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn op_json_shape() {
        let v = json!({
            "op_id": "0190f5d2-0000-7000-8000-00000000000a",
            "device_id": "0190f5d2-0000-7000-8000-0000000000d1",
            "client_seq": 7,
            "hlc": {"wall_ms": 1733493780000u64, "counter": 0, "device_id": "0190f5d2-0000-7000-8000-0000000000d1"},
            "body": {"kind": "stock.adjust.v1", "product_id": "0190f5d2-0000-7000-8000-000000000001", "delta": -2, "reason": "damaged"}
        });
        let op = decode_op(&v).unwrap();
        op.validate().unwrap();
        assert_eq!(op.body.kind(), "stock.adjust.v1");
        let back = serde_json::to_value(&op).unwrap();
        assert_eq!(back["body"]["kind"], "stock.adjust.v1");
        assert_eq!(back["body"]["reason"], "damaged");
        assert_eq!(decode_op(&back).unwrap(), op);
    }

    #[test]
    fn unknown_kind_is_named() {
        let v = json!({"op_id": Uuid::nil(), "device_id": Uuid::nil(), "client_seq": 1,
            "hlc": {"wall_ms": 1, "counter": 0, "device_id": Uuid::nil()}, "body": {"kind": "stock.teleport.v9"}});
        let r = decode_op(&v).unwrap_err();
        assert_eq!(r.code, RejectCode::Malformed);
        assert!(r.message.contains("stock.teleport.v9"));
        let v = json!({"op_id": 5, "body": {"kind": "stock.count.v1"}});
        assert_eq!(decode_op(&v).unwrap_err().code, RejectCode::Malformed);
    }

    #[test]
    fn entity_set_fields_are_checked() {
        let f = |v: Value| v.as_object().cloned().unwrap();
        assert!(
            validate_fields(
                EntityKind::Product,
                &f(json!({"name": "Rex", "price": 1200}))
            )
            .is_ok()
        );
        let e = validate_fields(EntityKind::Product, &f(json!({"quantity": 5}))).unwrap_err();
        assert_eq!(e.field, "quantity");
        assert!(
            e.message.starts_with("is not a field that can be set"),
            "{}",
            e.message
        );
        assert_eq!(
            validate_fields(EntityKind::Product, &f(json!({"price": "12"})))
                .unwrap_err()
                .field,
            "fields"
        );
        assert_eq!(
            validate_fields(EntityKind::Product, &f(json!({"name": null})))
                .unwrap_err()
                .field,
            "name"
        );
        assert!(validate_fields(EntityKind::Product, &f(json!({"barcode": null}))).is_ok());
        assert_eq!(
            validate_fields(EntityKind::Product, &f(json!({"price": -5})))
                .unwrap_err()
                .field,
            "price"
        );
        assert_eq!(
            validate_fields(
                EntityKind::Filament,
                &f(json!({"colour": {"name": "Red", "hex": "red"}}))
            )
            .unwrap_err()
            .field,
            "colour.hex"
        );
        assert!(validate_fields(EntityKind::PrintJob, &f(json!({"status": "done"}))).is_err());
        assert!(validate_fields(EntityKind::Sale, &f(json!({"x": 1}))).is_err());
        assert!(validate_fields(EntityKind::Model, &Map::new()).is_err());
    }

    #[test]
    fn sellers_are_limited() {
        let set_price = OpBody::EntitySet(EntitySet {
            entity: EntityKind::Product,
            id: Uuid::nil(),
            fields: json!({"price": 100}).as_object().cloned().unwrap(),
        });
        assert_eq!(set_price.action(), Action::EditPrices);
        assert_eq!(
            authorize(Role::Seller, &set_price).unwrap_err().code,
            RejectCode::Forbidden
        );
        assert!(authorize(Role::Owner, &set_price).is_ok());
        let count = OpBody::StockCount(StockCount {
            product_id: ProductId(Uuid::nil()),
            counted: 3,
            event_id: None,
            note: None,
        });
        assert!(authorize(Role::Seller, &count).is_ok());
        let del = OpBody::EntityDelete(EntityTarget {
            entity: EntityKind::Product,
            id: Uuid::nil(),
        });
        assert!(authorize(Role::Seller, &del).is_err());
    }

    #[test]
    fn job_transition_targets() {
        let t = |to| {
            OpBody::JobTransition(JobTransition {
                job_id: PrintJobId(Uuid::nil()),
                to,
                note: None,
            })
        };
        assert!(t(JobStatus::Printing).validate().is_ok());
        assert!(t(JobStatus::Cancelled).validate().is_ok());
        assert!(t(JobStatus::Done).validate().is_err());
        assert!(t(JobStatus::Queued).validate().is_err());
    }
}

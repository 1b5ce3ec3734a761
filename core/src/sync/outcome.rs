//! What applying an op answers: applied (with what it touched) or rejected with a reason.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::op::EntityKind;
use crate::domain::ValidationError;
use crate::domain::member::Forbidden;

/// A row whose pulled state an op changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EntityRef {
    /// Kind.
    pub kind: EntityKind,
    /// Id.
    pub id: Uuid,
}

/// Whether an op changed the state or had been seen before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// First time: merged.
    Applied,
    /// This `op_id` was applied before; nothing changed.
    Duplicate,
}

/// A level (stock units, spool centigrams) before and after an op, as the state saw it
/// when the op arrived. The server keeps its level columns in step with these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelChange {
    /// The product or spool.
    pub entity: EntityRef,
    /// Before.
    pub before: i64,
    /// After.
    pub after: i64,
}

/// The answer for an op that was merged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    /// Applied or duplicate.
    pub outcome: Outcome,
    /// Rows whose state changed (the server bumps their version for pull).
    pub touched: Vec<EntityRef>,
    /// Level changes of products and spools.
    pub levels: Vec<LevelChange>,
    /// Things the user should know (stock went negative, spool clamped at 0 g).
    pub notes: Vec<String>,
}

impl Applied {
    pub(crate) fn new() -> Self {
        Applied {
            outcome: Outcome::Applied,
            touched: Vec::new(),
            levels: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub(crate) fn duplicate() -> Self {
        Applied {
            outcome: Outcome::Duplicate,
            ..Applied::new()
        }
    }

    pub(crate) fn touch(&mut self, kind: EntityKind, id: Uuid) {
        let r = EntityRef { kind, id };
        if !self.touched.contains(&r) {
            self.touched.push(r);
        }
    }
}

/// Why an op was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectCode {
    /// The op could not be read (malformed JSON, unknown kind or version).
    Malformed,
    /// A value is out of bounds or inconsistent.
    Invalid,
    /// The member's role may not do this.
    Forbidden,
    /// The row is deleted; undelete it first.
    Deleted,
    /// Another op already decided this (a sale id recorded with other contents).
    Conflict,
    /// The print job cannot make this step from where it is.
    InvalidTransition,
    /// The device's clock is too far ahead.
    ClockAhead,
}

/// A refused op, with a reason fit to show the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct Rejection {
    /// Machine-readable kind.
    pub code: RejectCode,
    /// What went wrong and what to do.
    pub message: String,
    /// The field at fault, if one.
    pub field: Option<String>,
}

impl Rejection {
    /// A new rejection.
    pub fn new(code: RejectCode, message: impl Into<String>) -> Self {
        Rejection {
            code,
            message: message.into(),
            field: None,
        }
    }
}

impl From<ValidationError> for Rejection {
    fn from(e: ValidationError) -> Self {
        Rejection {
            code: RejectCode::Invalid,
            message: format!("{}: {}", e.field, e.message),
            field: Some(e.field),
        }
    }
}

impl From<Forbidden> for Rejection {
    fn from(e: Forbidden) -> Self {
        Rejection {
            code: RejectCode::Forbidden,
            message: e.to_string(),
            field: None,
        }
    }
}

impl From<super::hlc::ClockAhead> for Rejection {
    fn from(e: super::hlc::ClockAhead) -> Self {
        Rejection {
            code: RejectCode::ClockAhead,
            message: e.to_string(),
            field: Some("hlc".into()),
        }
    }
}

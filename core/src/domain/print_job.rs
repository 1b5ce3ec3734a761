//! A print job and its status machine.
//!
//! ```text
//! queued ──start──▶ printing ──pause──▶ paused
//!   │                 │  ▲                │
//!   │                 │  └────resume──────┘
//!   ├──▶ done / failed / cancelled ◀──────┘   (from queued, printing or paused)
//! ```
//! `done`, `failed` and `cancelled` are final: print again with a new job. A job may be
//! finished straight from `queued` (someone forgot to press start).

use serde::{Deserialize, Serialize};

use super::validation::{self as v, Valid, ValidationError, max_len};
use super::{MarketEventId, PrintJobId, PrinterId, VariantId};

/// Most units in one job.
pub const MAX_UNITS: u32 = 10_000;

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting in the queue.
    Queued,
    /// On a printer.
    Printing,
    /// Paused on a printer.
    Paused,
    /// Finished; its units went into stock.
    Done,
    /// Failed; its filament was recorded as waste.
    Failed,
    /// Cancelled before it finished.
    Cancelled,
}

impl JobStatus {
    /// Whether nothing can follow this status.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobStatus::Done | JobStatus::Failed | JobStatus::Cancelled
        )
    }

    /// Whether a job may go from `self` to `to`.
    pub fn can_become(self, to: JobStatus) -> bool {
        use JobStatus::*;
        matches!(
            (self, to),
            (Queued, Printing)
                | (Printing, Paused)
                | (Paused, Printing)
                | (Queued | Printing | Paused, Done | Failed | Cancelled)
        )
    }

    /// [`Self::can_become`] with a message saying what to do instead.
    pub fn transition(self, to: JobStatus) -> Result<JobStatus, ValidationError> {
        if self.can_become(to) {
            return Ok(to);
        }
        let msg = if self.is_final() {
            format!(
                "the job is already {}; start a new job to print again",
                self.label()
            )
        } else if self == to {
            format!("the job is already {}", self.label())
        } else {
            format!("a {} job cannot become {}", self.label(), to.label())
        };
        Err(ValidationError::new("status", msg))
    }

    /// Lower-case name, as in JSON.
    pub fn label(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Printing => "printing",
            JobStatus::Paused => "paused",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }
}

/// A print job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrintJob {
    /// Id.
    pub id: PrintJobId,
    /// What to print.
    pub variant_id: VariantId,
    /// Units to print.
    pub units: u32,
    /// Plates (units / parts per plate, rounded up, unless set by hand).
    pub plates: u32,
    /// Printer, once chosen.
    pub printer_id: Option<PrinterId>,
    /// Status.
    pub status: JobStatus,
    /// Higher goes first.
    pub priority: i32,
    /// Order within the same priority (smaller first).
    pub position: i64,
    /// The market event it is for.
    pub event_id: Option<MarketEventId>,
    /// When printing started.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub started_at: Option<time::OffsetDateTime>,
    /// When it ended (done, failed or cancelled).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub finished_at: Option<time::OffsetDateTime>,
    /// Why it failed.
    pub failure_reason: Option<String>,
    /// Notes.
    pub notes: Option<String>,
}

impl PrintJob {
    /// Checks every field.
    pub fn validate(&self) -> Valid {
        validate_units(self.units, self.plates)?;
        v::optional_text(
            "failure_reason",
            self.failure_reason.as_deref(),
            max_len::NAME * 4,
        )?;
        v::notes("notes", self.notes.as_deref(), max_len::NOTES)
    }
}

/// A change to (or the creation of) a print job. The status is not a field: it moves with
/// the job ops (start, pause, resume, cancel, finish, fail).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrintJobPatch {
    /// What to print.
    pub variant_id: Option<VariantId>,
    /// Units.
    pub units: Option<u32>,
    /// Plates.
    pub plates: Option<u32>,
    /// Printer.
    pub printer_id: Option<PrinterId>,
    /// Priority.
    pub priority: Option<i32>,
    /// Position.
    pub position: Option<i64>,
    /// Event.
    pub event_id: Option<MarketEventId>,
    /// Notes.
    pub notes: Option<String>,
}

impl PrintJobPatch {
    /// Fields that may be set to `null`.
    pub const NULLABLE: &'static [&'static str] = &["printer_id", "event_id", "notes"];

    /// Checks the fields present.
    pub fn validate(&self) -> Valid {
        if let Some(u) = self.units {
            validate_units(u, self.plates.unwrap_or(1))?;
        } else if let Some(p) = self.plates {
            validate_units(1, p)?;
        }
        v::notes("notes", self.notes.as_deref(), max_len::NOTES)
    }
}

fn validate_units(units: u32, plates: u32) -> Valid {
    v::in_range("units", i64::from(units), 1, i64::from(MAX_UNITS), "")?;
    v::in_range("plates", i64::from(plates), 1, i64::from(MAX_UNITS), "")
}

#[cfg(test)]
mod tests {
    use super::JobStatus::*;

    #[test]
    fn status_machine() {
        assert!(Queued.can_become(Printing));
        assert!(Printing.can_become(Paused));
        assert!(Paused.can_become(Printing));
        assert!(Queued.can_become(Done));
        assert!(Paused.can_become(Cancelled));
        assert!(!Queued.can_become(Paused));
        assert!(!Done.can_become(Printing));
        assert!(!Cancelled.can_become(Done));
        assert!(!Printing.can_become(Queued));
        let e = Done.transition(Printing).err().map(|e| e.message);
        assert_eq!(
            e,
            Some("the job is already done; start a new job to print again".into())
        );
        assert_eq!(
            serde_json::to_string(&Cancelled).ok(),
            Some("\"cancelled\"".into())
        );
    }
}

//! Offline sync: ops, the hybrid logical clock and the merge rules, shared by the server
//! and the browser (the protocol of `shared/notes/sync-protocol.md`).
//!
//! - [`hlc`]: the clock that orders ops ([`Hlc`]), and the server's guard against clocks
//!   set in the future ([`check_future`], [`clamp_future`]).
//! - [`op`]: the op envelope ([`Op`]) and the versioned bodies ([`OpBody`]).
//! - [`cells`]: the order-independent merge structures.
//! - [`state`]: the merged [`State`], [`apply`] and [`fold`].
//! - [`outcome`]: the per-op answer, [`Applied`] or [`Rejection`].
//! - [`snapshot`]: the state cut into one [`CellDoc`] per row, as the server stores and pulls it.
//!
//! ## The merge rules
//! - **Counts are deltas.** Sales, production, filament use and adjustments are deltas;
//!   two phones selling 3 and 2 of 10 offline end at 5.
//! - **A count resets the level** (stock-take, weighing); deltas stamped after it are added
//!   on top, deltas stamped before it are contained in it.
//! - **Descriptive fields** are last-writer-wins per field by HLC (`entity.set.v1`).
//! - **Deletes win.** A delete is a tombstone; an edit of a deleted row is rejected and
//!   shown; `entity.undelete.v1` brings a row back.
//! - **A sale is a fact**: never rejected for lack of stock; stock may go below zero
//!   and is flagged. A void undoes its stock effect, whichever arrives first.
//! - **Spools never go below 0 g**: uses clamp at 0 in HLC order, the overshoot is kept.
//! - **Print jobs** follow their status machine in HLC order; the first final step wins,
//!   and only a finish or fail that takes effect moves stock and filament.

pub mod cells;
pub mod hlc;
pub mod op;
pub mod outcome;
pub mod snapshot;
pub mod state;

pub use hlc::{
    ClockAhead, Hlc, MAX_AHEAD_CLAMP_MS, MAX_AHEAD_REFUSE_MS, check_future, clamp_future,
};
pub use op::{EntityKind, MAX_BATCH, OP_KINDS, Op, OpBody, authorize, decode_op};
pub use outcome::{Applied, EntityRef, LevelChange, Outcome, RejectCode, Rejection};
pub use snapshot::{CellDoc, cells_needed};
pub use state::{EntityView, SaleView, SpoolLevel, State, apply, fold};

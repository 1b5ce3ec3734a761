//! The business data of a shop: types, their JSON shape and their validation.
//!
//! One file per concept. Every type serialises with `snake_case` names; every type that
//! comes in from a user has a `validate()` returning a [`ValidationError`] whose message
//! says what to do. Ids are [`uuid::Uuid`] newtypes ([`ids`]); callers generate them
//! (UUIDv7), nothing here does.
//!
//! What happens at zero (decided here, applied by [`crate::sync`]):
//! - **Stock** may go below zero: a sale at a market stall is never refused because the
//!   ledger says 0. A negative level is kept as is and flagged ([`product::StockLevel`]).
//! - **Spools** never go below 0 g left: a use larger than what is left clamps at 0 and
//!   the overshoot is recorded ([`spool::apply_use`]).

pub mod catalogue;
pub mod costing;
pub mod csv_rows;
pub mod dates;
pub mod event_report;
pub mod filament;
pub mod ids;
pub mod market_event;
pub mod member;
pub mod model;
pub mod planning;
pub mod print_job;
pub mod printer;
pub mod printer_report;
pub mod product;
pub mod sale;
pub mod shop;
pub mod spool;
pub mod spoolman;
pub mod usage;
pub mod validation;
pub mod variant;
pub mod weight;

pub use ids::*;
pub use validation::ValidationError;
pub use weight::Centigrams;

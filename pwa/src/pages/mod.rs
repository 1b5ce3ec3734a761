//! One module per screen.

pub mod costing;
pub mod dashboard;
pub mod events;
pub mod filament;
pub mod import;
pub mod labels;
pub mod models;
pub mod more;
pub mod nfc;
pub mod not_found;
pub mod printers;
pub mod queue;
pub mod scan;
pub mod sell;
pub mod settings;
pub mod stock;

//! Hooks over browser state.

pub mod use_online;
pub mod use_printer_reports;
pub mod use_sell_event;

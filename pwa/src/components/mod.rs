//! Reusable pieces of the UI, one per file.

pub mod account_security;
pub mod bar_chart;
pub mod bottom_nav;
pub mod catalogue_pick;
pub mod charts;
pub mod event_plan;
pub mod event_report_view;
pub mod filament_use;
pub mod grams_bar;
pub mod job_outcome;
pub mod nfc_link;
pub mod online_badge;
pub mod password_field;
pub mod placeholder;
pub mod sign_in;
pub mod spool_weigh;
pub mod stock_tabs;
pub mod swatch;
pub mod sync_status;
pub mod update_banner;
pub mod variant_from_file;

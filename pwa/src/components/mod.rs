//! Reusable pieces of the UI, one per file.

pub mod account_security;
pub mod bottom_nav;
pub mod nfc_link;
pub mod online_badge;
pub mod placeholder;
pub mod sign_in;
pub mod sync_status;
pub mod update_banner;
pub mod variant_from_file;

//! HTTP routes, one module per resource.

pub mod files;
pub mod health;
pub mod web_app;

//! PrintStall's server: settings, the database, file storage, and the HTTP router.
//! `main.rs` only parses the command line and calls into here, so tests can start the
//! real server on port 0.

pub mod api;
pub mod app;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod crypto;
pub mod db;
pub mod email;
pub mod embedded_pg;
pub mod erase;
pub mod error;
pub mod export;
pub mod headers;
pub mod metrics;
pub mod routes;
pub mod secret;
pub mod settings;
pub mod spoolman;
pub mod storage;
pub mod sync;
pub mod telemetry;
pub mod tenancy;

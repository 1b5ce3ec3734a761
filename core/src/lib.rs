//! PrintStall's domain rules, shared by the server (native) and the PWA (wasm32).
//!
//! Nothing here touches the network, a database, the clock or a random source:
//! those come in as arguments so the same code runs in both places and in tests.

pub mod codes;
pub mod domain;
pub mod labels;
pub mod money;
pub mod slicefile;
pub mod sync;

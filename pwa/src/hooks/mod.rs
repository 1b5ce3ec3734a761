//! Hooks over browser state.

pub mod use_online;

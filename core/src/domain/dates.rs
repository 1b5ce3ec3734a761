//! JSON forms of calendar dates (`"2025-06-14"`) and instants (RFC 3339, UTC).

time::serde::format_description!(pub date, Date, "[year]-[month]-[day]");

pub use time::serde::rfc3339 as instant;

//! sita-sm-filter: a proxy-wasm filter between a customer's ITSM and SITA's Service
//! Management platform. Everything but `shell` is a plain-Rust functional core that never
//! calls the host; `shell` moves headers and bytes between the host and that core.

pub mod catalogue;
pub mod config;
pub mod datetime;
pub mod errors;
pub mod gateway;
pub mod profile;
pub mod validate;
pub mod xml;

#[cfg(feature = "shell")]
pub mod shell;

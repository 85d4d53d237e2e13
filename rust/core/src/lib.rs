//! Security primitives of MCP Connect for Odoo.
//!
//! Pure Rust with no Python dependency: the `mcp_connect_core` Python package is a
//! thin binding over this crate (see `rust/python`). Each module holds one concern:
//!
//! - [`token`]: typed opaque tokens and their lookup digests;
//! - [`pkce`]: RFC 7636 `S256` verification;
//! - [`secret`]: argon2id hashing of client secrets;
//! - [`redirect`]: redirect URI registration rules and matching;
//! - [`ip`]: address parsing, CIDR allowlists, outbound-fetch address checks;
//! - [`policy`]: per-connection policies;
//! - [`error`]: the one error type.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod error;
pub mod ip;
pub mod pkce;
pub mod policy;
pub mod redirect;
pub mod secret;
pub mod token;

pub use error::{Error, RedirectProblem, Result};

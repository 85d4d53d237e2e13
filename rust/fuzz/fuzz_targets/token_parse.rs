//! Presented tokens: never panic; anything accepted digests to the SHA-256 of its bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mcp_connect_core::token;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok((kind, digest)) = token::parse(text) {
            assert_eq!(digest, token::sha256_hex(text.as_bytes()));
            assert_eq!(token::digest(text, kind).as_deref(), Ok(digest.as_str()));
        }
    }
});

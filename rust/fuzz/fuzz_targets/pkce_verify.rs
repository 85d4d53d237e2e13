//! PKCE: never panic; a verifier accepted against a challenge hashes to exactly that challenge.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mcp_connect_core::pkce;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (verifier, challenge) = text.split_once('\n').unwrap_or((text, ""));
    if pkce::verify(verifier, challenge, "S256").is_ok() {
        assert_eq!(pkce::s256_challenge(verifier), challenge);
    }
    if pkce::check_verifier(verifier).is_ok() {
        let own = pkce::s256_challenge(verifier);
        assert!(pkce::verify(verifier, &own, "S256").is_ok());
    }
    assert!(pkce::verify(verifier, challenge, "plain").is_err());
});

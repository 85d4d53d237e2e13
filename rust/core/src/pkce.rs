//! Proof Key for Code Exchange, RFC 7636, `S256` only.
//!
//! OAuth 2.1 §4.1.1 and RFC 9700 §2.1.1: `plain` offers no protection when the
//! authorization request leaks, so it is refused like any unknown method.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};

/// The only accepted `code_challenge_method`.
pub const S256: &str = "S256";
/// Length of a base64url (unpadded) SHA-256 digest.
pub const CHALLENGE_LEN: usize = 43;

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// RFC 7636 §4.1: `code-verifier = 43*128unreserved`,
/// `unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"`.
///
/// # Errors
/// [`Error::InvalidVerifier`] when the grammar is not met.
pub fn check_verifier(verifier: &str) -> Result<()> {
    let ok = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidVerifier)
    }
}

/// Validate the challenge and method of an authorization request.
///
/// # Errors
/// [`Error::UnsupportedChallengeMethod`] for anything but `S256` (including `plain`
/// and an absent method, which RFC 7636 §4.3 would default to `plain`);
/// [`Error::InvalidChallenge`] when the challenge is not 43 base64url characters.
pub fn check_challenge(challenge: &str, method: &str) -> Result<()> {
    if method != S256 {
        return Err(Error::UnsupportedChallengeMethod);
    }
    let decodable = challenge.len() == CHALLENGE_LEN
        && challenge.bytes().all(|b| BASE64URL.contains(&b))
        // 43 characters carry 258 bits; the last character's two low bits must be zero
        // for the string to be a canonical encoding of 32 bytes.
        && BASE64URL
            .iter()
            .position(|&c| c == challenge.as_bytes()[CHALLENGE_LEN - 1])
            .is_some_and(|v| v.trailing_zeros() >= 2);
    if decodable {
        Ok(())
    } else {
        Err(Error::InvalidChallenge)
    }
}

/// `BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))`, RFC 7636 §4.2.
#[must_use]
pub fn s256_challenge(verifier: &str) -> String {
    let hash = Sha256::digest(verifier.as_bytes());
    encode_base64url(&hash)
}

/// Verify a token-request verifier against the stored challenge, in constant time.
///
/// # Errors
/// [`Error::UnsupportedChallengeMethod`], [`Error::InvalidVerifier`],
/// [`Error::InvalidChallenge`] for malformed input; [`Error::PkceMismatch`] when the
/// verifier does not hash to the challenge.
pub fn verify(verifier: &str, challenge: &str, method: &str) -> Result<()> {
    check_challenge(challenge, method)?;
    check_verifier(verifier)?;
    let computed = s256_challenge(verifier);
    if bool::from(computed.as_bytes().ct_eq(challenge.as_bytes())) {
        Ok(())
    } else {
        Err(Error::PkceMismatch)
    }
}

fn encode_base64url(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            let index = (n >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(BASE64URL[index as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use proptest::prelude::*;

    // RFC 7636 Appendix B.
    const RFC_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const RFC_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc7636_appendix_b_vector() {
        assert_eq!(s256_challenge(RFC_VERIFIER), RFC_CHALLENGE);
        assert_eq!(verify(RFC_VERIFIER, RFC_CHALLENGE, "S256"), Ok(()));
    }

    #[test]
    fn plain_and_unknown_methods_are_refused() {
        for method in ["plain", "", "s256", "S512"] {
            assert_eq!(
                verify(RFC_VERIFIER, RFC_CHALLENGE, method),
                Err(Error::UnsupportedChallengeMethod)
            );
        }
        // Even a "plain" pair that would match byte for byte.
        assert_eq!(
            verify(RFC_VERIFIER, RFC_VERIFIER, "plain"),
            Err(Error::UnsupportedChallengeMethod)
        );
    }

    #[test]
    fn wrong_verifier_is_a_mismatch() {
        let other = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXx";
        assert_eq!(
            verify(other, RFC_CHALLENGE, "S256"),
            Err(Error::PkceMismatch)
        );
    }

    #[test]
    fn verifier_grammar() {
        assert_eq!(check_verifier(&"a".repeat(42)), Err(Error::InvalidVerifier));
        assert_eq!(check_verifier(&"a".repeat(43)), Ok(()));
        assert_eq!(check_verifier(&"a".repeat(128)), Ok(()));
        assert_eq!(
            check_verifier(&"a".repeat(129)),
            Err(Error::InvalidVerifier)
        );
        assert_eq!(
            check_verifier(&format!("{}+", "a".repeat(43))),
            Err(Error::InvalidVerifier)
        );
        assert_eq!(
            check_verifier(&format!("{} ", "a".repeat(43))),
            Err(Error::InvalidVerifier)
        );
        assert_eq!(check_verifier(&"é".repeat(43)), Err(Error::InvalidVerifier));
        assert_eq!(check_verifier(&"-._~".repeat(11)), Ok(()));
    }

    #[test]
    fn challenge_grammar() {
        assert_eq!(check_challenge(RFC_CHALLENGE, "S256"), Ok(()));
        assert_eq!(
            check_challenge(&RFC_CHALLENGE[..42], "S256"),
            Err(Error::InvalidChallenge)
        );
        assert_eq!(
            check_challenge(&format!("{RFC_CHALLENGE}="), "S256"),
            Err(Error::InvalidChallenge)
        );
        let padded_style = RFC_CHALLENGE.replace('-', "+");
        assert_eq!(
            check_challenge(&padded_style, "S256"),
            Err(Error::InvalidChallenge)
        );
        // Non-canonical last character (low bits set): not the encoding of any digest.
        let mut non_canonical = RFC_CHALLENGE[..42].to_string();
        non_canonical.push('N');
        assert_eq!(
            check_challenge(&non_canonical, "S256"),
            Err(Error::InvalidChallenge)
        );
    }

    #[test]
    fn malformed_verifier_is_reported_before_comparison() {
        assert_eq!(
            verify("short", RFC_CHALLENGE, "S256"),
            Err(Error::InvalidVerifier)
        );
    }

    proptest! {
        #[test]
        fn base64url_matches_reference(data in proptest::collection::vec(any::<u8>(), 0..80)) {
            let reference = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&data);
            prop_assert_eq!(encode_base64url(&data), reference);
        }

        #[test]
        fn any_valid_verifier_verifies_against_its_challenge(verifier in "[A-Za-z0-9._~-]{43,128}") {
            let challenge = s256_challenge(&verifier);
            prop_assert_eq!(check_challenge(&challenge, "S256"), Ok(()));
            prop_assert_eq!(verify(&verifier, &challenge, "S256"), Ok(()));
        }

        #[test]
        fn verify_never_panics(verifier in ".{0,140}", challenge in ".{0,50}", method in ".{0,6}") {
            let _ = verify(&verifier, &challenge, &method);
        }
    }
}

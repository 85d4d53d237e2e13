//! Typed opaque tokens.
//!
//! Format: `<prefix>_<payload><checksum>`
//! - `prefix` names the kind (`mcpat` access token, `mcprt` refresh token, …), so a
//!   refresh token presented as a bearer token is refused without a database query,
//!   and secret scanners can recognise a leaked token;
//! - `payload` is 256 bits from the operating system's CSPRNG in base62 (43 characters);
//! - `checksum` is the CRC-32 of `prefix_payload` in base62 (6 characters), so typos
//!   and garbage are refused offline.
//!
//! Only the SHA-256 digest of the whole token string is ever stored.

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Random bytes per token: 256 bits.
pub const RANDOM_BYTES: usize = 32;
/// Base62 characters needed for 256 bits (62^43 > 2^256).
pub const PAYLOAD_LEN: usize = 43;
/// Base62 characters needed for a 32-bit checksum (62^6 > 2^32).
pub const CHECKSUM_LEN: usize = 6;
/// Length of every prefix.
pub const PREFIX_LEN: usize = 5;
/// Total length of a token string.
pub const TOKEN_LEN: usize = PREFIX_LEN + 1 + PAYLOAD_LEN + CHECKSUM_LEN;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// What a token is for. Each kind has its own prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// OAuth access token (bearer on the MCP endpoint).
    Access,
    /// OAuth refresh token.
    Refresh,
    /// OAuth authorization code.
    AuthorizationCode,
    /// Client secret of a confidential client.
    ClientSecret,
    /// Personal access token created by a user for header-based tools.
    Personal,
    /// Client identifier (not a secret, but typed so it is recognisable).
    ClientId,
}

impl TokenKind {
    /// All kinds, in a fixed order.
    pub const ALL: [TokenKind; 6] = [
        TokenKind::Access,
        TokenKind::Refresh,
        TokenKind::AuthorizationCode,
        TokenKind::ClientSecret,
        TokenKind::Personal,
        TokenKind::ClientId,
    ];

    /// The prefix written before the underscore.
    #[must_use]
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Access => "mcpat",
            Self::Refresh => "mcprt",
            Self::AuthorizationCode => "mcpac",
            Self::ClientSecret => "mcpcs",
            Self::Personal => "mcppt",
            Self::ClientId => "mcpci",
        }
    }

    /// The name used by the Python binding.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
            Self::AuthorizationCode => "code",
            Self::ClientSecret => "client_secret",
            Self::Personal => "personal",
            Self::ClientId => "client_id",
        }
    }

    /// Parse a binding name (`"access"`, `"refresh"`, …).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    fn from_prefix(prefix: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.prefix() == prefix)
    }
}

/// A freshly minted token and the digest to store.
#[derive(Clone, PartialEq, Eq)]
pub struct MintedToken {
    /// The token, to hand out exactly once.
    pub token: String,
    /// Lowercase hex SHA-256 of the token, the database lookup key.
    pub digest: String,
}

impl std::fmt::Debug for MintedToken {
    // Never print the token itself.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MintedToken")
            .field("digest", &self.digest)
            .finish_non_exhaustive()
    }
}

/// Mint a token of `kind` from 256 bits of OS randomness.
///
/// # Panics
/// Only if the operating system's random source fails, in which case no token
/// may be minted at all.
#[must_use]
pub fn mint(kind: TokenKind) -> MintedToken {
    let mut random = [0u8; RANDOM_BYTES];
    getrandom::getrandom(&mut random).expect("the OS random source failed");
    mint_from_bytes(kind, random)
}

/// Mint from given bytes (kept private: production tokens come from [`mint`]).
fn mint_from_bytes(kind: TokenKind, random: [u8; RANDOM_BYTES]) -> MintedToken {
    let mut token = String::with_capacity(TOKEN_LEN);
    token.push_str(kind.prefix());
    token.push('_');
    push_base62(&mut token, random, PAYLOAD_LEN);
    let checksum = crc32fast::hash(token.as_bytes());
    push_base62(&mut token, checksum.to_be_bytes(), CHECKSUM_LEN);
    let digest = sha256_hex(token.as_bytes());
    MintedToken { token, digest }
}

/// Check a presented token and return its kind and lookup digest.
///
/// # Errors
/// [`Error::MalformedToken`] when the token is not one this server could have minted
/// (length, alphabet, prefix or checksum wrong).
pub fn parse(token: &str) -> Result<(TokenKind, String)> {
    let bytes = token.as_bytes();
    if bytes.len() != TOKEN_LEN || bytes[PREFIX_LEN] != b'_' {
        return Err(Error::MalformedToken);
    }
    let kind = TokenKind::from_prefix(&token[..PREFIX_LEN]).ok_or(Error::MalformedToken)?;
    let body = &bytes[PREFIX_LEN + 1..];
    if !body.iter().all(u8::is_ascii_alphanumeric) {
        return Err(Error::MalformedToken);
    }
    let (signed, checksum) = token.split_at(TOKEN_LEN - CHECKSUM_LEN);
    let mut expected = String::with_capacity(CHECKSUM_LEN);
    push_base62(
        &mut expected,
        crc32fast::hash(signed.as_bytes()).to_be_bytes(),
        CHECKSUM_LEN,
    );
    if expected != checksum {
        return Err(Error::MalformedToken);
    }
    Ok((kind, sha256_hex(bytes)))
}

/// Check a presented token of an expected kind and return its lookup digest.
///
/// # Errors
/// [`Error::MalformedToken`] as for [`parse`]; [`Error::WrongTokenKind`] when the
/// token is well formed but of another kind.
pub fn digest(token: &str, expected: TokenKind) -> Result<String> {
    let (found, digest) = parse(token)?;
    if found != expected {
        return Err(Error::WrongTokenKind { expected, found });
    }
    Ok(digest)
}

/// Lowercase hex SHA-256.
#[must_use]
pub fn sha256_hex(data: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let hash = Sha256::digest(data);
    let mut out = String::with_capacity(64);
    for byte in hash {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

/// 62^5, the largest power of 62 that fits a `u32`: dividing by it yields five digits per pass.
const BASE62_CHUNK: u64 = 62 * 62 * 62 * 62 * 62;

/// Append the big-endian number in `bytes` as exactly `width` base62 digits
/// (`width` must cover the number: 43 digits for 256 bits, 6 for 32 bits).
fn push_base62<const N: usize>(out: &mut String, bytes: [u8; N], width: usize) {
    // Big-endian 32-bit limbs; N is 4 or 32 here, always a multiple of 4.
    let mut limbs: Vec<u32> = bytes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let mut digits = [0u8; PAYLOAD_LEN + 5];
    let mut produced = 0;
    while produced < width {
        // Long division of the whole number by 62^5; the remainder holds five digits.
        let mut remainder: u64 = 0;
        for limb in &mut limbs {
            let accumulator = (remainder << 32) | u64::from(*limb);
            *limb = u32::try_from(accumulator / BASE62_CHUNK).expect("quotient fits a limb");
            remainder = accumulator % BASE62_CHUNK;
        }
        for _ in 0..5 {
            digits[produced] = ALPHABET[usize::try_from(remainder % 62).expect("digit < 62")];
            remainder /= 62;
            produced += 1;
        }
    }
    out.extend(digits[..width].iter().rev().map(|&d| char::from(d)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn minted_token_has_prefix_length_and_digest() {
        for kind in TokenKind::ALL {
            let minted = mint(kind);
            assert_eq!(minted.token.len(), TOKEN_LEN);
            assert!(minted.token.starts_with(&format!("{}_", kind.prefix())));
            assert_eq!(minted.digest, sha256_hex(minted.token.as_bytes()));
            assert_eq!(digest(&minted.token, kind).unwrap(), minted.digest);
        }
    }

    #[test]
    fn two_mints_differ() {
        assert_ne!(mint(TokenKind::Access).token, mint(TokenKind::Access).token);
    }

    #[test]
    fn base62_is_fixed_width_for_extremes() {
        let zero = mint_from_bytes(TokenKind::Access, [0; 32]);
        let max = mint_from_bytes(TokenKind::Access, [0xff; 32]);
        assert_eq!(zero.token.len(), TOKEN_LEN);
        assert_eq!(max.token.len(), TOKEN_LEN);
        assert!(zero
            .token
            .starts_with("mcpat_0000000000000000000000000000000000000000000"));
        assert!(parse(&zero.token).is_ok());
        assert!(parse(&max.token).is_ok());
    }

    #[test]
    fn base62_matches_known_value() {
        let mut out = String::new();
        push_base62(&mut out, 3_843u32.to_be_bytes(), 6); // 3843 = 61*62 + 61
        assert_eq!(out, "0000zz");
    }

    fn base62_reference(bytes: &[u8], width: usize) -> String {
        let mut number = bytes.to_vec();
        let mut digits = Vec::new();
        for _ in 0..width {
            let mut remainder = 0u32;
            for byte in &mut number {
                let accumulator = (remainder << 8) | u32::from(*byte);
                *byte = u8::try_from(accumulator / 62).unwrap();
                remainder = accumulator % 62;
            }
            digits.push(ALPHABET[remainder as usize]);
        }
        digits.iter().rev().map(|&d| char::from(d)).collect()
    }

    #[test]
    fn sha256_matches_fips_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn wrong_kind_is_refused_with_both_kinds_named() {
        let refresh = mint(TokenKind::Refresh);
        let err = digest(&refresh.token, TokenKind::Access).unwrap_err();
        assert_eq!(
            err,
            Error::WrongTokenKind {
                expected: TokenKind::Access,
                found: TokenKind::Refresh
            }
        );
        assert!(!err.to_string().contains(&refresh.token[6..]));
    }

    #[test]
    fn flipped_character_fails_checksum() {
        let minted = mint(TokenKind::Access);
        let mut chars: Vec<char> = minted.token.chars().collect();
        chars[10] = if chars[10] == 'a' { 'b' } else { 'a' };
        let mutated: String = chars.into_iter().collect();
        assert_eq!(parse(&mutated), Err(Error::MalformedToken));
    }

    #[test]
    fn garbage_is_malformed() {
        for bad in [
            "",
            "mcpat_",
            "Bearer x",
            "mcpxx_0000000000000000000000000000000000000000000000000",
            "mcpat-0000000000000000000000000000000000000000000000000",
            "mcpat_00000000000000000000000000000000000000000000000!0",
            "mcpat_é000000000000000000000000000000000000000000000000",
        ] {
            assert_eq!(parse(bad), Err(Error::MalformedToken), "{bad:?}");
        }
    }

    #[test]
    fn debug_never_prints_the_token() {
        let minted = mint(TokenKind::ClientSecret);
        assert!(!format!("{minted:?}").contains(&minted.token));
    }

    #[test]
    fn kind_names_round_trip() {
        for kind in TokenKind::ALL {
            assert_eq!(TokenKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(TokenKind::from_name("bearer"), None);
    }

    proptest! {
        #[test]
        fn mint_then_digest_round_trips(bytes in any::<[u8; 32]>(), index in 0usize..6) {
            let kind = TokenKind::ALL[index];
            let minted = mint_from_bytes(kind, bytes);
            prop_assert_eq!(parse(&minted.token).unwrap(), (kind, minted.digest.clone()));
        }

        #[test]
        fn base62_matches_bytewise_reference(bytes in any::<[u8; 32]>(), word in any::<u32>()) {
            let mut fast = String::new();
            push_base62(&mut fast, bytes, PAYLOAD_LEN);
            prop_assert_eq!(fast, base62_reference(&bytes, PAYLOAD_LEN));
            let mut fast = String::new();
            push_base62(&mut fast, word.to_be_bytes(), CHECKSUM_LEN);
            prop_assert_eq!(fast, base62_reference(&word.to_be_bytes(), CHECKSUM_LEN));
        }

        #[test]
        fn distinct_bytes_give_distinct_tokens(a in any::<[u8; 32]>(), b in any::<[u8; 32]>()) {
            prop_assume!(a != b);
            prop_assert_ne!(
                mint_from_bytes(TokenKind::Access, a).token,
                mint_from_bytes(TokenKind::Access, b).token
            );
        }

        #[test]
        fn parse_never_panics(s in ".{0,80}") {
            let _ = parse(&s);
        }

        #[test]
        fn any_single_substitution_in_payload_is_caught(bytes in any::<[u8; 32]>(), pos in 6usize..55, c in "[0-9A-Za-z]") {
            let minted = mint_from_bytes(TokenKind::Access, bytes);
            let mut chars: Vec<char> = minted.token.chars().collect();
            let replacement = c.chars().next().unwrap();
            prop_assume!(chars[pos] != replacement);
            chars[pos] = replacement;
            let mutated: String = chars.into_iter().collect();
            prop_assert_eq!(parse(&mutated), Err(Error::MalformedToken));
        }
    }
}

//! Client secrets: argon2id hashes in PHC string format.
//!
//! Parameters follow the OWASP Password Storage Cheat Sheet's first argon2id
//! configuration: m = 19 MiB, t = 2, p = 1, with a 16-byte random salt. Verification
//! reads the parameters from the stored string, so raising them later keeps old
//! hashes valid; `needs_rehash` says when a stored hash is below the current ones.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{Error, Result};

/// Memory cost in KiB (19 MiB).
pub const MEMORY_KIB: u32 = 19 * 1024;
/// Iterations.
pub const TIME_COST: u32 = 2;
/// Lanes.
pub const PARALLELISM: u32 = 1;
/// Salt length in bytes.
pub const SALT_LEN: usize = 16;
/// Upper bound on the memory a stored hash may ask for (256 MiB): a tampered row
/// must not make one verification exhaust the worker.
const MAX_MEMORY_KIB: u32 = 256 * 1024;
const MAX_TIME_COST: u32 = 16;
const MAX_PARALLELISM: u32 = 8;

fn hasher(params: Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn current_params() -> Params {
    Params::new(MEMORY_KIB, TIME_COST, PARALLELISM, None).expect("constant parameters are valid")
}

/// Hash a secret to an argon2id PHC string with a fresh random salt.
///
/// # Panics
/// Only if the operating system's random source fails.
#[must_use]
pub fn hash(secret: &str) -> String {
    let mut salt_bytes = [0u8; SALT_LEN];
    getrandom::getrandom(&mut salt_bytes).expect("the OS random source failed");
    let salt = SaltString::encode_b64(&salt_bytes).expect("16 bytes is a valid salt length");
    hasher(current_params())
        .hash_password(secret.as_bytes(), &salt)
        .expect("hashing with valid parameters cannot fail")
        .to_string()
}

fn parse_stored(phc: &str) -> Result<PasswordHash<'_>> {
    let parsed = PasswordHash::new(phc).map_err(|_| Error::InvalidSecretHash)?;
    if parsed.algorithm != argon2::ARGON2ID_IDENT {
        return Err(Error::InvalidSecretHash);
    }
    let params = Params::try_from(&parsed).map_err(|_| Error::InvalidSecretHash)?;
    if params.m_cost() > MAX_MEMORY_KIB
        || params.t_cost() > MAX_TIME_COST
        || params.p_cost() > MAX_PARALLELISM
    {
        return Err(Error::InvalidSecretHash);
    }
    if parsed.hash.is_none() || parsed.salt.is_none() {
        return Err(Error::InvalidSecretHash);
    }
    Ok(parsed)
}

/// Verify a presented secret against a stored PHC string (constant time in the
/// hash comparison; the cost is that of the stored parameters).
///
/// # Errors
/// [`Error::InvalidSecretHash`] when the stored string is not an acceptable argon2id
/// PHC string; [`Error::SecretMismatch`] when the secret is wrong.
pub fn verify(secret: &str, phc: &str) -> Result<()> {
    let parsed = parse_stored(phc)?;
    Argon2::default()
        .verify_password(secret.as_bytes(), &parsed)
        .map_err(|err| match err {
            argon2::password_hash::Error::Password => Error::SecretMismatch,
            _ => Error::InvalidSecretHash,
        })
}

/// Whether a stored hash uses weaker parameters than the current ones.
///
/// # Errors
/// [`Error::InvalidSecretHash`] when the stored string is not acceptable.
pub fn needs_rehash(phc: &str) -> Result<bool> {
    let parsed = parse_stored(phc)?;
    let params = Params::try_from(&parsed).map_err(|_| Error::InvalidSecretHash)?;
    Ok(params.m_cost() < MEMORY_KIB
        || params.t_cost() < TIME_COST
        || parsed.version != Some(Version::V0x13.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify() {
        let phc = hash("correct horse");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert_eq!(verify("correct horse", &phc), Ok(()));
        assert_eq!(verify("correct horse!", &phc), Err(Error::SecretMismatch));
        assert_eq!(needs_rehash(&phc), Ok(false));
    }

    #[test]
    fn salts_differ() {
        assert_ne!(hash("same"), hash("same"));
    }

    #[test]
    fn reference_vector_from_another_implementation_verifies() {
        // Produced by argon2-cffi 25.1 (the C reference implementation) with
        // m=19456, t=2, p=1, salt "somesaltsomesalt", for the password "password".
        let phc = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$K13EBUiG7JV+9ZxztmHFTdb7J0WQsnj2V8bZaqyPptE";
        assert_eq!(verify("password", phc), Ok(()));
        assert_eq!(verify("Password", phc), Err(Error::SecretMismatch));
    }

    #[test]
    fn parameters_are_read_from_the_stored_string() {
        let weaker = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).unwrap(),
        );
        let salt = SaltString::encode_b64(&[7u8; 16]).unwrap();
        let phc = weaker.hash_password(b"s3cret", &salt).unwrap().to_string();
        assert_eq!(verify("s3cret", &phc), Ok(()));
        assert_eq!(needs_rehash(&phc), Ok(true));
    }

    #[test]
    fn other_algorithms_and_garbage_are_invalid() {
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, current_params());
        let salt = SaltString::encode_b64(&[1u8; 16]).unwrap();
        let phc = argon2i.hash_password(b"x", &salt).unwrap().to_string();
        assert_eq!(verify("x", &phc), Err(Error::InvalidSecretHash));
        for bad in ["", "plain", "$argon2id$", "$pbkdf2-sha256$29000$abc$def"] {
            assert_eq!(verify("x", bad), Err(Error::InvalidSecretHash), "{bad}");
        }
    }

    #[test]
    fn absurd_stored_cost_is_refused_without_hashing() {
        let phc = "$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$MR2jkfWD8GolDCDwd/Gt8/aDdpN2tvuVq7wkQ3/7hME";
        assert_eq!(verify("password", phc), Err(Error::InvalidSecretHash));
    }

    #[test]
    fn error_text_never_contains_the_secret() {
        let phc = hash("hunter2-very-secret");
        let err = verify("hunter2-wrong", &phc).unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
    }
}

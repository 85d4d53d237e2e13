//! The one error type of the core.
//!
//! Every message is safe to show to a client and to log: no variant carries a
//! token, a verifier, a secret or a hash. Values that an administrator typed
//! (a CIDR line, a redirect URI) may be echoed so the form can say which line
//! is wrong.

use std::fmt;

use crate::token::TokenKind;

/// Why a redirect URI was refused at registration time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectProblem {
    /// Not an absolute URI, or not parseable at all.
    NotAbsolute,
    /// Whitespace or control characters inside the URI.
    IllegalCharacters,
    /// RFC 6749 §3.1.2: the endpoint URI MUST NOT include a fragment.
    Fragment,
    /// Credentials in the authority (`https://user@host/`) hide the real host.
    Userinfo,
    /// `javascript:`, `data:`, `file:` and friends can never be a callback.
    DangerousScheme,
    /// Plain `http` is allowed for loopback hosts only (RFC 8252 §7.3, OAuth 2.1 §2.3.1).
    InsecureHttp,
    /// `https` without a host.
    MissingHost,
    /// Private-use schemes must look like a reversed domain name (RFC 8252 §7.1).
    CustomSchemeWithoutDot,
    /// Private-use schemes are only accepted for administrator-registered clients.
    CustomSchemeNotAllowed,
    /// A URI longer than any real callback; refused to bound storage and matching.
    TooLong,
    /// `*` in a self-registered URI: wildcards are prefix rules, which only an administrator sets.
    Wildcard,
}

impl RedirectProblem {
    /// A stable machine-readable code for the problem.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::NotAbsolute => "not_absolute",
            Self::IllegalCharacters => "illegal_characters",
            Self::Fragment => "fragment",
            Self::Userinfo => "userinfo",
            Self::DangerousScheme => "dangerous_scheme",
            Self::InsecureHttp => "insecure_http",
            Self::MissingHost => "missing_host",
            Self::CustomSchemeWithoutDot => "custom_scheme_without_dot",
            Self::CustomSchemeNotAllowed => "custom_scheme_not_allowed",
            Self::TooLong => "too_long",
            Self::Wildcard => "wildcard",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::NotAbsolute => "it is not an absolute URI",
            Self::IllegalCharacters => "it contains whitespace or control characters",
            Self::Fragment => "it contains a fragment (#...)",
            Self::Userinfo => "it contains a user name or password before the host",
            Self::DangerousScheme => "its scheme can never be a callback",
            Self::InsecureHttp => "plain http is only allowed for 127.0.0.1, [::1] and localhost",
            Self::MissingHost => "it has no host",
            Self::CustomSchemeWithoutDot => {
                "a custom scheme must contain a dot, like com.example.app:/callback"
            }
            Self::CustomSchemeNotAllowed => {
                "custom schemes are only accepted for connections an administrator registers"
            }
            Self::TooLong => "it is longer than 2000 characters",
            Self::Wildcard => {
                "a tool registers exact redirect URIs; wildcards are for connections an administrator registers"
            }
        }
    }
}

/// Every failure the core can report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The presented token is not one this server could have minted.
    MalformedToken,
    /// The token is well formed but of another kind (a refresh token used as an access token).
    WrongTokenKind {
        /// What the caller asked for.
        expected: TokenKind,
        /// What the prefix says it is.
        found: TokenKind,
    },
    /// The PKCE verifier does not follow RFC 7636 §4.1 grammar.
    InvalidVerifier,
    /// The PKCE challenge is not a base64url SHA-256 (RFC 7636 §4.2).
    InvalidChallenge,
    /// Only `S256` is accepted; `plain` and anything else are refused.
    UnsupportedChallengeMethod,
    /// The verifier does not hash to the challenge.
    PkceMismatch,
    /// The stored hash is not an argon2 PHC string this core accepts.
    InvalidSecretHash,
    /// The presented secret does not match the stored hash.
    SecretMismatch,
    /// A redirect URI that can never be registered.
    InvalidRedirectUri(RedirectProblem),
    /// The presented redirect URI matches none registered for the client.
    RedirectUriMismatch,
    /// A policy document that cannot be compiled.
    InvalidPolicy(String),
    /// One line of an IP allowlist is not an address or a CIDR network.
    InvalidCidr {
        /// 1-based line (or list item) number.
        line: usize,
        /// The offending entry, as typed.
        entry: String,
    },
    /// A string that is not an IPv4 or IPv6 address.
    InvalidIpAddress,
    /// An address an outbound fetch must never reach (loopback, private, link-local…).
    ForbiddenAddress(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MalformedToken => f.write_str("malformed token"),
            Self::WrongTokenKind { expected, found } => write!(
                f,
                "wrong token kind: expected {}, got {}",
                expected.name(),
                found.name()
            ),
            Self::InvalidVerifier => f.write_str(
                "code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 4.1)",
            ),
            Self::InvalidChallenge => f.write_str(
                "code_challenge must be the 43-character base64url SHA-256 of the verifier (RFC 7636 4.2)",
            ),
            Self::UnsupportedChallengeMethod => {
                f.write_str("code_challenge_method must be S256")
            }
            Self::PkceMismatch => f.write_str("code_verifier does not match code_challenge"),
            Self::InvalidSecretHash => f.write_str("stored secret hash is not a valid argon2 PHC string"),
            Self::SecretMismatch => f.write_str("secret does not match"),
            Self::InvalidRedirectUri(problem) => {
                write!(f, "invalid redirect URI: {}", problem.describe())
            }
            Self::RedirectUriMismatch => {
                f.write_str("redirect_uri is not registered for this client")
            }
            Self::InvalidPolicy(reason) => write!(f, "invalid policy: {reason}"),
            Self::InvalidCidr { line, entry } => write!(
                f,
                "line {line}: {entry:?} is not an IP address or CIDR network"
            ),
            Self::InvalidIpAddress => f.write_str("not an IP address"),
            Self::ForbiddenAddress(range) => {
                write!(f, "address is in a forbidden range ({range})")
            }
        }
    }
}

impl std::error::Error for Error {}

/// Result alias used throughout the core.
pub type Result<T> = std::result::Result<T, Error>;

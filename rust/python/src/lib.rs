//! `mcp_connect_core`: the Python face of the MCP Connect core.
//!
//! Thin by design: argument conversion, one error mapping, nothing else. Security
//! parameters are keyword-only so a call site always says which value is which.
#![forbid(unsafe_code)]
// pyo3 extracts Python sequences into owned vectors; borrowing is not an option.
#![allow(clippy::needless_pass_by_value)]

use std::net::IpAddr;

use ipnet::IpNet;

use primitives::error::Error;
use primitives::policy::{self, Operation};
use primitives::redirect::ClientKind;
use primitives::token::TokenKind;
use primitives::{ip, pkce, redirect, secret, token};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// The exception classes, defined in Python (`mcp_connect_core/exceptions.py`) and
/// imported here, so the hierarchy, the documentation and the attributes each error
/// carries are written once, in the language that uses them.
mod exceptions {
    pyo3::import_exception!(mcp_connect_core.exceptions, McpCoreError);
    pyo3::import_exception!(mcp_connect_core.exceptions, TokenError);
    pyo3::import_exception!(mcp_connect_core.exceptions, MalformedTokenError);
    pyo3::import_exception!(mcp_connect_core.exceptions, WrongTokenKindError);
    pyo3::import_exception!(mcp_connect_core.exceptions, PkceError);
    pyo3::import_exception!(mcp_connect_core.exceptions, InvalidVerifierError);
    pyo3::import_exception!(mcp_connect_core.exceptions, InvalidChallengeError);
    pyo3::import_exception!(mcp_connect_core.exceptions, UnsupportedChallengeMethodError);
    pyo3::import_exception!(mcp_connect_core.exceptions, PkceMismatchError);
    pyo3::import_exception!(mcp_connect_core.exceptions, SecretError);
    pyo3::import_exception!(mcp_connect_core.exceptions, InvalidSecretHashError);
    pyo3::import_exception!(mcp_connect_core.exceptions, SecretMismatchError);
    pyo3::import_exception!(mcp_connect_core.exceptions, RedirectUriError);
    pyo3::import_exception!(mcp_connect_core.exceptions, InvalidRedirectUriError);
    pyo3::import_exception!(mcp_connect_core.exceptions, RedirectUriMismatchError);
    pyo3::import_exception!(mcp_connect_core.exceptions, PolicyError);
    pyo3::import_exception!(mcp_connect_core.exceptions, InvalidPolicyError);
    pyo3::import_exception!(mcp_connect_core.exceptions, InvalidCidrError);
    pyo3::import_exception!(mcp_connect_core.exceptions, InvalidIpAddressError);
    pyo3::import_exception!(mcp_connect_core.exceptions, ForbiddenAddressError);
}

/// The one mapping from core errors to Python exceptions.
struct CoreError(Error);

impl From<Error> for CoreError {
    fn from(error: Error) -> Self {
        Self(error)
    }
}

impl From<CoreError> for PyErr {
    fn from(CoreError(error): CoreError) -> PyErr {
        use exceptions as e;
        let message = error.to_string();
        match error {
            Error::MalformedToken => e::MalformedTokenError::new_err(message),
            Error::WrongTokenKind { .. } => e::WrongTokenKindError::new_err(message),
            Error::InvalidVerifier => e::InvalidVerifierError::new_err(message),
            Error::InvalidChallenge => e::InvalidChallengeError::new_err(message),
            Error::UnsupportedChallengeMethod => {
                e::UnsupportedChallengeMethodError::new_err(message)
            }
            Error::PkceMismatch => e::PkceMismatchError::new_err(message),
            Error::InvalidSecretHash => e::InvalidSecretHashError::new_err(message),
            Error::SecretMismatch => e::SecretMismatchError::new_err(message),
            Error::InvalidRedirectUri(problem) => {
                e::InvalidRedirectUriError::new_err((message, problem.code()))
            }
            Error::RedirectUriMismatch => e::RedirectUriMismatchError::new_err(message),
            Error::InvalidPolicy(_) => e::InvalidPolicyError::new_err(message),
            Error::InvalidCidr { line, entry } => {
                e::InvalidCidrError::new_err((message, line, entry))
            }
            Error::InvalidIpAddress => e::InvalidIpAddressError::new_err(message),
            Error::ForbiddenAddress(_) => e::ForbiddenAddressError::new_err(message),
        }
    }
}

type CoreResult<T> = Result<T, CoreError>;

fn token_kind(name: &str) -> PyResult<TokenKind> {
    TokenKind::from_name(name).ok_or_else(|| {
        PyValueError::new_err(
            "kind must be one of 'access', 'refresh', 'code', 'client_secret', 'personal', 'client_id'",
        )
    })
}

/// Mint a token of `kind` from 256 bits of OS randomness; return `(token, digest)`.
#[pyfunction]
#[pyo3(signature = (*, kind))]
fn mint_token(kind: &str) -> PyResult<(String, String)> {
    let minted = token::mint(token_kind(kind)?);
    Ok((minted.token, minted.digest))
}

/// Check a presented token of the expected `kind` and return its lookup digest.
#[pyfunction]
#[pyo3(signature = (token, *, kind))]
fn digest_token(token: &str, kind: &str) -> PyResult<String> {
    let expected = token_kind(kind)?;
    Ok(token::digest(token, expected).map_err(CoreError)?)
}

/// Check a presented token of any kind; return `(kind, digest)`.
#[pyfunction]
fn parse_token(token: &str) -> CoreResult<(&'static str, String)> {
    let (kind, digest) = token::parse(token)?;
    Ok((kind.name(), digest))
}

/// Raise unless `verifier` hashes (S256) to `challenge`.
#[pyfunction]
#[pyo3(signature = (*, verifier, challenge, method))]
fn verify_pkce(verifier: &str, challenge: &str, method: &str) -> CoreResult<()> {
    Ok(pkce::verify(verifier, challenge, method)?)
}

/// Raise unless the authorization request's challenge and method are acceptable.
#[pyfunction]
#[pyo3(signature = (*, challenge, method))]
fn check_pkce_challenge(challenge: &str, method: &str) -> CoreResult<()> {
    Ok(pkce::check_challenge(challenge, method)?)
}

/// The S256 challenge of a verifier (for clients and tests).
#[pyfunction]
fn s256_challenge(verifier: &str) -> CoreResult<String> {
    pkce::check_verifier(verifier)?;
    Ok(pkce::s256_challenge(verifier))
}

/// Hash a secret to an argon2id PHC string. Releases the GIL while hashing.
#[pyfunction]
fn hash_secret(py: Python<'_>, secret: &str) -> String {
    py.detach(|| secret::hash(secret))
}

/// Raise unless `secret` matches the stored PHC string. Releases the GIL.
#[pyfunction]
#[pyo3(signature = (*, secret, phc))]
fn verify_secret(py: Python<'_>, secret: &str, phc: &str) -> CoreResult<()> {
    Ok(py.detach(|| secret::verify(secret, phc))?)
}

/// Whether a stored PHC string uses weaker parameters than the current ones.
#[pyfunction]
fn secret_needs_rehash(phc: &str) -> CoreResult<bool> {
    Ok(secret::needs_rehash(phc)?)
}

/// Raise unless `uri` may be registered for a client of `client_kind`
/// (`"custom"`, `"dynamic"` or `"metadata_document"`).
#[pyfunction]
#[pyo3(signature = (uri, *, client_kind))]
fn validate_redirect_uri(uri: &str, client_kind: &str) -> PyResult<()> {
    let kind = ClientKind::from_name(client_kind).ok_or_else(|| {
        PyValueError::new_err("client_kind must be 'custom', 'dynamic' or 'metadata_document'")
    })?;
    Ok(redirect::validate(uri, kind).map_err(CoreError)?)
}

/// Raise unless `prefix` is an acceptable administrator-configured redirect prefix.
#[pyfunction]
fn validate_redirect_prefix(prefix: &str) -> CoreResult<()> {
    Ok(redirect::validate_prefix(prefix)?)
}

/// Return the registered URI (or prefix) that `presented` matches; raise otherwise.
#[pyfunction]
#[pyo3(signature = (presented, *, registered, prefixes = Vec::new()))]
fn match_redirect_uri(
    presented: &str,
    registered: Vec<String>,
    prefixes: Vec<String>,
) -> CoreResult<String> {
    let registered_refs: Vec<&str> = registered.iter().map(String::as_str).collect();
    let prefix_refs: Vec<&str> = prefixes.iter().map(String::as_str).collect();
    let index = redirect::find_match(presented, &registered_refs, &prefix_refs)?;
    Ok(registered
        .into_iter()
        .chain(prefixes)
        .nth(index)
        .expect("index from find_match"))
}

/// Parse an IP address, unwrapping IPv4-mapped IPv6; return its canonical text.
#[pyfunction]
fn normalize_ip(address: &str) -> CoreResult<String> {
    Ok(ip::parse_address(address)?.to_string())
}

/// Parse allowlist entries (addresses or CIDR networks; blanks and `#` comments
/// skipped) and return them in canonical form.
#[pyfunction]
fn parse_ip_allowlist(entries: Vec<String>) -> CoreResult<Vec<String>> {
    let networks = ip::parse_networks(entries.iter().map(String::as_str))?;
    Ok(networks.iter().map(ToString::to_string).collect())
}

/// Raise unless `address` may be the target of an outbound fetch (public unicast).
#[pyfunction]
fn check_public_address(address: &str) -> CoreResult<()> {
    Ok(ip::check_public(ip::parse_address(address)?)?)
}

/// Whether `name` is a valid MCP tool name (`[A-Za-z0-9_.-]{1,128}`), the rule
/// policy documents are checked against.
#[pyfunction]
fn is_tool_name(name: &str) -> bool {
    policy::is_tool_name(name)
}

/// A parsed IP allowlist (addresses and CIDR networks), for membership tests.
#[pyclass(frozen, module = "mcp_connect_core")]
struct IpAllowlist {
    networks: Vec<IpNet>,
}

#[pymethods]
impl IpAllowlist {
    #[new]
    fn new(entries: Vec<String>) -> CoreResult<Self> {
        Ok(Self {
            networks: ip::parse_networks(entries.iter().map(String::as_str))?,
        })
    }

    /// Whether `address` is inside one of the networks; an unknown (`None`) or
    /// unparseable address is not.
    #[pyo3(signature = (address))]
    fn contains(&self, address: Option<&str>) -> bool {
        client_address(address).is_some_and(|ip| ip::contains_any(&self.networks, ip))
    }

    fn __len__(&self) -> usize {
        self.networks.len()
    }

    fn __repr__(&self) -> String {
        let networks: Vec<String> = self.networks.iter().map(ToString::to_string).collect();
        format!("IpAllowlist({networks:?})")
    }
}

/// The result of `Policy.evaluate`.
#[pyclass(frozen, module = "mcp_connect_core")]
struct Decision {
    outcome: &'static str,
    reason: Option<&'static str>,
    message: Option<String>,
}

#[pymethods]
impl Decision {
    /// `"allow"`, `"deny"` or `"needs_approval"`.
    #[getter]
    fn outcome(&self) -> &'static str {
        self.outcome
    }

    /// For a denial, the code of the rule that refused; otherwise `None`.
    #[getter]
    fn reason(&self) -> Option<&'static str> {
        self.reason
    }

    /// For a denial, a sentence naming the rule; otherwise `None`.
    #[getter]
    fn message(&self) -> Option<String> {
        self.message.clone()
    }

    fn __repr__(&self) -> String {
        match self.reason {
            Some(reason) => format!("Decision(outcome={:?}, reason={reason:?})", self.outcome),
            None => format!("Decision(outcome={:?})", self.outcome),
        }
    }
}

impl From<policy::Decision> for Decision {
    fn from(decision: policy::Decision) -> Self {
        match decision {
            policy::Decision::Allow => Self {
                outcome: "allow",
                reason: None,
                message: None,
            },
            policy::Decision::NeedsApproval => Self {
                outcome: "needs_approval",
                reason: None,
                message: None,
            },
            policy::Decision::Deny(reason) => Self {
                outcome: "deny",
                reason: Some(reason.code()),
                message: Some(reason.message()),
            },
        }
    }
}

fn operation(name: Option<&str>) -> PyResult<Option<Operation>> {
    name.map(|n| {
        Operation::from_name(n).ok_or_else(|| {
            PyValueError::new_err("operation must be 'read', 'create', 'write', 'delete' or 'call'")
        })
    })
    .transpose()
}

fn client_address(client_ip: Option<&str>) -> Option<IpAddr> {
    // An address that does not parse is treated as unknown, which an allowlist refuses.
    client_ip.and_then(|text| ip::parse_address(text).ok())
}

/// Build the core's view of one call from the binding's arguments and decide it with `decide`.
fn with_call(
    tool: &str,
    required_scope: &str,
    granted_scopes: &[String],
    model: Option<&str>,
    operation: Option<&str>,
    client_ip: Option<IpAddr>,
    decide: impl FnOnce(&policy::Call<'_>) -> policy::Decision,
) -> PyResult<Decision> {
    let scopes: Vec<&str> = granted_scopes.iter().map(String::as_str).collect();
    let call = policy::Call {
        tool,
        model,
        operation: self::operation(operation)?,
        client_ip,
        granted_scopes: &scopes,
        required_scope,
    };
    Ok(Decision::from(decide(&call)))
}

/// A compiled connection policy.
#[pyclass(frozen, module = "mcp_connect_core")]
struct Policy {
    inner: policy::Policy,
}

#[pymethods]
impl Policy {
    #[new]
    fn new(document: &str) -> CoreResult<Self> {
        Ok(Self {
            inner: policy::Policy::compile(document)?,
        })
    }

    /// Evaluate one call.
    #[pyo3(signature = (*, tool, required_scope, granted_scopes, model = None, operation = None, client_ip = None))]
    fn evaluate(
        &self,
        tool: &str,
        required_scope: &str,
        granted_scopes: Vec<String>,
        model: Option<&str>,
        operation: Option<&str>,
        client_ip: Option<&str>,
    ) -> PyResult<Decision> {
        let client_ip = client_address(client_ip);
        with_call(
            tool,
            required_scope,
            &granted_scopes,
            model,
            operation,
            client_ip,
            |call| self.inner.evaluate(call),
        )
    }

    /// Evaluate one call of a request whose address already passed `allows_ip`.
    #[pyo3(signature = (*, tool, required_scope, granted_scopes, model = None, operation = None))]
    fn evaluate_admitted(
        &self,
        tool: &str,
        required_scope: &str,
        granted_scopes: Vec<String>,
        model: Option<&str>,
        operation: Option<&str>,
    ) -> PyResult<Decision> {
        with_call(
            tool,
            required_scope,
            &granted_scopes,
            model,
            operation,
            None,
            |call| self.inner.evaluate_admitted(call),
        )
    }

    /// Whether the tool is allowed at all.
    fn allows_tool(&self, tool: &str) -> bool {
        self.inner.allows_tool(tool)
    }

    /// Whether the model (and, if given, the operation on it) is allowed.
    #[pyo3(signature = (model, operation = None))]
    fn allows_model(&self, model: &str, operation: Option<&str>) -> PyResult<bool> {
        Ok(self.inner.allows_model(model, self::operation(operation)?))
    }

    /// Whether the tool needs a human approval.
    fn needs_approval(&self, tool: &str) -> bool {
        self.inner.needs_approval(tool)
    }

    /// Whether the client address passes the IP allowlist.
    #[pyo3(signature = (client_ip))]
    fn allows_ip(&self, client_ip: Option<&str>) -> bool {
        self.inner.allows_ip(client_address(client_ip))
    }
}

#[pymodule]
#[pyo3(name = "_native")]
fn init_module(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    // Re-exported under their old home too: `mcp_connect_core._native.TokenError` keeps working.
    let classes = py.import("mcp_connect_core.exceptions")?;
    for name in classes.getattr("__all__")?.extract::<Vec<String>>()? {
        module.add(name.as_str(), classes.getattr(name.as_str())?)?;
    }
    module.add_class::<IpAllowlist>()?;
    module.add_function(wrap_pyfunction!(is_tool_name, module)?)?;
    module.add_class::<Policy>()?;
    module.add_class::<Decision>()?;
    module.add_function(wrap_pyfunction!(mint_token, module)?)?;
    module.add_function(wrap_pyfunction!(digest_token, module)?)?;
    module.add_function(wrap_pyfunction!(parse_token, module)?)?;
    module.add_function(wrap_pyfunction!(verify_pkce, module)?)?;
    module.add_function(wrap_pyfunction!(check_pkce_challenge, module)?)?;
    module.add_function(wrap_pyfunction!(s256_challenge, module)?)?;
    module.add_function(wrap_pyfunction!(hash_secret, module)?)?;
    module.add_function(wrap_pyfunction!(verify_secret, module)?)?;
    module.add_function(wrap_pyfunction!(secret_needs_rehash, module)?)?;
    module.add_function(wrap_pyfunction!(validate_redirect_uri, module)?)?;
    module.add_function(wrap_pyfunction!(validate_redirect_prefix, module)?)?;
    module.add_function(wrap_pyfunction!(match_redirect_uri, module)?)?;
    module.add_function(wrap_pyfunction!(normalize_ip, module)?)?;
    module.add_function(wrap_pyfunction!(parse_ip_allowlist, module)?)?;
    module.add_function(wrap_pyfunction!(check_public_address, module)?)?;
    module.add("TOKEN_KINDS", TokenKind::ALL.map(TokenKind::name).to_vec())?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}

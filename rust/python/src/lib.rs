//! `mcp_connect_core`: the Python face of the MCP Connect core.
//!
//! Thin by design: argument conversion, one error mapping, nothing else. Security
//! parameters are keyword-only so a call site always says which value is which.
#![forbid(unsafe_code)]
// pyo3 extracts Python sequences into owned vectors; borrowing is not an option.
#![allow(clippy::needless_pass_by_value)]

use std::net::IpAddr;

use primitives::error::Error;
use primitives::policy::{self, Operation};
use primitives::redirect::ClientKind;
use primitives::token::TokenKind;
use primitives::{ip, pkce, redirect, secret, token};
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

/// The exception classes, created once at import. Each has a `(base, ...)` list so a
/// class can be both an `McpCoreError` and a `ValueError` where callers expect one.
const EXCEPTIONS: [(&str, &[&str], &str); 20] = [
    (
        "McpCoreError",
        &["Exception"],
        "Base class of every error raised by mcp_connect_core.",
    ),
    (
        "TokenError",
        &["McpCoreError", "ValueError"],
        "A presented token was refused.",
    ),
    (
        "MalformedTokenError",
        &["TokenError"],
        "Not a token this server could have minted (length, alphabet, prefix or checksum).",
    ),
    (
        "WrongTokenKindError",
        &["TokenError"],
        "A well-formed token of another kind (a refresh token used as an access token).",
    ),
    (
        "PkceError",
        &["McpCoreError"],
        "PKCE (RFC 7636) refused the request.",
    ),
    (
        "InvalidVerifierError",
        &["PkceError", "ValueError"],
        "The code_verifier does not follow RFC 7636 section 4.1.",
    ),
    (
        "InvalidChallengeError",
        &["PkceError", "ValueError"],
        "The code_challenge is not a base64url SHA-256.",
    ),
    (
        "UnsupportedChallengeMethodError",
        &["PkceError", "ValueError"],
        "Only S256 is accepted; plain is refused.",
    ),
    (
        "PkceMismatchError",
        &["PkceError"],
        "The code_verifier does not match the code_challenge.",
    ),
    (
        "SecretError",
        &["McpCoreError"],
        "Client secret verification failed.",
    ),
    (
        "InvalidSecretHashError",
        &["SecretError", "ValueError"],
        "The stored hash is not an acceptable argon2id PHC string.",
    ),
    (
        "SecretMismatchError",
        &["SecretError"],
        "The presented secret is wrong.",
    ),
    (
        "RedirectUriError",
        &["McpCoreError", "ValueError"],
        "A redirect URI was refused.",
    ),
    (
        "InvalidRedirectUriError",
        &["RedirectUriError"],
        "The URI can never be registered; `.problem` says which rule it breaks.",
    ),
    (
        "RedirectUriMismatchError",
        &["RedirectUriError"],
        "The URI matches none registered for the client.",
    ),
    (
        "PolicyError",
        &["McpCoreError", "ValueError"],
        "A connection policy could not be compiled.",
    ),
    (
        "InvalidPolicyError",
        &["PolicyError"],
        "Malformed policy document.",
    ),
    (
        "InvalidCidrError",
        &["PolicyError"],
        "An IP allowlist entry is not an address or network; `.line` and `.entry` say which.",
    ),
    (
        "InvalidIpAddressError",
        &["McpCoreError", "ValueError"],
        "Not an IPv4 or IPv6 address.",
    ),
    (
        "ForbiddenAddressError",
        &["McpCoreError", "ValueError"],
        "An outbound fetch target in a loopback, private or otherwise reserved range.",
    ),
];

static EXCEPTION_TYPES: PyOnceLock<Vec<Py<PyType>>> = PyOnceLock::new();

fn exception_types(py: Python<'_>) -> PyResult<&Vec<Py<PyType>>> {
    EXCEPTION_TYPES.get_or_try_init(py, || {
        let builtin_type = py.get_type::<PyType>();
        let mut created: Vec<Py<PyType>> = Vec::with_capacity(EXCEPTIONS.len());
        for (name, bases, doc) in EXCEPTIONS {
            let base_types = bases
                .iter()
                .map(|base| match *base {
                    "Exception" => Ok(py.get_type::<PyException>().into_any()),
                    "ValueError" => Ok(py.get_type::<PyValueError>().into_any()),
                    other => {
                        let index = EXCEPTIONS
                            .iter()
                            .position(|(n, _, _)| *n == other)
                            .ok_or_else(|| {
                                PyValueError::new_err(format!("unknown base {other}"))
                            })?;
                        Ok(created[index].bind(py).clone().into_any())
                    }
                })
                .collect::<PyResult<Vec<_>>>()?;
            let namespace = PyDict::new(py);
            namespace.set_item("__doc__", doc)?;
            namespace.set_item("__module__", "mcp_connect_core")?;
            let class = builtin_type
                .call1((name, PyTuple::new(py, base_types)?, namespace))?
                .cast_into::<PyType>()?;
            created.push(class.unbind());
        }
        Ok(created)
    })
}

fn exception<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyType>> {
    let index = EXCEPTIONS
        .iter()
        .position(|(n, _, _)| *n == name)
        .expect("every raised exception is declared");
    Ok(exception_types(py)?[index].bind(py).clone())
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
        Python::attach(|py| {
            let name = match &error {
                Error::MalformedToken => "MalformedTokenError",
                Error::WrongTokenKind { .. } => "WrongTokenKindError",
                Error::InvalidVerifier => "InvalidVerifierError",
                Error::InvalidChallenge => "InvalidChallengeError",
                Error::UnsupportedChallengeMethod => "UnsupportedChallengeMethodError",
                Error::PkceMismatch => "PkceMismatchError",
                Error::InvalidSecretHash => "InvalidSecretHashError",
                Error::SecretMismatch => "SecretMismatchError",
                Error::InvalidRedirectUri(_) => "InvalidRedirectUriError",
                Error::RedirectUriMismatch => "RedirectUriMismatchError",
                Error::InvalidPolicy(_) => "InvalidPolicyError",
                Error::InvalidCidr { .. } => "InvalidCidrError",
                Error::InvalidIpAddress => "InvalidIpAddressError",
                Error::ForbiddenAddress(_) => "ForbiddenAddressError",
            };
            let build = || -> PyResult<PyErr> {
                let class = exception(py, name)?;
                let instance = class.call1((error.to_string(),))?;
                match &error {
                    Error::InvalidRedirectUri(problem) => {
                        instance.setattr("problem", problem.code())?;
                    }
                    Error::InvalidCidr { line, entry } => {
                        instance.setattr("line", *line)?;
                        instance.setattr("entry", entry.as_str())?;
                    }
                    _ => {}
                }
                Ok(PyErr::from_value(instance))
            };
            build().unwrap_or_else(|err| err)
        })
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
        let scopes: Vec<&str> = granted_scopes.iter().map(String::as_str).collect();
        let call = policy::Call {
            tool,
            model,
            operation: self::operation(operation)?,
            client_ip: client_address(client_ip),
            granted_scopes: &scopes,
            required_scope,
        };
        Ok(match self.inner.evaluate(&call) {
            policy::Decision::Allow => Decision {
                outcome: "allow",
                reason: None,
                message: None,
            },
            policy::Decision::NeedsApproval => Decision {
                outcome: "needs_approval",
                reason: None,
                message: None,
            },
            policy::Decision::Deny(reason) => Decision {
                outcome: "deny",
                reason: Some(reason.code()),
                message: Some(reason.message()),
            },
        })
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
    for ((name, _, _), class) in EXCEPTIONS.iter().zip(exception_types(py)?) {
        module.add(*name, class.bind(py))?;
    }
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

//! Redirect URI rules.
//!
//! Registration: RFC 6749 §3.1.2, OAuth 2.1 §2.3 and RFC 8252 (native apps).
//! Matching: simple string comparison (OAuth 2.1 §4.1.3, RFC 9700 §4.1.3), with two
//! exceptions only: loopback redirects on any port (RFC 8252 §7.3) and
//! administrator-configured prefixes for clients whose callback carries a
//! per-connector segment (`https://chatgpt.com/connector/oauth/<id>`).

use url::{Host, Url};

use crate::error::{Error, RedirectProblem, Result};

/// Longest redirect URI accepted.
pub const MAX_LEN: usize = 2000;
/// Longest segment a prefix match may add.
const MAX_PREFIX_TAIL: usize = 128;

/// Who registered the client, which decides the schemes it may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    /// Registered by an administrator in Odoo (Custom OAuth).
    Custom,
    /// Registered by the tool itself through RFC 7591 dynamic registration.
    Dynamic,
    /// Described by a client ID metadata document the tool publishes.
    MetadataDocument,
}

impl ClientKind {
    /// Parse a binding name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "custom" => Some(Self::Custom),
            "dynamic" => Some(Self::Dynamic),
            "metadata_document" => Some(Self::MetadataDocument),
            _ => None,
        }
    }
}

const DANGEROUS_SCHEMES: [&str; 10] = [
    "javascript",
    "data",
    "file",
    "vbscript",
    "about",
    "blob",
    "filesystem",
    "view-source",
    "ws",
    "wss",
];

fn invalid(problem: RedirectProblem) -> Error {
    Error::InvalidRedirectUri(problem)
}

/// The scheme as written, if the string starts with a syntactically valid one.
fn raw_scheme(uri: &str) -> Option<&str> {
    let (scheme, _) = uri.split_once(':')?;
    let mut bytes = scheme.bytes();
    let first = bytes.next()?;
    (first.is_ascii_alphabetic()
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))
    .then_some(scheme)
}

/// The authority component as written (`//authority/...`), if any.
fn raw_authority(uri: &str) -> Option<&str> {
    let rest = uri.split_once(':')?.1.strip_prefix("//")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&rest[..end])
}

fn is_loopback_host(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => *ip == std::net::Ipv4Addr::LOCALHOST,
        Host::Ipv6(ip) => *ip == std::net::Ipv6Addr::LOCALHOST,
    }
}

/// Check that `uri` may be registered as a redirect URI for a client of `kind`.
///
/// # Errors
/// [`Error::InvalidRedirectUri`] naming the first rule the URI breaks.
pub fn validate(uri: &str, kind: ClientKind) -> Result<()> {
    if uri.len() > MAX_LEN {
        return Err(invalid(RedirectProblem::TooLong));
    }
    if uri.bytes().any(|b| !b.is_ascii_graphic()) {
        return Err(invalid(RedirectProblem::IllegalCharacters));
    }
    if uri.contains('#') {
        return Err(invalid(RedirectProblem::Fragment));
    }
    // A stored line ending in `*` is a prefix rule; a tool never gets one by registering itself.
    if kind != ClientKind::Custom && uri.contains('*') {
        return Err(invalid(RedirectProblem::Wildcard));
    }
    let scheme = raw_scheme(uri)
        .ok_or(invalid(RedirectProblem::NotAbsolute))?
        .to_ascii_lowercase();
    if DANGEROUS_SCHEMES.contains(&scheme.as_str()) {
        return Err(invalid(RedirectProblem::DangerousScheme));
    }
    if raw_authority(uri).is_some_and(|authority| authority.contains('@')) {
        return Err(invalid(RedirectProblem::Userinfo));
    }
    let parsed = Url::parse(uri).map_err(|_| invalid(RedirectProblem::NotAbsolute))?;
    match scheme.as_str() {
        "https" => {
            if parsed.host_str().is_none_or(str::is_empty) {
                return Err(invalid(RedirectProblem::MissingHost));
            }
        }
        "http" => {
            if !parsed.host().as_ref().is_some_and(is_loopback_host) {
                return Err(invalid(RedirectProblem::InsecureHttp));
            }
        }
        _ => {
            if kind != ClientKind::Custom {
                return Err(invalid(RedirectProblem::CustomSchemeNotAllowed));
            }
            // RFC 8252 §7.1 asks for a reversed domain name as the scheme. Some deployed
            // tools put the domain in the authority instead (cursor://anysphere.cursor-mcp/…);
            // either way the URI must name its vendor.
            let authority_names_vendor = raw_authority(uri).is_some_and(|a| a.contains('.'));
            if !scheme.contains('.') && !authority_names_vendor {
                return Err(invalid(RedirectProblem::CustomSchemeWithoutDot));
            }
        }
    }
    Ok(())
}

/// Check an administrator-configured redirect prefix (`https://host/path/`).
///
/// # Errors
/// [`Error::InvalidRedirectUri`] when the prefix is not an https URL ending in `/`
/// with a path, or breaks any registration rule.
pub fn validate_prefix(prefix: &str) -> Result<()> {
    validate(prefix, ClientKind::Dynamic)?;
    let parsed = Url::parse(prefix).map_err(|_| invalid(RedirectProblem::NotAbsolute))?;
    if parsed.scheme() != "https"
        || !prefix.ends_with('/')
        || parsed.path() == "/"
        || parsed.query().is_some()
    {
        return Err(invalid(RedirectProblem::NotAbsolute));
    }
    Ok(())
}

/// Loopback redirects match on everything but the port (RFC 8252 §7.3).
fn loopback_equivalent(presented: &Url, registered: &Url) -> bool {
    presented.scheme() == "http"
        && registered.scheme() == "http"
        && presented.host().as_ref().is_some_and(is_loopback_host)
        && presented.host_str() == registered.host_str()
        && presented.path() == registered.path()
        && presented.query() == registered.query()
}

fn prefix_equivalent(presented: &str, prefix: &str) -> bool {
    presented.strip_prefix(prefix).is_some_and(|tail| {
        !tail.is_empty()
            && tail.len() <= MAX_PREFIX_TAIL
            && tail
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
    })
}

/// Find the registered redirect URI that `presented` matches.
///
/// Returns the index into `registered`, or `registered.len() + i` for the prefix
/// `prefixes[i]` that matched.
///
/// # Errors
/// [`Error::RedirectUriMismatch`] when nothing matches; the presented URI is never
/// echoed.
pub fn find_match(presented: &str, registered: &[&str], prefixes: &[&str]) -> Result<usize> {
    if let Some(index) = registered.iter().position(|r| *r == presented) {
        return Ok(index);
    }
    // Anything beyond an exact match must itself be a valid redirect URI.
    if presented.len() > MAX_LEN
        || presented.bytes().any(|b| !b.is_ascii_graphic())
        || presented.contains('#')
        || raw_authority(presented).is_some_and(|a| a.contains('@'))
    {
        return Err(Error::RedirectUriMismatch);
    }
    if let Ok(presented_url) = Url::parse(presented) {
        if presented_url.scheme() == "http" {
            for (index, candidate) in registered.iter().enumerate() {
                if let Ok(candidate_url) = Url::parse(candidate) {
                    if loopback_equivalent(&presented_url, &candidate_url) {
                        return Ok(index);
                    }
                }
            }
        }
    }
    prefixes
        .iter()
        .position(|prefix| prefix_equivalent(presented, prefix))
        .map(|i| registered.len() + i)
        .ok_or(Error::RedirectUriMismatch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn problem(uri: &str, kind: ClientKind) -> Option<RedirectProblem> {
        match validate(uri, kind) {
            Ok(()) => None,
            Err(Error::InvalidRedirectUri(p)) => Some(p),
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn real_clients_callbacks_are_accepted() {
        for uri in [
            "https://claude.ai/api/mcp/auth_callback",
            "https://claude.com/api/mcp/auth_callback",
            "https://chatgpt.com/connector_platform_oauth_redirect",
            "https://chatgpt.com/connector/oauth/abc123",
            "http://localhost:33418/callback",
            "http://127.0.0.1:7777/oauth/callback",
            "http://[::1]:8080/cb",
            "https://oauth.n8n.cloud/oauth2/callback",
        ] {
            assert_eq!(problem(uri, ClientKind::Dynamic), None, "{uri}");
        }
        assert_eq!(
            problem(
                "cursor://anysphere.cursor-mcp/oauth/callback",
                ClientKind::Custom
            ),
            None
        );
        assert_eq!(
            problem("com.example.app:/oauth2redirect", ClientKind::Custom),
            None
        );
    }

    #[test]
    fn refused_uris_say_why() {
        use RedirectProblem as P;
        let cases = [
            ("https://claude.ai/cb#frag", P::Fragment),
            ("https://evil@claude.ai/cb", P::Userinfo),
            ("https://user:pw@claude.ai/cb", P::Userinfo),
            ("https://@claude.ai/cb", P::Userinfo),
            ("http://claude.ai/cb", P::InsecureHttp),
            ("http://127.0.0.2/cb", P::InsecureHttp),
            ("http://localhost.evil.com/cb", P::InsecureHttp),
            ("javascript:alert(1)", P::DangerousScheme),
            ("JavaScript:alert(1)", P::DangerousScheme),
            ("data:text/html,hi", P::DangerousScheme),
            ("file:///etc/passwd", P::DangerousScheme),
            ("/relative/cb", P::NotAbsolute),
            ("claude.ai/cb", P::NotAbsolute),
            ("", P::NotAbsolute),
            ("https://claude.ai/c b", P::IllegalCharacters),
            ("https://claude.ai/cb\n", P::IllegalCharacters),
            ("https://claudé.ai/cb", P::IllegalCharacters),
            ("myapp:/cb", P::CustomSchemeNotAllowed),
            (
                "cursor://anysphere.cursor-mcp/oauth/callback",
                P::CustomSchemeNotAllowed,
            ),
        ];
        for (uri, expected) in cases {
            assert_eq!(problem(uri, ClientKind::Dynamic), Some(expected), "{uri}");
        }
        assert_eq!(
            problem("myapp:/cb", ClientKind::Custom),
            Some(P::CustomSchemeWithoutDot)
        );
        assert_eq!(
            problem("myapp://host/cb", ClientKind::Custom),
            Some(P::CustomSchemeWithoutDot)
        );
        assert_eq!(
            problem("com.example.app:/cb", ClientKind::MetadataDocument),
            Some(P::CustomSchemeNotAllowed)
        );
        for uri in ["https://evil.example/cb/*", "https://evil.example/*/cb"] {
            assert_eq!(
                problem(uri, ClientKind::Dynamic),
                Some(P::Wildcard),
                "{uri}"
            );
            assert_eq!(
                problem(uri, ClientKind::MetadataDocument),
                Some(P::Wildcard),
                "{uri}"
            );
        }
        assert_eq!(
            problem(
                &format!("https://a.b/{}", "x".repeat(2000)),
                ClientKind::Dynamic
            ),
            Some(P::TooLong)
        );
    }

    #[test]
    fn exact_match_first() {
        let registered = ["https://claude.ai/api/mcp/auth_callback"];
        assert_eq!(
            find_match("https://claude.ai/api/mcp/auth_callback", &registered, &[]),
            Ok(0)
        );
    }

    #[test]
    fn near_misses_do_not_match() {
        let registered = ["https://claude.ai/api/mcp/auth_callback"];
        for presented in [
            "https://claude.ai/api/mcp/auth_callback/",
            "https://claude.ai/api/mcp/auth_callback?x=1",
            "https://Claude.ai/api/mcp/auth_callback",
            "https://claude.ai.evil.com/api/mcp/auth_callback",
            "https://claude.ai/api/mcp/auth_callback#x",
            "https://claude.ai:443/api/mcp/auth_callback",
            "https://claude.ai/api/mcp/AUTH_CALLBACK",
            "https://claude.ai/api/mcp/auth_callback/../x",
        ] {
            assert_eq!(
                find_match(presented, &registered, &[]),
                Err(Error::RedirectUriMismatch),
                "{presented}"
            );
        }
    }

    #[test]
    fn loopback_matches_any_port_but_nothing_else() {
        let registered = [
            "http://127.0.0.1/callback",
            "http://localhost:3000/cb",
            "http://[::1]/x",
        ];
        assert_eq!(
            find_match("http://127.0.0.1:51234/callback", &registered, &[]),
            Ok(0)
        );
        assert_eq!(find_match("http://localhost:9/cb", &registered, &[]), Ok(1));
        assert_eq!(find_match("http://[::1]:4000/x", &registered, &[]), Ok(2));
        for presented in [
            "http://127.0.0.1:51234/other",
            "http://127.0.0.1:51234/callback?x=1",
            "http://localhost:51234/callback",
            "https://127.0.0.1:51234/callback",
            "http://evil@127.0.0.1:1/callback",
            "http://127.0.0.1:1/callback#f",
        ] {
            assert_eq!(
                find_match(presented, &registered, &[]),
                Err(Error::RedirectUriMismatch),
                "{presented}"
            );
        }
    }

    #[test]
    fn prefixes_match_one_safe_segment() {
        let prefixes = ["https://chatgpt.com/connector/oauth/"];
        assert_eq!(
            find_match(
                "https://chatgpt.com/connector/oauth/abc-DEF_123",
                &[],
                &prefixes
            ),
            Ok(0)
        );
        assert_eq!(
            find_match(
                "https://chatgpt.com/connector/oauth/abc",
                &["https://x.y/z"],
                &prefixes
            ),
            Ok(1)
        );
        for presented in [
            "https://chatgpt.com/connector/oauth/",
            "https://chatgpt.com/connector/oauth/a/b",
            "https://chatgpt.com/connector/oauth/..",
            "https://chatgpt.com/connector/oauth/a?next=https://evil",
            "https://chatgpt.com/connector/oauth/a%2F..",
            "https://chatgpt.com/connector/oauthx",
            "https://chatgpt.com.evil.com/connector/oauth/a",
        ] {
            assert_eq!(
                find_match(presented, &[], &prefixes),
                Err(Error::RedirectUriMismatch),
                "{presented}"
            );
        }
    }

    #[test]
    fn prefix_rules() {
        assert_eq!(
            validate_prefix("https://chatgpt.com/connector/oauth/"),
            Ok(())
        );
        for bad in [
            "https://chatgpt.com/connector/oauth",
            "https://chatgpt.com/",
            "http://chatgpt.com/connector/",
            "https://chatgpt.com/a/?x=",
        ] {
            assert!(validate_prefix(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn client_kind_names() {
        assert_eq!(ClientKind::from_name("custom"), Some(ClientKind::Custom));
        assert_eq!(ClientKind::from_name("dynamic"), Some(ClientKind::Dynamic));
        assert_eq!(
            ClientKind::from_name("metadata_document"),
            Some(ClientKind::MetadataDocument)
        );
        assert_eq!(ClientKind::from_name("public"), None);
    }

    proptest! {
        #[test]
        fn validate_and_match_never_panic(uri in ".{0,120}") {
            let _ = validate(&uri, ClientKind::Custom);
            let _ = validate(&uri, ClientKind::Dynamic);
            let _ = find_match(&uri, &["http://127.0.0.1/cb", "https://a.b/c"], &["https://a.b/p/"]);
        }

        #[test]
        fn a_valid_https_uri_always_matches_itself(path in "[a-z0-9/_-]{0,40}") {
            let uri = format!("https://example.com/{path}");
            prop_assert_eq!(validate(&uri, ClientKind::Dynamic), Ok(()));
            prop_assert_eq!(find_match(&uri, &[uri.as_str()], &[]), Ok(0));
        }

        #[test]
        fn any_port_matches_a_loopback_registration(port in 1u16..) {
            let presented = format!("http://127.0.0.1:{port}/callback");
            prop_assert_eq!(find_match(&presented, &["http://127.0.0.1/callback"], &[]), Ok(0));
        }
    }
}

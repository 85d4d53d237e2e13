//! Connection policies: compiled once when a connection changes, evaluated on
//! every MCP call.
//!
//! A policy only narrows what Odoo's own access rights allow; it never grants.
//!
//! ```json
//! {
//!   "allowed_tools": ["search_records", "read_records"],
//!   "allowed_models": {"res.partner": ["read", "write"], "sale.order": null},
//!   "approval_tools": ["delete_records"],
//!   "ip_allowlist": ["10.0.0.0/8", "2001:db8::/32"],
//!   "allowed_scopes": ["mcp:read"]
//! }
//! ```
//! A missing or `null` list means "no restriction from this rule"; an empty list
//! for `allowed_tools`, `allowed_models` or `allowed_scopes` allows nothing.
//! `null` operations for a model allow every operation.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::ip;

/// Largest policy document accepted.
pub const MAX_DOCUMENT_LEN: usize = 1 << 20;
const MAX_NAME_LEN: usize = 128;

/// What a tool does to a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Search, read, count, aggregate.
    Read,
    /// Create records.
    Create,
    /// Update records, post messages, schedule activities.
    Write,
    /// Delete records.
    Delete,
    /// Call a public model method.
    Call,
}

impl Operation {
    /// Parse a policy or binding name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "read" => Some(Self::Read),
            "create" => Some(Self::Create),
            "write" => Some(Self::Write),
            "delete" => Some(Self::Delete),
            "call" => Some(Self::Call),
            _ => None,
        }
    }

    /// The policy name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Create => "create",
            Self::Write => "write",
            Self::Delete => "delete",
            Self::Call => "call",
        }
    }
}

/// Which rule refused a call. The text names the rule, never the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DenyReason {
    /// The client address is outside the allowlist (or unknown while one is set).
    IpNotAllowed,
    /// The token lacks the scope the tool needs.
    InsufficientScope(String),
    /// The connection does not allow this tool.
    ToolNotAllowed(String),
    /// The connection does not allow this model.
    ModelNotAllowed(String),
    /// The connection allows the model but not this operation on it.
    OperationNotAllowed {
        /// Model name.
        model: String,
        /// Refused operation.
        operation: Operation,
    },
}

impl DenyReason {
    /// Stable code for clients, logs and the audit trail.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::IpNotAllowed => "ip_not_allowed",
            Self::InsufficientScope(_) => "insufficient_scope",
            Self::ToolNotAllowed(_) => "tool_not_allowed",
            Self::ModelNotAllowed(_) => "model_not_allowed",
            Self::OperationNotAllowed { .. } => "operation_not_allowed",
        }
    }

    /// Human-readable explanation naming the refusing rule.
    #[must_use]
    pub fn message(&self) -> String {
        match self {
            Self::IpNotAllowed => {
                "this connection only accepts calls from its IP allowlist".to_string()
            }
            Self::InsufficientScope(scope) => {
                format!("this call needs the {scope} scope, which the token was not granted")
            }
            Self::ToolNotAllowed(tool) => {
                format!("the tool {tool} is not allowed for this connection")
            }
            Self::ModelNotAllowed(model) => {
                format!("the model {model} is not allowed for this connection")
            }
            Self::OperationNotAllowed { model, operation } => format!(
                "the operation {} on {model} is not allowed for this connection",
                operation.name()
            ),
        }
    }
}

/// The outcome of evaluating a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Run it.
    Allow,
    /// Refuse it, saying which rule refused.
    Deny(DenyReason),
    /// Hold it for a human approver.
    NeedsApproval,
}

/// One call to evaluate.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// Tool name.
    pub tool: &'a str,
    /// Model the call touches, if any.
    pub model: Option<&'a str>,
    /// What the call does to the model.
    pub operation: Option<Operation>,
    /// The client's address as the server sees it, if known.
    pub client_ip: Option<IpAddr>,
    /// Scopes granted to the token.
    pub granted_scopes: &'a [&'a str],
    /// Scope the tool needs.
    pub required_scope: &'a str,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    #[serde(default)]
    allowed_tools: Option<Vec<String>>,
    #[serde(default)]
    allowed_models: Option<BTreeMap<String, Option<Vec<String>>>>,
    #[serde(default)]
    approval_tools: Vec<String>,
    #[serde(default)]
    ip_allowlist: Vec<String>,
    #[serde(default)]
    allowed_scopes: Option<Vec<String>>,
}

/// A compiled policy.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    allowed_tools: Option<HashSet<String>>,
    /// Model → allowed operations (`None` = every operation).
    allowed_models: Option<HashMap<String, Option<HashSet<Operation>>>>,
    approval_tools: HashSet<String>,
    ip_allowlist: Vec<IpNet>,
    allowed_scopes: Option<HashSet<String>>,
}

fn check_name(kind: &str, name: &str, extra: fn(u8) -> bool) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || extra(b));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidPolicy(format!(
            "{kind} name {:?} is not valid",
            name.chars().take(MAX_NAME_LEN).collect::<String>()
        )))
    }
}

fn is_tool_name_byte(b: u8) -> bool {
    matches!(b, b'_' | b'-' | b'.')
}

/// Whether `name` is a valid MCP tool name: `[A-Za-z0-9_.-]{1,128}`. The one
/// definition of the rule, for policy documents here and tool definitions in Python.
#[must_use]
pub fn is_tool_name(name: &str) -> bool {
    check_name("tool", name, is_tool_name_byte).is_ok()
}

fn tool_names(names: Vec<String>) -> Result<HashSet<String>> {
    for name in &names {
        check_name("tool", name, is_tool_name_byte)?;
    }
    Ok(names.into_iter().collect())
}

fn scope_names(names: Vec<String>) -> Result<HashSet<String>> {
    for name in &names {
        // RFC 6749 §3.3 allows more, but every scope this server defines fits this.
        check_name("scope", name, |b| matches!(b, b'_' | b'-' | b'.' | b':'))?;
    }
    Ok(names.into_iter().collect())
}

impl Policy {
    /// Compile a policy document.
    ///
    /// # Errors
    /// [`Error::InvalidPolicy`] for malformed JSON, unknown keys, bad names or
    /// operations; [`Error::InvalidCidr`] for a bad allowlist entry.
    pub fn compile(json: &str) -> Result<Self> {
        if json.len() > MAX_DOCUMENT_LEN {
            return Err(Error::InvalidPolicy("document is larger than 1 MiB".into()));
        }
        // serde's messages name the field and position; a policy holds no secret.
        let invalid = |err: serde_json::Error| Error::InvalidPolicy(err.to_string());
        // Parsed as an object first: serde would otherwise accept `[]` as a struct.
        let object: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(json).map_err(invalid)?;
        let document: Document =
            serde_json::from_value(serde_json::Value::Object(object)).map_err(invalid)?;
        let allowed_tools = document.allowed_tools.map(tool_names).transpose()?;
        let approval_tools = tool_names(document.approval_tools)?;
        let allowed_scopes = document.allowed_scopes.map(scope_names).transpose()?;
        let allowed_models = match document.allowed_models {
            None => None,
            Some(models) => {
                let mut compiled = HashMap::with_capacity(models.len());
                for (model, operations) in models {
                    check_name("model", &model, |b| matches!(b, b'.' | b'_'))?;
                    let operations = operations
                        .map(|names| {
                            names
                                .iter()
                                .map(|name| {
                                    Operation::from_name(name).ok_or_else(|| {
                                        Error::InvalidPolicy(format!(
                                            "unknown operation {:?} for {model}",
                                            name.chars().take(32).collect::<String>()
                                        ))
                                    })
                                })
                                .collect::<Result<HashSet<_>>>()
                        })
                        .transpose()?;
                    compiled.insert(model, operations);
                }
                Some(compiled)
            }
        };
        let ip_allowlist = ip::parse_networks(document.ip_allowlist.iter().map(String::as_str))?;
        Ok(Self {
            allowed_tools,
            allowed_models,
            approval_tools,
            ip_allowlist,
            allowed_scopes,
        })
    }

    /// Evaluate a call. Rules are checked in a fixed order (network, scope, tool,
    /// model, operation, approval) so the same call always gets the same answer.
    #[must_use]
    pub fn evaluate(&self, call: &Call<'_>) -> Decision {
        if !self.allows_ip(call.client_ip) {
            return Decision::Deny(DenyReason::IpNotAllowed);
        }
        self.evaluate_admitted(call)
    }

    /// Evaluate a call whose client address the caller has already checked with
    /// [`Policy::allows_ip`] (once per request): every rule but the network one, in
    /// the order of [`Policy::evaluate`]; `call.client_ip` is not read.
    #[must_use]
    pub fn evaluate_admitted(&self, call: &Call<'_>) -> Decision {
        let scope_granted = call.granted_scopes.contains(&call.required_scope)
            && self
                .allowed_scopes
                .as_ref()
                .is_none_or(|allowed| allowed.contains(call.required_scope));
        if !scope_granted {
            return Decision::Deny(DenyReason::InsufficientScope(
                call.required_scope.to_string(),
            ));
        }
        if !self.allows_tool(call.tool) {
            return Decision::Deny(DenyReason::ToolNotAllowed(call.tool.to_string()));
        }
        if let Some(model) = call.model {
            if let Some(reason) = self.model_refusal(model, call.operation) {
                return Decision::Deny(reason);
            }
        }
        if self.approval_tools.contains(call.tool) {
            return Decision::NeedsApproval;
        }
        Decision::Allow
    }

    /// Whether the tool is allowed at all (for `tools/list`).
    #[must_use]
    pub fn allows_tool(&self, tool: &str) -> bool {
        self.allowed_tools
            .as_ref()
            .is_none_or(|tools| tools.contains(tool))
    }

    /// Whether the model (and, if given, the operation on it) is allowed.
    #[must_use]
    pub fn allows_model(&self, model: &str, operation: Option<Operation>) -> bool {
        self.model_refusal(model, operation).is_none()
    }

    /// Whether the tool needs a human approval before it runs.
    #[must_use]
    pub fn needs_approval(&self, tool: &str) -> bool {
        self.approval_tools.contains(tool)
    }

    /// Whether the client address passes the allowlist.
    #[must_use]
    pub fn allows_ip(&self, client_ip: Option<IpAddr>) -> bool {
        self.ip_allowlist.is_empty()
            || client_ip.is_some_and(|ip| ip::contains_any(&self.ip_allowlist, ip))
    }

    fn model_refusal(&self, model: &str, operation: Option<Operation>) -> Option<DenyReason> {
        let models = self.allowed_models.as_ref()?;
        let Some(operations) = models.get(model) else {
            return Some(DenyReason::ModelNotAllowed(model.to_string()));
        };
        match (operations, operation) {
            (Some(allowed), Some(op)) if !allowed.contains(&op) => {
                Some(DenyReason::OperationNotAllowed {
                    model: model.to_string(),
                    operation: op,
                })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const READ: &str = "mcp:read";
    const WRITE: &str = "mcp:write";

    fn call<'a>(
        tool: &'a str,
        model: Option<&'a str>,
        operation: Option<Operation>,
        ip: Option<&str>,
        scopes: &'a [&'a str],
        required: &'a str,
    ) -> Call<'a> {
        Call {
            tool,
            model,
            operation,
            client_ip: ip.map(|s| s.parse().unwrap()),
            granted_scopes: scopes,
            required_scope: required,
        }
    }

    #[test]
    fn empty_policy_allows_within_scope() {
        let policy = Policy::compile("{}").unwrap();
        let scopes = [READ];
        assert_eq!(
            policy.evaluate(&call(
                "search_records",
                Some("res.partner"),
                Some(Operation::Read),
                None,
                &scopes,
                READ
            )),
            Decision::Allow
        );
        assert_eq!(
            policy.evaluate(&call(
                "create_records",
                Some("res.partner"),
                Some(Operation::Create),
                None,
                &scopes,
                WRITE
            )),
            Decision::Deny(DenyReason::InsufficientScope(WRITE.into()))
        );
    }

    #[test]
    #[allow(clippy::too_many_lines)] // one table of cases reads best in one place
    fn each_rule_refuses_with_its_own_reason() {
        let policy = Policy::compile(
            r#"{"allowed_tools": ["search_records", "update_records", "delete_records"],
                "allowed_models": {"res.partner": ["read", "write"], "crm.lead": null},
                "approval_tools": ["delete_records"],
                "ip_allowlist": ["10.0.0.0/8", "2001:db8::/32"],
                "allowed_scopes": ["mcp:read", "mcp:write"]}"#,
        )
        .unwrap();
        let scopes = [READ, WRITE];
        let inside = Some("10.1.1.1");
        let partner = Some("res.partner");
        let read = Some(Operation::Read);
        let cases = [
            (
                call("search_records", partner, read, inside, &scopes, READ),
                Decision::Allow,
            ),
            (
                call(
                    "search_records",
                    partner,
                    read,
                    Some("2001:db8::9"),
                    &scopes,
                    READ,
                ),
                Decision::Allow,
            ),
            (
                call(
                    "search_records",
                    partner,
                    read,
                    Some("::ffff:10.2.3.4"),
                    &scopes,
                    READ,
                ),
                Decision::Allow,
            ),
            (
                call(
                    "search_records",
                    partner,
                    read,
                    Some("11.0.0.1"),
                    &scopes,
                    READ,
                ),
                Decision::Deny(DenyReason::IpNotAllowed),
            ),
            (
                call("search_records", partner, read, None, &scopes, READ),
                Decision::Deny(DenyReason::IpNotAllowed),
            ),
            (
                call("count_records", partner, read, inside, &scopes, READ),
                Decision::Deny(DenyReason::ToolNotAllowed("count_records".into())),
            ),
            (
                call(
                    "search_records",
                    Some("res.users"),
                    read,
                    inside,
                    &scopes,
                    READ,
                ),
                Decision::Deny(DenyReason::ModelNotAllowed("res.users".into())),
            ),
            (
                call(
                    "update_records",
                    partner,
                    Some(Operation::Delete),
                    inside,
                    &scopes,
                    WRITE,
                ),
                Decision::Deny(DenyReason::OperationNotAllowed {
                    model: "res.partner".into(),
                    operation: Operation::Delete,
                }),
            ),
            (
                call(
                    "update_records",
                    Some("crm.lead"),
                    Some(Operation::Delete),
                    inside,
                    &scopes,
                    WRITE,
                ),
                Decision::Allow,
            ),
            (
                call(
                    "delete_records",
                    Some("crm.lead"),
                    Some(Operation::Delete),
                    inside,
                    &scopes,
                    WRITE,
                ),
                Decision::NeedsApproval,
            ),
        ];
        for (index, (c, expected)) in cases.iter().enumerate() {
            assert_eq!(&policy.evaluate(c), expected, "case {index}");
        }
    }

    #[test]
    fn connection_scope_ceiling_applies_even_when_token_has_more() {
        let policy = Policy::compile(r#"{"allowed_scopes": ["mcp:read"]}"#).unwrap();
        let scopes = [READ, WRITE];
        assert_eq!(
            policy.evaluate(&call("create_records", None, None, None, &scopes, WRITE)),
            Decision::Deny(DenyReason::InsufficientScope(WRITE.into()))
        );
    }

    #[test]
    fn empty_lists_allow_nothing() {
        let policy = Policy::compile(r#"{"allowed_tools": [], "allowed_models": {}}"#).unwrap();
        assert!(!policy.allows_tool("whoami"));
        assert!(!policy.allows_model("res.partner", None));
    }

    #[test]
    fn admitted_calls_skip_only_the_network_rule() {
        let policy = Policy::compile(
            r#"{"ip_allowlist": ["10.0.0.0/8"], "allowed_tools": ["search_records"], "approval_tools": ["search_records"]}"#,
        )
        .unwrap();
        let scopes = ["mcp:read"];
        let call = |tool, client_ip| Call {
            tool,
            model: None,
            operation: None,
            client_ip,
            granted_scopes: &scopes,
            required_scope: "mcp:read",
        };
        assert_eq!(
            policy.evaluate(&call("search_records", None)),
            Decision::Deny(DenyReason::IpNotAllowed)
        );
        assert_eq!(
            policy.evaluate_admitted(&call("search_records", None)),
            Decision::NeedsApproval
        );
        assert_eq!(
            policy.evaluate_admitted(&call("whoami", None)),
            Decision::Deny(DenyReason::ToolNotAllowed("whoami".into()))
        );
    }

    #[test]
    fn model_checks_without_operation() {
        let policy = Policy::compile(r#"{"allowed_models": {"res.partner": ["read"]}}"#).unwrap();
        assert!(policy.allows_model("res.partner", None));
        assert!(policy.allows_model("res.partner", Some(Operation::Read)));
        assert!(!policy.allows_model("res.partner", Some(Operation::Write)));
        assert!(!policy.allows_model("sale.order", None));
        assert!(policy.allows_ip(None));
        assert!(!policy.needs_approval("search_records"));
    }

    #[test]
    fn tool_names_follow_the_mcp_syntax() {
        for name in ["search_records", "a", "vendor.tool-2", &"x".repeat(128)] {
            assert!(is_tool_name(name), "{name}");
        }
        for name in ["", "bad name", "tool/x", "é", &"x".repeat(129)] {
            assert!(!is_tool_name(name), "{name}");
        }
    }

    #[test]
    fn malformed_documents_are_typed_errors() {
        for (doc, needle) in [
            ("", "EOF"),
            ("[]", "invalid type"),
            (r#"{"allowed_tool": []}"#, "unknown field"),
            (r#"{"allowed_tools": ["bad name"]}"#, "tool name"),
            (r#"{"allowed_models": {"Res Partner": null}}"#, "model name"),
            (
                r#"{"allowed_models": {"res.partner": ["drop"]}}"#,
                "unknown operation",
            ),
            (r#"{"allowed_scopes": ["mcp read"]}"#, "scope name"),
        ] {
            match Policy::compile(doc) {
                Err(Error::InvalidPolicy(message)) => {
                    assert!(message.contains(needle), "{doc}: {message}");
                }
                other => panic!("{doc}: {other:?}"),
            }
        }
        assert!(matches!(
            Policy::compile(r#"{"ip_allowlist": ["10.0.0.0/8", "nope"]}"#),
            Err(Error::InvalidCidr { line: 2, .. })
        ));
        let huge = format!(
            r#"{{"approval_tools": ["{}"]}}"#,
            "a".repeat(MAX_DOCUMENT_LEN)
        );
        assert!(matches!(
            Policy::compile(&huge),
            Err(Error::InvalidPolicy(_))
        ));
    }

    #[test]
    fn deny_messages_name_the_rule() {
        let reason = DenyReason::OperationNotAllowed {
            model: "res.partner".into(),
            operation: Operation::Delete,
        };
        assert_eq!(reason.code(), "operation_not_allowed");
        assert!(reason.message().contains("delete on res.partner"));
        for op in ["read", "create", "write", "delete", "call"] {
            assert_eq!(Operation::from_name(op).unwrap().name(), op);
        }
    }

    proptest::proptest! {
        #[test]
        fn compile_never_panics(doc in ".{0,200}") {
            let _ = Policy::compile(&doc);
        }
    }
}

"""Security events: what the audit trail records beside the MCP calls (``mcp.audit.log``).

The protocol code reports them through ``Storage.record_event``; Odoo code calls
``env["mcp.audit.log"]._record_event`` directly. An event never carries a secret: no token,
code, client secret or verifier, not even part of one; a client_id, a user, an address and
a short summary in words.
"""

# Reported by the protocol code (oauth/).
CLIENT_REGISTERED = "client_registered"
REGISTRATION_REFUSED = "registration_refused"
CONSENT_GIVEN = "consent_given"
CLIENT_AUTH_FAILED = "client_auth_failed"
CLIENT_AUTH_THROTTLED = "client_auth_throttled"
REFRESH_TOKEN_REUSED = "refresh_token_reused"  # noqa: S105 (an event name)
CODE_REPLAYED = "code_replayed"
TOKEN_REVOKED = "token_revoked"  # noqa: S105 (an event name)

# The event selection of the audit log, in the order people read it.
EVENTS = (
    (CLIENT_REGISTERED, "Client registered"),
    (REGISTRATION_REFUSED, "Registration refused"),
    ("registration_joined", "Registration joined an existing connection"),
    (CONSENT_GIVEN, "Consent given"),
    ("consent_withdrawn", "Consent revoked by the user"),
    (CLIENT_AUTH_FAILED, "Client authentication failed"),
    (CLIENT_AUTH_THROTTLED, "Client authentication throttled"),
    (REFRESH_TOKEN_REUSED, "Refresh token reused: family revoked"),
    (CODE_REPLAYED, "Authorization code replayed: tokens revoked"),
    (TOKEN_REVOKED, "Token revoked"),
    ("connection_revoked", "Connection revoked"),
    ("connection_reactivated", "Connection reactivated"),
    ("access_paused", "All AI access paused"),
    ("access_resumed", "All AI access resumed"),
    ("tool_approved", "AI tool approved"),
    ("tool_refused", "AI tool refused"),
)

# Outcomes, as the audit log's outcome selection names them. A refusal is any outcome but OK.
OK = "ok"
DENIED = "denied"
RATE_LIMITED = "rate_limited"

"""Discovery documents: RFC 8414 (authorization server) and RFC 9728 (protected resource)."""

from . import scopes as scope_rules

RESPONSE_TYPES = ["code"]
GRANT_TYPES = ["authorization_code", "refresh_token", "client_credentials"]
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


def authorization_server(urls, *, registration_enabled, metadata_documents_enabled):
    """RFC 8414 §2. ``issuer`` is byte-for-byte what clients derived (no trailing slash)."""
    document = {
        "issuer": urls.issuer,
        "authorization_endpoint": urls.authorization_endpoint,
        "token_endpoint": urls.token_endpoint,
        "revocation_endpoint": urls.revocation_endpoint,
        "introspection_endpoint": urls.introspection_endpoint,
        "userinfo_endpoint": urls.userinfo_endpoint,
        # offline_access is accepted but not advertised: the MCP SDK would then add
        # prompt=consent to every request, and remembered consent would never apply.
        "scopes_supported": list(scope_rules.KNOWN),
        "response_types_supported": RESPONSE_TYPES,
        "response_modes_supported": ["query"],
        "grant_types_supported": GRANT_TYPES,
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        # Required by ChatGPT and by Claude before they redirect at all.
        "code_challenge_methods_supported": ["S256"],
        # RFC 9207: every authorization response carries iss.
        "authorization_response_iss_parameter_supported": True,
        "client_id_metadata_document_supported": bool(metadata_documents_enabled),
    }
    if registration_enabled:
        document["registration_endpoint"] = urls.registration_endpoint
    return document


def protected_resource(urls):
    """RFC 9728 §2. ``offline_access`` is not a resource scope and is not listed."""
    return {
        "resource": urls.resource,
        "authorization_servers": [urls.issuer],
        "scopes_supported": list(scope_rules.RESOURCE),
        "bearer_methods_supported": ["header"],
        "resource_name": "Odoo (MCP Connect)",
    }

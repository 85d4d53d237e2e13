"""Token introspection, RFC 7662, for authenticated confidential clients.

A client only learns about its own tokens: anything else (malformed, unknown,
expired, revoked, another client's) is ``{"active": false}``.
"""

import mcp_connect_core as core

from . import client_auth
from . import scopes as scope_rules
from .errors import InvalidRequest
from .storage import epoch

INACTIVE = {"active": False}


def introspect(storage, urls, form, repeated, authorization_header, client_ip):
    if repeated:
        raise InvalidRequest(f"Parameters may appear only once: {', '.join(sorted(repeated))}.")
    client = client_auth.authenticate(storage, form, authorization_header, client_ip, confidential_only=True)
    token = form.get("token")
    if not token:
        raise InvalidRequest("Missing token.")
    try:
        kind, digest = core.parse_token(token)
    except core.TokenError:
        return INACTIVE
    if kind not in ("access", "refresh"):
        return INACTIVE
    record = storage.find_token(digest)
    now = storage.now()
    if (
        record is None
        or record.client_id != client.client_id
        or record.revoked
        or record.expires_at <= now
        or record.family_expires_at <= now
    ):
        return INACTIVE
    subject = storage.token_subject(record)
    body = {
        "active": True,
        "scope": scope_rules.join(record.scopes),
        "client_id": record.client_id,
        "token_type": "Bearer" if record.kind == "access" else "refresh_token",
        "exp": epoch(record.expires_at),
        "aud": record.resource,
        "iss": urls.issuer,
        **subject,
    }
    if record.issued_at:
        body["iat"] = epoch(record.issued_at)
    return body

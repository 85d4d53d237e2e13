"""Token introspection, RFC 7662, for authenticated confidential clients.

A client only learns about its own tokens: anything else (malformed, unknown,
expired, revoked, another client's) is ``{"active": false}``.
"""

from . import presented_token
from . import scopes as scope_rules
from .errors import AccessPaused
from .storage import epoch

INACTIVE = {"active": False}


def introspect(storage, urls, form, repeated, authorization_header, client_ip):
    if storage.settings().paused:
        raise AccessPaused()
    client, token = presented_token.authenticate(
        storage, form, repeated, authorization_header, client_ip, confidential_only=True
    )
    record = presented_token.own_token(storage, client, token)
    now = storage.now()
    if record is None or record.revoked or record.expires_at <= now or record.family_expires_at <= now:
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

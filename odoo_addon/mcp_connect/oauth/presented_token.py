"""A token a client presents about itself: revocation (RFC 7009) and introspection (RFC 7662).

Both endpoints authenticate the client, take one ``token`` parameter and act only on
the client's own access and refresh tokens; anything else (malformed, unknown, of
another kind, another client's) is answered as if it were not there, so the
endpoints reveal nothing about tokens the client does not hold.
"""

import mcp_connect_core as core

from . import client_auth
from .errors import InvalidRequest


def authenticate(storage, form, repeated, authorization_header, client_ip, *, confidential_only=False):
    """The authenticated client and the token it presents; every parameter may appear only once."""
    if repeated:
        raise InvalidRequest(f"Parameters may appear only once: {', '.join(sorted(repeated))}.")
    client = client_auth.authenticate(
        storage, form, authorization_header, client_ip, confidential_only=confidential_only
    )
    token = form.get("token")
    if not token:
        raise InvalidRequest("Missing token.")
    return client, token


def own_token(storage, client, token):
    """The stored access or refresh token ``token`` if it is ``client``'s, else None."""
    try:
        kind, digest = core.parse_token(token)
    except core.TokenError:
        return None
    if kind not in ("access", "refresh"):
        return None
    record = storage.find_token(digest)
    if record is None or record.client_id != client.client_id:
        return None
    return record

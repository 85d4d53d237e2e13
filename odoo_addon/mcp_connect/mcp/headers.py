"""2026-07-28 standard request headers (``Mcp-Method``, ``Mcp-Name``) and their encoding.

Values that are not plain visible ASCII are sent as ``=?base64?<base64 of UTF-8>?=``;
the server decodes them before comparing them with the body (Streamable HTTP,
"Standard Request Headers").
"""

import base64
import binascii
import re

SENTINEL = re.compile(r"^=\?base64\?(?P<data>[A-Za-z0-9+/]*={0,2})\?=$")
PLAIN = re.compile(r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$")
NAME_METHODS = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}


class HeaderError(ValueError):
    pass


def decode(value):
    """The header value as the client meant it; raise ``HeaderError`` if malformed."""
    value = value.strip()
    match = SENTINEL.match(value)
    if match:
        try:
            return base64.b64decode(match.group("data"), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as error:
            raise HeaderError("invalid base64 header value") from error
    if not PLAIN.match(value):
        raise HeaderError("header value contains invalid characters")
    return value

"""MCP protocol revisions this server speaks, and how a request selects one."""

LEGACY = ("2025-03-26", "2025-06-18", "2025-11-25")
MODERN = ("2026-07-28",)
SUPPORTED = (*MODERN, *reversed(LEGACY))
LATEST_LEGACY = "2025-11-25"
# Streamable HTTP: a request without MCP-Protocol-Version comes from a 2025-03-26 client.
ASSUMED_WITHOUT_HEADER = "2025-03-26"
META_VERSION = "io.modelcontextprotocol/protocolVersion"
META_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities"
META_CLIENT_INFO = "io.modelcontextprotocol/clientInfo"
META_SERVER_INFO = "io.modelcontextprotocol/serverInfo"


def negotiate_legacy(requested):
    """initialize: the client's version if we speak it, otherwise our latest (lifecycle, version negotiation)."""
    return requested if requested in LEGACY else LATEST_LEGACY


def meta_version(message):
    """The protocol version a 2026-07-28 request carries in ``params._meta``, if any."""
    if not isinstance(message, dict):
        return None
    params = message.get("params")
    if not isinstance(params, dict):
        return None
    meta = params.get("_meta")
    if not isinstance(meta, dict):
        return None
    return meta.get(META_VERSION)


def is_modern(header_version, message):
    """Pick the era. Per-request ``_meta`` (which initialize-era clients never send) or a
    non-legacy header selects the 2026-07-28 rules, which then accept or refuse the request;
    otherwise the initialize-era rules apply."""
    if meta_version(message) is not None:
        return True
    return header_version is not None and header_version not in LEGACY

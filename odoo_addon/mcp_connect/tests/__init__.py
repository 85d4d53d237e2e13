from . import (
    test_authorize,
    test_connection,
    test_groups,
    test_mcp_policy,
    test_mcp_tools,
    test_mcp_transport,
    test_metadata,
    test_register,
    test_revoke_introspect,
    test_settings,
    test_token,
)

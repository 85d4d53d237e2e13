from . import (
    ir_http,
    mcp_authorization_code,
    mcp_authorization_request,
    mcp_connection,
    mcp_consent,
    mcp_rate_counter,
    mcp_token,
    res_config_settings,
    res_groups,
)

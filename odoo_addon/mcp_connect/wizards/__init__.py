from . import mcp_connect_wizard, mcp_credential_show, mcp_setup_check, mcp_setup_check_line

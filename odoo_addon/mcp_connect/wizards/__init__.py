from . import mcp_connect_wizard, mcp_credential_show

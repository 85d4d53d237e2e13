from . import mcp_connect_wizard, mcp_secret_rotation

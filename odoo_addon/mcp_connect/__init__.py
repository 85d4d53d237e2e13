from . import controllers, mcp, models

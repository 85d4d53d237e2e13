from . import controllers, mcp, models, tools, wizards

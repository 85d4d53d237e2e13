from . import controllers, mcp, models, wizards

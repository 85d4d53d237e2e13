from . import mcp, oauth, well_known

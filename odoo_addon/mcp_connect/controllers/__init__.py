from . import oauth, well_known

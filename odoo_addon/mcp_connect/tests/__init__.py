from . import test_groups, test_settings

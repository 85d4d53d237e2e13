from . import test_example_tool

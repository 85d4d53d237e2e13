"""A small JSON Schema validator for tool arguments.

It covers the keywords the tools' input schemas use (type, properties, required,
additionalProperties, items, enum, minimum, maximum, minLength, maxLength,
minItems, maxItems) and reports the first problem with its path, so the model
can correct its call.
"""

TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


class SchemaError(ValueError):
    pass


def validate(value, schema, path="arguments"):
    expected = schema.get("type")
    if expected is not None:
        names = expected if isinstance(expected, list) else [expected]
        if not any(TYPES[name](value) for name in names):
            raise SchemaError(f"{path} must be of type {' or '.join(names)}")
    if "enum" in schema and value not in schema["enum"]:
        raise SchemaError(f"{path} must be one of {', '.join(map(str, schema['enum']))}")
    if isinstance(value, dict):
        _validate_object(value, schema, path)
    elif isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            raise SchemaError(f"{path} must have at least {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            raise SchemaError(f"{path} must have at most {schema['maxItems']} items")
        if "items" in schema:
            for index, item in enumerate(value):
                validate(item, schema["items"], f"{path}[{index}]")
    elif isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            raise SchemaError(f"{path} must be at least {schema['minLength']} characters")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            raise SchemaError(f"{path} must be at most {schema['maxLength']} characters")
    elif TYPES["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            raise SchemaError(f"{path} must be at least {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            raise SchemaError(f"{path} must be at most {schema['maximum']}")


def _validate_object(value, schema, path):
    properties = schema.get("properties", {})
    for name in schema.get("required", ()):
        if name not in value:
            raise SchemaError(f"{path}.{name} is required")
    for name, item in value.items():
        if name in properties:
            validate(item, properties[name], f"{path}.{name}")
        elif schema.get("additionalProperties") is False:
            raise SchemaError(f"{path}.{name} is not a known argument")
        elif isinstance(schema.get("additionalProperties"), dict):
            validate(item, schema["additionalProperties"], f"{path}.{name}")

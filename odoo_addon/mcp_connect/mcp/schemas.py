"""Schema pieces shared by the tool families.

Every schema node has exactly one ``type`` (or an ``anyOf`` of single-type branches):
Gemini's function declarations and other single-type dialects reject a list of types
such as ``["string", "null"]``, and a node without any type is one the MCP Inspector's
``--strict`` reports as accepting anything.
"""

MODEL = {"type": "string", "description": "Technical model name, e.g. res.partner, sale.order.", "maxLength": 128}
DOMAIN = {
    "type": "array",
    "description": 'Odoo domain: a list of conditions [field, operator, value] combined with "&", "|", "!". '
    'Example: [["customer_rank", ">", 0], ["country_id.code", "=", "BE"]].',
    "maxItems": 100,
}
FIELDS = {
    "type": "array",
    "items": {"type": "string", "maxLength": 128},
    "maxItems": 100,
    "description": "Field names to return. Leave out for a readable default; binary fields only when asked.",
}
IDS = {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 200, "description": "Record ids."}
RECORD_ID = {"type": "integer", "description": "Record id."}
VALUES = {"type": "object", "description": 'Field values, e.g. {"name": "Acme", "email": "info@acme.com"}.'}
RECORD = {"type": "object", "description": "A record: id and the requested fields."}

# Every result schema also admits the "pending approval" answer of a gated call.
PENDING = {
    "approval_status": {"type": "string", "description": "Set when the call waits for a human approval."},
    "approval_id": {"type": "integer", "description": "Pass it to get_approval_status."},
    "message": {"type": "string"},
}


def inputs(properties, required=()):
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


def outputs(properties):
    return {"type": "object", "properties": {**properties, **PENDING}}


def nullable(type_name, **keywords):
    """A value of ``type_name`` or null, one type per branch."""
    return {"anyOf": [{"type": type_name, **keywords}, {"type": "null"}]}


ANY_JSON = {
    "anyOf": [{"type": name} for name in ("object", "array", "string", "number", "boolean", "null")],
    "description": "Any JSON value.",
}

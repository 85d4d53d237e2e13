"""Prompt templates: ``prompts/list`` and ``prompts/get`` over the templates a backend holds.

A template's text names its arguments as ``{argument}``; only declared arguments are
replaced (any other brace stays as written), with the text the client sent.
"""

import re

from . import jsonrpc
from .jsonrpc import JsonRpcError

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]{0,63})\}")
MAX_ARGUMENT = 2000


def listed(prompt):
    """A template as ``prompts/list`` shows it (its text is only sent by ``prompts/get``)."""
    return {key: prompt[key] for key in ("name", "title", "description", "arguments") if prompt.get(key) is not None}


def render(prompt, arguments):
    """The ``prompts/get`` result of ``prompt`` with ``arguments``; invalid params when they do not fit."""
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict) or not all(isinstance(value, str) for value in arguments.values()):
        raise JsonRpcError(jsonrpc.INVALID_PARAMS, "prompts/get arguments must be an object of strings")
    declared = {argument["name"]: argument for argument in prompt.get("arguments", [])}
    unknown = sorted(set(arguments) - set(declared))
    if unknown:
        raise JsonRpcError(jsonrpc.INVALID_PARAMS, f"Unknown argument for {prompt['name']}: {', '.join(unknown)[:200]}")
    missing = [name for name, argument in declared.items() if argument.get("required") and not arguments.get(name)]
    if missing:
        raise JsonRpcError(
            jsonrpc.INVALID_PARAMS, f"Missing required argument for {prompt['name']}: {', '.join(missing)}"
        )
    too_long = [name for name, value in arguments.items() if len(value) > MAX_ARGUMENT]
    if too_long:
        raise JsonRpcError(
            jsonrpc.INVALID_PARAMS, f"Argument too long (at most {MAX_ARGUMENT} characters): {', '.join(too_long)}"
        )

    def replace(match):
        name = match.group(1)
        return arguments.get(name, "") if name in declared else match.group(0)

    result = {
        "messages": [{"role": "user", "content": {"type": "text", "text": PLACEHOLDER.sub(replace, prompt["text"])}}]
    }
    if prompt.get("description"):
        result["description"] = prompt["description"]
    return result

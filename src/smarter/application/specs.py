"""Turning loose input (a JSON patch, a manifest) into the domain's LLMClientSpec."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from smarter.domain.errors import InvalidValue
from smarter.domain.llm_client import LLMClientSpec

SPEC_FIELDS = frozenset(f.name for f in msgspec.structs.fields(LLMClientSpec))


def spec_from(data: Mapping[str, Any]) -> LLMClientSpec:
    """A validated spec; a wrong type or unknown field is InvalidValue naming the field."""
    try:
        return msgspec.convert(dict(data), LLMClientSpec, strict=True)
    except msgspec.ValidationError as error:
        field, message = _split(str(error))
        raise InvalidValue(field, message) from None


def patched(spec: LLMClientSpec, changes: Mapping[str, Any]) -> LLMClientSpec:
    """`spec` with `changes` applied; fields not named keep their value."""
    return spec_from({**msgspec.to_builtins(spec), **changes})


def _split(message: str) -> tuple[str, str]:
    # msgspec says e.g. "Expected `int`, got `str` - at `$.default_max_tokens`", or for a
    # mapping's key "Expected `str`, got `int` - at `key` in `$.annotations`".
    text, sep, where = message.partition(" - at ")
    if not sep:
        if message.startswith("Object contains unknown field"):
            return message.split("`")[1], "is not a field of an LLMClient"
        if message.startswith("Object missing required field"):
            return message.split("`")[1], "is required"
        return "body", message
    if where.startswith("`key`"):
        text += " (in a key)"
    field = where.rpartition("`$")[2].strip("`.").split("[")[0].split(".")[0]
    return field or "body", text

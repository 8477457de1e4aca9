"""The client form: every field of LLMClientSpec, to and from the text a browser posts.

Lists are one item per line, annotations `key: value` per line, numbers as typed. What the
spec refuses comes back as the API's own message, next to the field it names; every field is
checked, so all the problems show at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import msgspec

from smarter.application.specs import patched, spec_from
from smarter.domain.errors import InvalidValue
from smarter.domain.llm_client import LLMClientSpec


class Field(msgspec.Struct, frozen=True):
    name: str
    label: str
    kind: str  # text, textarea, lines, map, int, float, checkbox, url
    help: str = ""


SECTIONS: Final = (
    (
        "Identity",
        (
            Field("name", "Name", "text", "Lower case letters, digits, - and _; part of its host."),
            Field("description", "Description", "textarea"),
            Field("version", "Version", "text", "Semantic version, e.g. 1.2.0."),
            Field("tags", "Tags", "lines", "One per line."),
            Field("annotations", "Annotations", "map", "One `key: value` per line."),
        ),
    ),
    (
        "Model",
        (
            Field("provider", "Provider", "text", "openai, echo, or a configured provider."),
            Field("default_model", "Model", "text"),
            Field("default_system_role", "System role", "textarea"),
            Field("default_temperature", "Temperature", "float", "0.0 to 2.0."),
            Field("default_max_tokens", "Max tokens", "int"),
            Field("functions", "Tools", "lines", "Built-in tool names, one per line."),
        ),
    ),
    (
        "Chat page",
        (
            Field("app_name", "App name", "text"),
            Field("app_assistant", "Assistant name", "text"),
            Field("app_welcome_message", "Welcome message", "textarea"),
            Field("app_example_prompts", "Example prompts", "lines", "One per line."),
            Field("app_placeholder", "Placeholder", "text"),
            Field("app_info_url", "Info URL", "url"),
            Field("app_logo_url", "Logo URL", "url"),
            Field("app_background_image_url", "Background image URL", "url"),
            Field("app_file_attachment", "Allow file attachments", "checkbox"),
            Field("cors_origins", "Allowed origins (CORS)", "lines", "https://... one per line."),
        ),
    ),
)
FIELDS: Final = {field.name: field for _, fields in SECTIONS for field in fields}


def form_values(spec: LLMClientSpec) -> dict[str, str]:
    """The text each input shows for `spec`."""
    values: dict[str, str] = {}
    for name, field in FIELDS.items():
        value = getattr(spec, name)
        if field.kind == "lines":
            values[name] = "\n".join(value)
        elif field.kind == "map":
            values[name] = "\n".join(f"{k}: {v}" for k, v in value.items())
        elif field.kind == "checkbox":
            values[name] = "on" if value else ""
        else:
            values[name] = "" if value is None else str(value)
    return values


def _parse(field: Field, raw: str) -> Any:
    text = raw.strip()
    if field.kind == "lines":
        return [line.strip() for line in raw.splitlines() if line.strip()]
    if field.kind == "map":
        pairs: dict[str, str] = {}
        for line in raw.splitlines():
            if not line.strip():
                continue
            key, sep, value = line.partition(":")
            if not sep or not key.strip():
                raise InvalidValue(field.name, f"'{line.strip()}' is not `key: value`")
            pairs[key.strip()] = value.strip()
        return pairs
    if field.kind == "checkbox":
        return text == "on"
    if field.kind == "int":
        try:
            return int(text)
        except ValueError:
            raise InvalidValue(field.name, "must be a whole number") from None
    if field.kind == "float":
        try:
            return float(text)
        except ValueError:
            raise InvalidValue(field.name, "must be a number") from None
    if field.kind == "url":
        return text or None
    return raw if field.kind == "textarea" else text


def changes_from(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The spec fields the form sets, and the fields it got wrong (field → message)."""
    changes: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, field in FIELDS.items():
        if field.kind != "checkbox" and name not in form:
            continue
        try:
            changes[name] = _parse(field, form.get(name, ""))
        except InvalidValue as error:
            errors[name] = error.reason
    return changes, errors


def spec_errors(base: LLMClientSpec, changes: Mapping[str, Any]) -> dict[str, str]:
    """Each change checked on its own against `base`, so every bad field is named."""
    errors: dict[str, str] = {}
    for name, value in changes.items():
        try:
            patched(base, {name: value})
        except InvalidValue as error:
            errors[error.field if error.field in FIELDS else name] = error.reason
    return errors


def new_spec(changes: Mapping[str, Any]) -> tuple[LLMClientSpec | None, dict[str, str]]:
    """A new client's spec from the form, or the problems with each field."""
    try:
        return spec_from(changes), {}
    except InvalidValue as error:
        base = LLMClientSpec(name="client")
        errors = spec_errors(base, changes) or {error.field: error.reason}
        return None, errors

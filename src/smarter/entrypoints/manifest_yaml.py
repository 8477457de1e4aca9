"""Manifests as YAML text: safe loading without anchors or aliases, block-style dumping.

The HTTP API and the CLI both read manifests that people write by hand and send over the wire,
so loading refuses what safe YAML still allows but a manifest never needs: anchors and aliases
(the "billion laughs" expansion), several documents, and anything but a mapping at the top.
"""

from __future__ import annotations

from typing import Any

import msgspec
import yaml
from yaml.events import AliasEvent, NodeEvent
from yaml.nodes import Node

from smarter.domain.errors import InvalidValue

FIELD = "manifest"


class _ManifestLoader(yaml.SafeLoader):
    """SafeLoader that stops at the first anchor (`&x`) or alias (`*x`)."""

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, AliasEvent) or (
            isinstance(event, NodeEvent) and event.anchor is not None
        ):
            line = event.start_mark.line + 1 if event.start_mark is not None else "?"
            raise InvalidValue(FIELD, f"YAML anchors and aliases are not allowed (line {line})")
        return super().compose_node(parent, index)


# A manifest holds no dates: `2024-01-01` stays the string it was written as.
_ManifestLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_manifest(text: str) -> dict[str, Any]:
    """The mapping a manifest document holds; InvalidValue for anything else."""
    try:
        document = yaml.load(text, Loader=_ManifestLoader)
    except yaml.MarkedYAMLError as error:
        where = f" (line {error.problem_mark.line + 1})" if error.problem_mark else ""
        problem = ", ".join(part for part in (error.context, error.problem) if part)
        raise InvalidValue(FIELD, f"is not valid YAML: {problem or 'malformed'}{where}") from None
    except yaml.YAMLError as error:
        first_line = str(error).splitlines()[0] if str(error) else "malformed YAML"
        raise InvalidValue(FIELD, f"is not valid YAML: {first_line}") from None
    except RecursionError:
        raise InvalidValue(FIELD, "is nested too deeply") from None
    if not isinstance(document, dict):
        found = "nothing" if document is None else type(document).__name__
        raise InvalidValue(FIELD, f"must be a YAML mapping (apiVersion, kind, ...), not {found}")
    return document


def dump_manifest(manifest: dict[str, Any]) -> str:
    """Block-style YAML with the keys in the manifest's own order."""
    return yaml.safe_dump(
        plain_manifest(manifest), sort_keys=False, default_flow_style=False, allow_unicode=True
    )


def plain_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest as plain dicts, lists, strings and numbers (enums by their value)."""
    plain: dict[str, Any] = msgspec.to_builtins(manifest, enc_hook=_plain)
    return plain


def _plain(value: Any) -> Any:
    """Values msgspec does not know, e.g. AccountNumber (a `str` subclass)."""
    if isinstance(value, str):
        return str(value)
    raise NotImplementedError(f"cannot write {type(value).__name__} in a manifest")

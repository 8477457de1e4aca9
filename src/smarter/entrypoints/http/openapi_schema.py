"""Corrections to the OpenAPI schema Litestar generates, so it says what the server does.

A fuzzer (`make fuzz`) reads the schema as a contract; where Litestar's schema was looser than
the server, schema-valid requests were refused. Each piece here closes one such gap:

- a body struct declared `forbid_unknown_fields` refuses unknown fields (400), so its schema
  says `additionalProperties: false`;
- a numeric bound of 0 (`Meta(ge=0.0)`) is written too: Litestar skips falsy bounds, so
  `temperature` said only `maximum: 2`, and -1.9 was "valid";
- a body the handler may go without (`data: JSONBody[X | None] = None`) is not `required`,
  which Litestar always writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import msgspec

# Litestar's own plugin for msgspec structs; not exported publicly, so it is imported from
# where it lives (tests/integration/http/test_fuzz_regressions.py notices if it moves).
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi.spec import Operation, RequestBody, Schema

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.typing import FieldDefinition


class StrictStructSchemaPlugin(StructSchemaPlugin):
    """Structs as Litestar writes them, plus `additionalProperties: false` when they forbid
    unknown fields. Passed in the app's `plugins`, it comes before Litestar's own."""

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        info = msgspec.inspect.type_info(field_definition.type_)
        if not isinstance(info, msgspec.inspect.StructType):
            return schema
        if info.forbid_unknown_fields:
            schema.additional_properties = False
        for field in info.fields:
            prop = (schema.properties or {}).get(field.encode_name)
            if isinstance(prop, Schema):
                _restore_zero_bounds(prop, field.type)
        return schema


_BOUNDS = {"ge": "minimum", "le": "maximum", "gt": "exclusive_minimum", "lt": "exclusive_maximum"}


def _restore_zero_bounds(prop: Schema, field_type: msgspec.inspect.Type) -> None:
    """Write the bounds equal to 0 that Litestar left out, on the property (next to its oneOf
    when it is optional, where Litestar writes the others)."""
    arms = field_type.types if isinstance(field_type, msgspec.inspect.UnionType) else (field_type,)
    for arm in arms:
        inner = arm.type if isinstance(arm, msgspec.inspect.Metadata) else arm
        if isinstance(inner, msgspec.inspect.IntType | msgspec.inspect.FloatType):
            for constraint, keyword in _BOUNDS.items():
                if getattr(inner, constraint) == 0 and getattr(prop, keyword) is None:
                    setattr(prop, keyword, 0)


@dataclass
class OptionalBodyOperation(Operation):
    """An operation whose JSON body may be left out (`operation_class=` of the route)."""

    def __post_init__(self) -> None:
        if isinstance(self.request_body, RequestBody):
            self.request_body.required = False

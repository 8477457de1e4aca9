"""Path and body parameters shared by the controllers.

Ids are declared `{name:str}` in paths and typed `ObjectId` in handlers, so that `/abc/` is a
400 naming the parameter (not a bare 404 from the router) while the schema still says integer.
The upper bound is the largest id a 64-bit database integer holds. Litestar writes a
parameter's bounds into the schema as floats, and 2**63 - 1 as a float is 2**63, one more than
the server accepts: `exact_bounds` restates them as integers (a fuzzer found the difference).
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.params import PathParameter

MAX_ID = 2**63 - 1
MAX_NAME_LENGTH = 100


def exact_bounds(minimum: int, maximum: int) -> dict[str, int]:
    """`schema_extra` for an integer parameter: its bounds as integers, not floats."""
    return {"minimum": minimum, "maximum": maximum}


ObjectId = Annotated[
    int,
    PathParameter(
        ge=1, le=MAX_ID, description="The object's id", schema_extra=exact_bounds(1, MAX_ID)
    ),
]
BodyId = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
SecretName = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NAME_LENGTH)]

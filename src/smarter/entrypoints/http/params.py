"""Path and body parameters shared by the controllers.

Ids are declared `{name:str}` in paths and typed `ObjectId` in handlers, so that `/abc/` is a
400 naming the parameter (not a bare 404 from the router) while the schema still says integer.
The upper bound is the largest id a 64-bit database integer holds.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.params import PathParameter

MAX_ID = 2**63 - 1
MAX_NAME_LENGTH = 100

ObjectId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="The object's id")]
BodyId = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
SecretName = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NAME_LENGTH)]

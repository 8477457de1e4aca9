"""NUL characters never reach the store: PostgreSQL cannot hold them in text or JSONB.

JSON (`"\\u0000"`), YAML (`"\\0"`) and query strings (`%00`) can all carry one. The check is a
`before_request` hook (after authentication, before Litestar parses the parameters and the
body) plus `nul_path()` for documents a handler parses itself, such as manifests.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request

from smarter.entrypoints.http.errors import BadRequest

_JSON_NUL = b"\\u0000"


def nul_path(value: Any, path: str = "") -> str | None:
    """Where the first NUL character in a decoded document is (`a.b[2]`), or None."""
    if isinstance(value, str):
        return path or "body" if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return where
            found = nul_path(item, where)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = nul_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def refuse_nul(value: Any) -> None:
    where = nul_path(value)
    if where is not None:
        raise BadRequest(f"{where}: must not contain NUL characters", field=where)


async def refuse_nul_characters(request: Request[Any, Any, Any]) -> None:
    """before_request hook: 400 naming the parameter or field that holds a NUL character."""
    for name, value in request.query_params.multi_items():
        if "\x00" in name or "\x00" in value:
            raise BadRequest(f"{name}: must not contain NUL characters", field=name)
    if request.method in ("GET", "HEAD", "DELETE", "OPTIONS"):
        return
    body = await request.body()
    if _JSON_NUL not in body:  # the cheap test; decode only when it may be there
        return
    try:
        document = msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError):
        return  # not JSON: the handler reports what is wrong with it
    refuse_nul(document)

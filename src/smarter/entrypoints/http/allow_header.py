"""OPTIONS answers with every method of the path (a workaround for Litestar 2's issue #4169).

Litestar 2 builds a path's OPTIONS handler with the path's first route handler and keeps it
when more handlers join the path, so `OPTIONS /api/v1/llm-clients` said `Allow: OPTIONS, POST`
without GET (a fuzzer noticed). Once the app is built, each OPTIONS handler is given the
path's full list of methods. Litestar 3 fixes this; then this module can go.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import HttpMethod, Litestar, MediaType, Response
from litestar.routes import HTTPRoute
from litestar.status_codes import HTTP_204_NO_CONTENT
from litestar.types import Scope


def _answer(allow: str) -> Callable[[Scope], Response[None]]:
    def options_handler(scope: Scope) -> Response[None]:
        return Response(
            content=None,
            status_code=HTTP_204_NO_CONTENT,
            headers={"Allow": allow},
            media_type=MediaType.TEXT,
        )

    return options_handler


def allow_every_method(app: Litestar) -> None:
    """Make each generated OPTIONS handler list all of its path's methods."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or HttpMethod.OPTIONS not in route.route_handler_map:
            continue
        handler, _ = route.route_handler_map[HttpMethod.OPTIONS]
        if handler.fn.__name__ == "options_handler":  # Litestar's, not one of ours
            answer: Any = _answer(", ".join(sorted(route.methods)))  # Litestar calls it as is
            handler._fn = answer

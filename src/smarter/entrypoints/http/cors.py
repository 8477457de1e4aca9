"""CORS headers on client hosts, for the origins the client allows (`domain.origins`).

No credentials are ever allowed (the chat API uses keys in headers, never cookies), so the
allowed origin is echoed back one at a time and `Vary: Origin` keeps caches honest.
"""

from __future__ import annotations

from typing import Final

ALLOW_METHODS: Final = "GET, POST, OPTIONS"
ALLOW_HEADERS: Final = "x-api-key, authorization, content-type, accept"
EXPOSE_HEADERS: Final = "X-Request-Id, Retry-After"
MAX_AGE: Final = "600"


def allow_origin(origin: str) -> dict[str, str]:
    """The headers of an answer to an allowed cross-origin request."""
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Expose-Headers": EXPOSE_HEADERS,
        "Vary": "Origin",
    }


def allow_preflight(origin: str) -> dict[str, str]:
    return {
        **allow_origin(origin),
        "Access-Control-Allow-Methods": ALLOW_METHODS,
        "Access-Control-Allow-Headers": ALLOW_HEADERS,
        "Access-Control-Max-Age": MAX_AGE,
    }

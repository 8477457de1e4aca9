"""CORS on client hosts: the client's own hosts and the origins its owner lists, nothing else.

No credentials are ever allowed (the chat API uses keys in headers, never cookies), so the
allowed origin is echoed back one at a time and `Vary: Origin` keeps caches honest.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

from smarter.domain.llm_client import LLMClient

ALLOW_METHODS: Final = "GET, POST, OPTIONS"
ALLOW_HEADERS: Final = "x-api-key, authorization, content-type, accept"
EXPOSE_HEADERS: Final = "X-Request-Id, Retry-After"
MAX_AGE: Final = "600"
_DEFAULT_PORTS: Final = {"http": "80", "https": "443"}


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` in lower case, without a default port; None if not a URL."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    scheme, netloc = parts.scheme.lower(), parts.netloc.lower().rpartition("@")[2]
    if scheme not in _DEFAULT_PORTS or not netloc:
        return None
    host, _, port = netloc.partition(":")
    if port and port != _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}:{port}"
    return f"{scheme}://{host}"


def is_allowed(origin: str, client: LLMClient, own_origin: str) -> bool:
    """Whether a page from `origin` may call `client`; `own_origin` is the host called."""
    wanted = origin_of(origin)
    if wanted is None:
        return False
    if wanted in (origin_of(own_origin), origin_of(client.default_url)):
        return True
    domain = client.custom_domain
    serves_custom = domain is not None and domain.is_verified and client.custom_url is not None
    if serves_custom and wanted == origin_of(client.custom_url or ""):
        return True
    return any(wanted == origin_of(listed) for listed in client.cors_origins)


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

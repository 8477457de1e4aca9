"""Which browser origins may use a client: its own hosts and the origins its owner lists.

The same answer decides CORS on the chat API and which pages may frame the chat page.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

from smarter.domain.llm_client import LLMClient

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


def allowed_origins(client: LLMClient, own_origin: str) -> list[str]:
    """Every origin allowed to use `client` through the host `own_origin`, without repeats."""
    found = [own_origin, client.default_url]
    domain = client.custom_domain
    if domain is not None and domain.is_verified and client.custom_url is not None:
        found.append(client.custom_url)
    found += client.cors_origins
    origins: list[str] = []
    for url in found:
        origin = origin_of(url)
        if origin is not None and origin not in origins:
            origins.append(origin)
    return origins


def may_use(origin: str, client: LLMClient, own_origin: str) -> bool:
    """Whether a page from `origin` may call (or frame) `client` on the host `own_origin`."""
    wanted = origin_of(origin)
    return wanted is not None and wanted in allowed_origins(client, own_origin)

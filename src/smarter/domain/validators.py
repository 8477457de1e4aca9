"""Validators for the values the model stores: client names, versions and URLs."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from smarter.domain.errors import InvalidValue
from smarter.domain.hostnames import hostname_problem

MAX_NAME_LENGTH = 128
MAX_URL_LENGTH = 2048
_CLIENT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
# semver.org's own grammar, without the named groups.
_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)


def validate_client_name(raw: str, field: str = "name") -> str:
    """A client name: starts with a letter; letters, digits, `_` and `-` (e.g. `apiKey`)."""
    if not raw:
        raise InvalidValue(field, "must not be empty")
    if len(raw) > MAX_NAME_LENGTH:
        raise InvalidValue(field, f"must be at most {MAX_NAME_LENGTH} characters")
    if not raw.isascii() or not _CLIENT_NAME.fullmatch(raw):
        raise InvalidValue(
            field, f"'{raw}' must start with a letter and hold only letters, digits, _ and -"
        )
    return raw


def validate_semver(raw: str, field: str = "version") -> str:
    """A semantic version MAJOR.MINOR.PATCH, with optional pre-release and build parts."""
    if not raw.isascii() or not _SEMVER.fullmatch(raw):
        raise InvalidValue(field, f"'{raw}' is not a semantic version such as 1.0.0")
    return raw


def validate_url(raw: str, field: str) -> str:
    """An absolute http(s) URL with a valid host, as the UI fields hold."""
    if len(raw) > MAX_URL_LENGTH:
        raise InvalidValue(field, f"must be at most {MAX_URL_LENGTH} characters")
    if not raw.isascii() or any(c.isspace() for c in raw):
        raise InvalidValue(field, f"'{raw}' is not a URL (spaces or non-ASCII characters)")
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise InvalidValue(field, f"'{raw}' is not a URL") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidValue(field, f"'{raw}' must start with http:// or https://")
    host = (parts.hostname or "").removesuffix(".")
    if port == 0 or not host or (not _is_ip_address(host) and hostname_problem(host)):
        raise InvalidValue(field, f"'{raw}' has no valid host")
    return raw


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True

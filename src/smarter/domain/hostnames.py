"""Host names by RFC 1123: splitting a Host header, and validating names we store."""

from __future__ import annotations

import re

from smarter.domain.errors import InvalidValue

MAX_NAME_LENGTH = 253
MAX_LABEL_LENGTH = 63
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")


class HostHeader:
    """A raw Host header split into a lower-case name (no trailing dot) and a port."""

    __slots__ = ("name", "port")

    def __init__(self, name: str, port: int | None) -> None:
        self.name = name
        self.port = port


def split_host_header(raw: str) -> HostHeader | str:
    """Return the parsed header, or the reason it is not a host header."""
    value = raw.strip().lower()
    if not value:
        return "the host is empty"
    if not value.isascii():
        return "the host has characters outside the hostname alphabet (use the xn-- form)"
    name, sep, port_text = value.rpartition(":")
    if not sep:
        name, port = value, None
    elif not port_text.isdigit() or len(port_text) > 5 or not 0 < int(port_text) < 65536:
        # The length check keeps int() away from digit strings past its conversion limit.
        return f"'{port_text}' is not a port"
    else:
        port = int(port_text)
    if name.endswith("."):
        name = name[:-1]
    return HostHeader(name, port)


def hostname_problem(name: str) -> str | None:
    """Why `name` (lower case, no trailing dot) is not a valid host name, or None."""
    if not name:
        return "the host name is empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"the host name is longer than {MAX_NAME_LENGTH} characters"
    for label in name.split("."):
        if not label:
            return "the host name has an empty label"
        if len(label) > MAX_LABEL_LENGTH:
            return f"the label '{label[:20]}...' is longer than {MAX_LABEL_LENGTH} characters"
        if not _LABEL.fullmatch(label):
            return f"the label '{label}' may only hold a-z, 0-9 and inner hyphens (RFC 1123)"
    return None


def normalize_hostname(field: str, raw: str) -> str:
    """A valid host name from user input: lower case, no trailing dot, IDN as xn--.

    Raises InvalidValue with a message that says what is wrong.
    """
    value = raw.strip().lower().removesuffix(".")
    if not value.isascii():
        try:
            value = value.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidValue(field, f"'{raw}' is not a valid internationalised name") from None
    problem = hostname_problem(value)
    if problem is not None:
        raise InvalidValue(field, f"'{raw}' is not a valid DNS host name: {problem}")
    return value

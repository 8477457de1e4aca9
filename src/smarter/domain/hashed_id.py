"""The opaque id in sandbox URLs: `r` + unpadded base64url of str(id + 1000000) + `x`."""

from __future__ import annotations

import base64
import binascii

_OFFSET = 1_000_000


def encode_hashed_id(client_id: int) -> str:
    digits = str(client_id + _OFFSET).encode("ascii")
    return "r" + base64.urlsafe_b64encode(digits).decode("ascii").rstrip("=") + "x"


def decode_hashed_id(hashed: str) -> int | None:
    """The id behind `hashed`, or None ("not found") for anything that is not one of ours."""
    if len(hashed) < 3 or len(hashed) > 40 or hashed[0] != "r" or hashed[-1] != "x":
        return None
    body = hashed[1:-1]
    try:
        digits = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not digits.isdigit():
        return None
    client_id = int(digits) - _OFFSET
    # Only the canonical spelling counts, so one id has exactly one hashed form.
    if client_id < 0 or encode_hashed_id(client_id) != hashed:
        return None
    return client_id

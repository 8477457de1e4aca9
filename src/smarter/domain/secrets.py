"""Secrets (console tokens, client API keys): made here, stored only as hashes.

They are long random strings, so one SHA-256 is enough to make a stolen table useless (no slow
password hash needed), and it lets the store find a secret by its hash with an index.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import msgspec

DISPLAY_PREFIX_LENGTH = 12


class NewSecret(msgspec.Struct, frozen=True):
    plaintext: str
    digest: str
    display_prefix: str


def hash_secret(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def new_secret(kind: str) -> NewSecret:
    """A fresh secret such as `smt_tok_...`; the plaintext is shown once and never stored."""
    plaintext = f"smt_{kind}_{secrets.token_urlsafe(32)}"
    return NewSecret(plaintext, hash_secret(plaintext), plaintext[:DISPLAY_PREFIX_LENGTH])


def same_digest(a: str, b: str) -> bool:
    """Constant-time comparison of two digests."""
    return hmac.compare_digest(a.encode("ascii", "replace"), b.encode("ascii", "replace"))

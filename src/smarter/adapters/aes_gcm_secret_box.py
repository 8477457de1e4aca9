"""Signing secrets sealed with AES-256-GCM under keys from the settings.

Signing needs the secret itself, so unlike tokens it cannot be kept as a hash; sealed under
a key that lives outside the database, a copy of the database alone signs nothing. The first
key seals; every key opens (a sealed value names its key by a fingerprint), so keys can be
rotated by putting a new one first.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from smarter.application.errors import NotConfigured

VERSION = "v1"
NONCE_BYTES = 12
MIN_KEY_LENGTH = 16
# In `local` only, when no key is set: not a secret, so that `make run` needs no setting.
LOCAL_DEVELOPMENT_KEY = "smarter-local-development-webhook-key"


def _derived(key: str) -> bytes:
    return hashlib.sha256(b"smarter webhook secrets\x00" + key.encode()).digest()


def _fingerprint(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


class AesGcmSecretBox:
    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one key")
        if any(len(key) < MIN_KEY_LENGTH for key in keys):
            raise ValueError(f"every key needs at least {MIN_KEY_LENGTH} characters")
        derived = [_derived(key) for key in keys]
        self._sealing = derived[0]
        self._keys = {_fingerprint(key): AESGCM(key) for key in derived}

    def seal(self, plaintext: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self._sealing).encrypt(nonce, plaintext.encode(), None)
        token = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
        return f"{VERSION}:{_fingerprint(self._sealing)}:{token}"

    def open(self, sealed: str) -> str:
        version, fingerprint, token = [*sealed.split(":", 2), "", ""][:3]
        box = self._keys.get(fingerprint)
        if version != VERSION or box is None:
            raise NotConfigured(
                "the signing secret was sealed with a key SMARTER_WEBHOOK_SECRET_KEYS lacks"
            )
        raw = base64.urlsafe_b64decode(token)
        try:
            return box.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None).decode()
        except InvalidTag:
            raise NotConfigured("the signing secret does not open with its key") from None


class UnconfiguredSecretBox:
    """Outside `local` without SMARTER_WEBHOOK_SECRET_KEYS: no endpoint can be registered."""

    def seal(self, plaintext: str) -> str:
        raise NotConfigured("webhooks need SMARTER_WEBHOOK_SECRET_KEYS set on the server")

    def open(self, sealed: str) -> str:
        return self.seal(sealed)

"""Secrets are made once, shown once, and kept only as a SHA-256 digest."""

from __future__ import annotations

import hashlib

from smarter.domain.secrets import DISPLAY_PREFIX_LENGTH, hash_secret, new_secret, same_digest


def test_a_new_secret_names_its_kind_and_keeps_only_a_digest_and_a_prefix() -> None:
    secret = new_secret("tok")
    assert secret.plaintext.startswith("smt_tok_")
    assert len(secret.plaintext) > 40
    assert secret.digest == hashlib.sha256(secret.plaintext.encode()).hexdigest()
    assert secret.display_prefix == secret.plaintext[:DISPLAY_PREFIX_LENGTH]
    assert secret.plaintext not in secret.digest


def test_new_secrets_are_different_every_time() -> None:
    assert len({new_secret("key").plaintext for _ in range(100)}) == 100


def test_the_digest_of_a_secret_is_its_sha256_in_hex() -> None:
    assert hash_secret("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_digests_compare_equal_only_when_equal() -> None:
    digest = hash_secret("smt_key_x")
    assert same_digest(digest, hash_secret("smt_key_x"))
    assert not same_digest(digest, hash_secret("smt_key_y"))
    assert not same_digest(digest, "")
    assert not same_digest(digest, "é" * 64)

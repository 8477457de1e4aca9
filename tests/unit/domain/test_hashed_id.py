"""The opaque id of sandbox URLs: `r` + base64url(str(id + 1000000)) + `x`."""

from __future__ import annotations

import pytest

from smarter.domain.hashed_id import decode_hashed_id, encode_hashed_id


def test_id_6_is_rMTAwMDAwNgx() -> None:  # noqa: N802 - the literal
    assert encode_hashed_id(6) == "rMTAwMDAwNgx"
    assert decode_hashed_id("rMTAwMDAwNgx") == 6


ROUND_TRIP_IDS = [
    *range(0, 5000),
    *range(5000, 10_000_000, 9973),
    99_999,
    999_999,
    1_000_000,
    8_999_999,
    9_000_000,
    10**12,
    10**20,
]


def test_every_id_survives_a_round_trip() -> None:
    for client_id in ROUND_TRIP_IDS:
        hashed = encode_hashed_id(client_id)
        assert hashed.startswith("r")
        assert hashed.endswith("x")
        assert "=" not in hashed
        assert decode_hashed_id(hashed) == client_id, client_id


def test_different_ids_never_share_a_hashed_form() -> None:
    ids = range(0, 50_000, 7)
    assert len({encode_hashed_id(i) for i in ids}) == len(ids)


BAD_HASHED_IDS = [
    "",
    "r",
    "x",
    "rx",
    "rr",
    "xx",
    "rMTAwMDAwNgy",  # wrong last character
    "sMTAwMDAwNgx",  # wrong first character
    "RMTAwMDAwNgX",  # case matters
    "r!!!x",
    "r====x",
    "rMTAwMDAwNg==x",  # padded: not the canonical spelling
    "rMTAwMDAwNhx",  # non-canonical trailing bits, decodes to the same digits
    "rMTAwMDAwNgxx",
    " rMTAwMDAwNgx",
    "rMTAwMDAwNgx ",
    "rMTAw MDAwNgx",
    "rYWJjx",  # base64 of 'abc': not digits
    "rLTF4",  # no trailing x
    "rLTEx",  # base64 of '-1'
    "rMHg1x",  # base64 of '0x5'
    "rMTIzNDU2Nwx"[:-2] + "x",  # truncated
    "rMTAwMDAwNg\u00e9x",  # non-ASCII inside
    "r\u00e9x",
    "r" + "QUFB" * 20 + "x",  # too long to be one of ours
    "r" + "MTAwMDAwNg" * 100 + "x",
    "r\x00x",
    "r-_-_x",
    "r+/+/x",
    "rOTk5OTk5x",  # base64 of '999999': id -1
    "rMAx",  # base64 of '0': id -1000000
]


@pytest.mark.parametrize("hashed", BAD_HASHED_IDS)
def test_anything_that_is_not_one_of_ours_decodes_to_not_found(hashed: str) -> None:
    assert decode_hashed_id(hashed) is None


@pytest.mark.parametrize("client_id", [-1, -5, -999_999, -1_000_000, -1_000_001, -(10**9)])
def test_the_hashed_form_of_a_negative_id_decodes_to_not_found(client_id: int) -> None:
    assert decode_hashed_id(encode_hashed_id(client_id)) is None

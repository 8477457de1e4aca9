"""Account numbers: always three groups of four ASCII digits."""

from __future__ import annotations

import pytest

from smarter.domain.account_number import (
    generate_account_number,
    is_account_number,
    parse_account_number,
)
from smarter.domain.errors import InvalidValue

# Digits that str.isdigit() and re's \d accept, but that are not ASCII.
ARABIC_INDIC_DIGITS = str.maketrans("0123456789", "".join(chr(0x0660 + d) for d in range(10)))
FULLWIDTH_DIGITS = str.maketrans("0123456789", "".join(chr(0xFF10 + d) for d in range(10)))

VALID = ["3141-5926-5359", "1234-5678-9012", "0000-0000-0000", "9999-9999-9999"]
INVALID = [
    "",
    "1234-5678",  # the original's two-group pattern
    "1234-5678-9012-3456",
    "123-4567-8901",
    "12345-678-9012",
    "123456789012",
    "1234 5678 9012",
    "1234_5678_9012",
    "abcd-efgh-ijkl",
    "1234-5678-901a",
    "x1234-5678-9012",
    "1234-5678-9012".translate(ARABIC_INDIC_DIGITS),
    "1234-5678-9012".translate(FULLWIDTH_DIGITS),
    "1234-5678-" + "9012".translate(FULLWIDTH_DIGITS),
    "1234\u20135678\u20139012",  # en dashes
]


@pytest.mark.parametrize("raw", VALID)
def test_a_well_formed_account_number_parses_to_itself(raw: str) -> None:
    number = parse_account_number(raw)
    assert number == raw
    assert isinstance(number, str)
    assert is_account_number(raw)


def test_surrounding_whitespace_is_dropped_when_parsing_but_not_when_checking() -> None:
    assert parse_account_number("  3141-5926-5359\n") == "3141-5926-5359"
    assert not is_account_number("3141-5926-5359\n")


@pytest.mark.parametrize("raw", INVALID)
def test_a_malformed_account_number_is_rejected_naming_the_field(raw: str) -> None:
    assert not is_account_number(raw)
    with pytest.raises(InvalidValue) as caught:
        parse_account_number(raw)
    assert caught.value.field == "account_number"
    assert "####-####-####" in caught.value.message


@pytest.mark.parametrize(
    "raw",
    ["1234-5678-9012".translate(ARABIC_INDIC_DIGITS), "1234-5678-9012".translate(FULLWIDTH_DIGITS)],
)
def test_unicode_digits_are_not_account_digits(raw: str) -> None:
    assert not is_account_number(raw)
    with pytest.raises(InvalidValue):
        parse_account_number(raw)


def test_generated_account_numbers_are_always_valid() -> None:
    numbers = [generate_account_number() for _ in range(200)]
    assert all(isinstance(number, str) for number in numbers)
    assert all(is_account_number(number) for number in numbers)
    assert all(parse_account_number(number) == number for number in numbers)
    # Twelve random digits: 200 draws that repeat would mean the generator is broken.
    assert len(set(numbers)) > 190

"""Account numbers: always three groups of four ASCII digits."""

from __future__ import annotations

import pytest

from smarter.domain.account_number import AccountNumber
from smarter.domain.errors import InvalidValue

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
    "١٢٣٤-٥٦٧٨-٩٠١٢",  # Arabic-Indic digits
    "１２３４-５６７８-９０１２",  # full-width digits
    "1234-5678-９０１２",
    "1234–5678–9012",  # en dashes
]


@pytest.mark.parametrize("raw", VALID)
def test_a_well_formed_account_number_parses_to_itself(raw: str) -> None:
    number = AccountNumber(raw)
    assert number == raw
    assert isinstance(number, str)
    assert AccountNumber.is_valid(raw)


def test_surrounding_whitespace_is_dropped_when_parsing_but_not_when_checking() -> None:
    assert AccountNumber("  3141-5926-5359\n") == "3141-5926-5359"
    assert not AccountNumber.is_valid("3141-5926-5359\n")


@pytest.mark.parametrize("raw", INVALID)
def test_a_malformed_account_number_is_rejected_naming_the_field(raw: str) -> None:
    assert not AccountNumber.is_valid(raw)
    with pytest.raises(InvalidValue) as caught:
        AccountNumber(raw)
    assert caught.value.field == "account_number"
    assert "####-####-####" in caught.value.message


@pytest.mark.parametrize("raw", ["١٢٣٤-٥٦٧٨-٩٠١٢", "１２３４-５６７８-９０１２"])
def test_unicode_digits_are_not_account_digits(raw: str) -> None:
    assert not AccountNumber.is_valid(raw)
    with pytest.raises(InvalidValue):
        AccountNumber(raw)


def test_generated_account_numbers_are_always_valid() -> None:
    numbers = [AccountNumber.generate() for _ in range(200)]
    assert all(isinstance(number, AccountNumber) for number in numbers)
    assert all(AccountNumber.is_valid(number) for number in numbers)
    assert all(AccountNumber(number) == number for number in numbers)
    # Twelve random digits: 200 draws that repeat would mean the generator is broken.
    assert len(set(numbers)) > 190

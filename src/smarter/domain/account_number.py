"""Account numbers: three groups of four digits, `3141-5926-5359`.

`AccountNumber` is a NewType of `str`, so it travels through msgspec, JSON and SQL as a plain
string; `parse_account_number` is the one way to get one from untrusted input.
"""

from __future__ import annotations

import re
import secrets
from typing import NewType

from smarter.domain.errors import InvalidValue

AccountNumber = NewType("AccountNumber", str)

_PATTERN = re.compile(r"[0-9]{4}-[0-9]{4}-[0-9]{4}")


def is_account_number(raw: str) -> bool:
    return _PATTERN.fullmatch(raw) is not None


def parse_account_number(raw: str) -> AccountNumber:
    value = raw.strip()
    if not is_account_number(value):
        raise InvalidValue("account_number", f"'{raw}' is not of the form ####-####-####")
    return AccountNumber(value)


def generate_account_number() -> AccountNumber:
    digits = f"{secrets.randbelow(10**12):012d}"
    return AccountNumber(f"{digits[0:4]}-{digits[4:8]}-{digits[8:12]}")

"""Account numbers: three groups of four digits, `3141-5926-5359`."""

from __future__ import annotations

import re
import secrets

from smarter.domain.errors import InvalidValue

_PATTERN = re.compile(r"\d{4}-\d{4}-\d{4}")


class AccountNumber(str):
    """A validated account number; it is a `str`, so it serialises as one."""

    __slots__ = ()

    def __new__(cls, raw: str) -> AccountNumber:
        value = raw.strip()
        if not _PATTERN.fullmatch(value) or not value.isascii():
            raise InvalidValue("account_number", f"'{raw}' is not of the form ####-####-####")
        return super().__new__(cls, value)

    @classmethod
    def is_valid(cls, raw: str) -> bool:
        return raw.isascii() and _PATTERN.fullmatch(raw) is not None

    @classmethod
    def generate(cls) -> AccountNumber:
        digits = f"{secrets.randbelow(10**12):012d}"
        return cls(f"{digits[0:4]}-{digits[4:8]}-{digits[8:12]}")

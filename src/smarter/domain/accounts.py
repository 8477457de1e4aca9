"""Accounts, their users and the credentials they hold."""

from __future__ import annotations

import re
from datetime import datetime

import msgspec

from smarter.domain.account_number import AccountNumber
from smarter.domain.errors import InvalidValue

_USERNAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")


def validate_username(raw: str) -> str:
    """Lower-case user names; they end up as a host label for non-admin owners."""
    if not raw.isascii() or not _USERNAME.fullmatch(raw):
        raise InvalidValue(
            "username", f"'{raw}' must be 1-63 of a-z, 0-9, '_', '.', '-', starting alphanumeric"
        )
    return raw


class Account(msgspec.Struct, kw_only=True):
    account_number: AccountNumber
    name: str = ""
    id: int | None = None
    created_at: datetime | None = None


class User(msgspec.Struct, kw_only=True):
    account_number: AccountNumber
    username: str
    is_account_admin: bool = False
    email: str = ""
    # A deactivated user can neither sign in nor use their tokens; their clients stay.
    is_active: bool = True
    has_password: bool = False
    id: int | None = None
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        validate_username(self.username)


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Who is calling the console API: a user of one account, found by their token."""

    user_id: int
    username: str
    account_number: AccountNumber
    is_account_admin: bool
    token_id: int | None = None  # None when an operator acts through the CLI


class StoredSecret(msgspec.Struct, kw_only=True):
    """A credential as stored: only its hash and a display prefix are kept."""

    name: str
    digest: str
    display_prefix: str
    id: int | None = None
    created_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AccountToken(StoredSecret, kw_only=True):
    """A console API credential of one user."""

    user_id: int


class LLMClientAPIKey(StoredSecret, kw_only=True):
    """A key a deployed client may require in `x-api-key`."""

    llm_client_id: int


class Invitation(msgspec.Struct, kw_only=True):
    """A one-time link with which a user sets their first (or a new) password."""

    account_number: AccountNumber
    user_id: int
    digest: str
    expires_at: datetime
    id: int | None = None
    created_at: datetime | None = None
    used_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at

"""advanced-alchemy's repositories of our rows, and its errors as the ports' errors.

The SQL adapters read and write rows through the `SQLAlchemyAsyncRepository` subclasses
below. `@translates_errors` on an adapter class turns what a repository raises into the
ports' errors at the adapter's edge:

- `NotFoundError` becomes NotFound, with the message the call passed as
  `error_messages={"not_found": ...}`;
- anything else the repository wrapped (a lost connection, a statement timeout) is raised
  again as the original SQLAlchemy or driver error, so that an outage stays an outage for
  the HTTP layer (503) and is not mistaken for bad data.

Writes that may break a constraint run in `guarded_write` (a savepoint that turns a unique
violation into Conflict and a missing parent into NotFound; see integrity.py).

The repositories never commit (the unit of work does) and never refresh a row after writing
it: ids come back from the INSERT, and every default is set in Python.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from advanced_alchemy.exceptions import ErrorMessages, NotFoundError, RepositoryError
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from smarter.adapters.sql.rows import (
    AccountRow,
    AccountTokenRow,
    Base,
    ConsoleSessionRow,
    CustomDomainRow,
    InvitationRow,
    LLMClientAPIKeyRow,
    LLMClientRow,
    ManagedCertificateRow,
    ProvisionedHostRow,
    UserRow,
)
from smarter.domain.account_number import AccountNumber
from smarter.domain.errors import NotFound

RowT = TypeVar("RowT", bound=Base)
AdapterT = TypeVar("AdapterT")
P = ParamSpec("P")
R = TypeVar("R")


class Rows(SQLAlchemyAsyncRepository[RowT]):
    """A repository of one row class, with our defaults (no refresh, no commit)."""

    error_messages: ErrorMessages | None = {"not_found": "no such object"}

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session=session, auto_refresh=False, auto_commit=False)


class AccountRows(Rows[AccountRow]):
    model_type = AccountRow


class UserRows(Rows[UserRow]):
    model_type = UserRow


class InvitationRows(Rows[InvitationRow]):
    model_type = InvitationRow


class AccountTokenRows(Rows[AccountTokenRow]):
    model_type = AccountTokenRow


class ConsoleSessionRows(Rows[ConsoleSessionRow]):
    model_type = ConsoleSessionRow
    id_attribute = "key"


class CustomDomainRows(Rows[CustomDomainRow]):
    model_type = CustomDomainRow


class LLMClientRows(Rows[LLMClientRow]):
    model_type = LLMClientRow


class APIKeyRows(Rows[LLMClientAPIKeyRow]):
    model_type = LLMClientAPIKeyRow


class ProvisionedHostRows(Rows[ProvisionedHostRow]):
    model_type = ProvisionedHostRow


class ManagedCertificateRows(Rows[ManagedCertificateRow]):
    model_type = ManagedCertificateRow


def of_account(
    account_id: InstrumentedAttribute[int], number: AccountNumber
) -> ColumnElement[bool]:
    """A filter: the row's `account_id` is the account's with this number."""
    return account_id == (
        select(AccountRow.id).where(AccountRow.account_number == number).scalar_subquery()
    )


def translates_errors(adapter: type[AdapterT]) -> type[AdapterT]:
    """Make every public coroutine method of `adapter` raise the ports' errors (see above)."""
    for name, member in list(vars(adapter).items()):
        if not name.startswith("_") and inspect.iscoroutinefunction(member):
            setattr(adapter, name, _translating(member))
    return adapter


def _translating(method: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    @functools.wraps(method)
    async def translated(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(*args, **kwargs)
        except NotFoundError as error:
            raise NotFound(error.detail) from error
        except RepositoryError as error:
            # It wraps everything SQLAlchemy raises (and AttributeError): raise the original.
            original = error.__cause__
            if original is None:
                raise
            raise original from original.__cause__

    return translated

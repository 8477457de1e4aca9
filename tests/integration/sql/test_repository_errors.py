"""What the SQL adapters raise when advanced-alchemy's repositories fail, on both dialects."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError

from smarter.adapters.sql.database import make_engine, make_session_factory
from smarter.adapters.sql.unit_of_work import SqlUnitOfWork
from smarter.domain.accounts import User
from smarter.domain.errors import Conflict, NotFound

from ..conftest import DIALECTS, PLATFORM, fresh_database
from .factories import NUMBER, OTHER_NUMBER, an_account


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_a_database_failure_reaches_the_caller_as_the_drivers_error(
    dialect: str, tmp_path: Path
) -> None:
    # A database without tables fails every statement, as a lost one would: the adapter must
    # not dress that up as a missing object or as bad data.
    with fresh_database(dialect, tmp_path, migrate=False) as url:
        engine = make_engine(url)
        try:
            async with make_session_factory(engine)() as session:
                uow = SqlUnitOfWork(session, PLATFORM)
                with pytest.raises(DBAPIError):
                    await uow.domains.get(NUMBER, 1)
        finally:
            await engine.dispose()


async def test_a_missing_row_is_not_found_with_the_ports_message(uow: SqlUnitOfWork) -> None:
    with pytest.raises(NotFound, match="no user 42"):
        await uow.users.get(NUMBER, 42)


async def test_a_broken_unique_key_is_a_conflict_and_the_unit_of_work_goes_on(
    uow: SqlUnitOfWork,
) -> None:
    await an_account(uow)
    with pytest.raises(Conflict, match=f"account {NUMBER} exists"):
        await an_account(uow)

    await an_account(uow, OTHER_NUMBER)
    await uow.commit()
    assert (await uow.accounts.get(OTHER_NUMBER)).account_number == OTHER_NUMBER


async def test_a_change_to_a_row_that_is_gone_is_not_found(uow: SqlUnitOfWork) -> None:
    with pytest.raises(NotFound, match="no user 42"):
        await uow.users.save(User(account_number=NUMBER, username="ghost", id=42))

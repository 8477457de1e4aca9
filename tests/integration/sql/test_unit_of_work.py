"""One transaction per unit of work: the outbox, commit, rollback, savepoints on SQLite too."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest
from sqlalchemy import func, select

from smarter.adapters.sql.rows import OutboxRow
from smarter.adapters.sql.unit_of_work import SqlUnitOfWork
from smarter.application.jobs import ReconcileClient, VerifyCustomDomain, decode_job
from smarter.domain.errors import Conflict, NotFound

from .factories import NUMBER, OTHER_NUMBER, a_user, an_account, an_account_with_admin

NewUoW = Callable[[], AbstractAsyncContextManager[SqlUnitOfWork]]


async def _stored_jobs(uow: SqlUnitOfWork) -> list[object]:
    rows = await uow.session.scalars(select(OutboxRow).order_by(OutboxRow.id))
    return [(decode_job(row.job), row.processed_at, row.attempts) for row in rows]


async def test_outbox_jobs_are_stored_when_the_unit_of_work_commits(
    uow: SqlUnitOfWork, new_uow: NewUoW
) -> None:
    uow.outbox.add(ReconcileClient(client_id=7))
    uow.outbox.add(VerifyCustomDomain(domain_id=3))

    async with new_uow() as other:
        assert await _stored_jobs(other) == []
    await uow.commit()

    async with new_uow() as other:
        assert await _stored_jobs(other) == [
            (ReconcileClient(client_id=7), None, 0),
            (VerifyCustomDomain(domain_id=3), None, 0),
        ]


async def test_outbox_jobs_are_dropped_when_the_unit_of_work_rolls_back(
    uow: SqlUnitOfWork, new_uow: NewUoW
) -> None:
    await an_account(uow)
    uow.outbox.add(ReconcileClient(client_id=7))
    await uow.rollback()
    await uow.commit()

    async with new_uow() as other:
        assert await _stored_jobs(other) == []
        with pytest.raises(NotFound):
            await other.accounts.get(NUMBER)


async def test_the_job_document_is_msgspecs_json_of_the_job(uow: SqlUnitOfWork) -> None:
    uow.outbox.add(ReconcileClient(client_id=7))
    await uow.commit()

    job = await uow.session.scalar(select(OutboxRow.job))

    assert job == {"type": "ReconcileClient", "client_id": 7}


async def test_a_rollback_undoes_every_write_since_the_last_commit(
    uow: SqlUnitOfWork, new_uow: NewUoW
) -> None:
    # Each write runs in a savepoint; on SQLite that must not commit it on release.
    await an_account_with_admin(uow)
    await uow.commit()
    await an_account_with_admin(uow, OTHER_NUMBER)
    await a_user(uow, NUMBER, "bob", admin=False)
    await uow.rollback()

    async with new_uow() as other:
        assert [u.username for u in await other.users.list(NUMBER)] == ["admin"]
        with pytest.raises(NotFound):
            await other.accounts.get(OTHER_NUMBER)


async def test_a_conflict_rolls_back_only_the_write_that_caused_it(
    uow: SqlUnitOfWork, new_uow: NewUoW
) -> None:
    await an_account_with_admin(uow)
    uow.outbox.add(ReconcileClient(client_id=1))
    with pytest.raises(Conflict):
        await a_user(uow, NUMBER, "admin")
    await a_user(uow, NUMBER, "carol", admin=False)
    await uow.commit()

    async with new_uow() as other:
        assert [u.username for u in await other.users.list(NUMBER)] == ["admin", "carol"]
        count = await other.session.scalar(select(func.count()).select_from(OutboxRow))
        assert count == 1


async def test_two_units_of_work_write_one_after_the_other(
    uow: SqlUnitOfWork, new_uow: NewUoW
) -> None:
    await an_account(uow)
    async with new_uow() as other:
        # `other` reads while `uow` holds an open write transaction, then waits its turn.
        with pytest.raises(NotFound):
            await other.accounts.get(NUMBER)
        await uow.commit()
        await an_account(other, OTHER_NUMBER)
        await other.commit()
        assert (await other.accounts.get(NUMBER)).id is not None

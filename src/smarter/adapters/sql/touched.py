"""Which accounts a unit of work changed, so that its commit can invalidate the chat cache.

The repositories that write clients, their API keys or custom domains note the account on
the session (`session.info`); `SqlUnitOfWork.commit()` hands the set to its after-commit
callback. Noting it here, in the one place every such write passes, means no use case can
forget to invalidate.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from smarter.adapters.sql.rows import AccountRow, LLMClientRow
from smarter.domain.account_number import AccountNumber

_KEY = "smarter.touched_accounts"


def note_account(session: AsyncSession, account: str) -> None:
    session.info.setdefault(_KEY, set()).add(AccountNumber(account))


async def note_client(session: AsyncSession, client_id: int) -> None:
    """Note the account of the client `client_id` (for writes that know only the client)."""
    account = await session.scalar(
        select(AccountRow.account_number)
        .join(LLMClientRow, LLMClientRow.account_id == AccountRow.id)
        .where(LLMClientRow.id == client_id)
    )
    if account is not None:
        note_account(session, account)


def take_touched(session: AsyncSession) -> frozenset[AccountNumber]:
    """The accounts noted since the last call (and forget them)."""
    return frozenset(session.info.pop(_KEY, ()))

"""The unit of work: one session, the repositories on it, one commit."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from smarter.adapters.sql.accounts import SqlAccounts, SqlAccountTokens, SqlUsers
from smarter.adapters.sql.api_keys import SqlAPIKeys
from smarter.adapters.sql.custom_domains import SqlCustomDomains
from smarter.adapters.sql.history import SqlConversations, SqlRequestHistory
from smarter.adapters.sql.llm_clients import SqlLLMClients
from smarter.adapters.sql.outbox import SqlOutbox
from smarter.domain.environments import Platform


class SqlUnitOfWork:
    """Repositories sharing one session: nothing they write is stored until `commit()`."""

    def __init__(self, session: AsyncSession, platform: Platform) -> None:
        self.session = session
        self.accounts = SqlAccounts(session)
        self.users = SqlUsers(session)
        self.tokens = SqlAccountTokens(session)
        self.clients = SqlLLMClients(session, platform)
        self.api_keys = SqlAPIKeys(session)
        self.domains = SqlCustomDomains(session)
        self.outbox = SqlOutbox(session)
        # Not in the UnitOfWork port yet (the chat endpoint's issue adds them).
        self.history = SqlRequestHistory(session)
        self.conversations = SqlConversations(session)

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()

"""The unit of work: one session, the repositories on it, one commit."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncSession

from smarter.adapters.sql.accounts import (
    SqlAccounts,
    SqlAccountTokens,
    SqlInvitations,
    SqlUsers,
)
from smarter.adapters.sql.api_keys import SqlAPIKeys
from smarter.adapters.sql.custom_domains import SqlCustomDomains
from smarter.adapters.sql.custom_hostnames import SqlCustomHostnames
from smarter.adapters.sql.dns_changes import SqlDnsChanges
from smarter.adapters.sql.history import SqlConversations, SqlRequestHistory
from smarter.adapters.sql.llm_clients import SqlLLMClients
from smarter.adapters.sql.outbox import SqlOutbox
from smarter.adapters.sql.provisioning import SqlProvisioningRecords
from smarter.adapters.sql.touched import take_touched
from smarter.adapters.sql.webhooks import SqlWebhooks
from smarter.domain.account_number import AccountNumber
from smarter.domain.environments import Platform

logger = logging.getLogger(__name__)

AfterCommit = Callable[[frozenset[AccountNumber]], Awaitable[None]]
"""Told which accounts' clients, API keys or custom domains a commit changed."""


class SqlUnitOfWork:
    """Repositories sharing one session: nothing they write is stored until `commit()`.

    Each repository is built when first used: building one costs some microseconds (its
    advanced-alchemy repositories prepare statements), and most units of work use one or two.
    """

    def __init__(
        self, session: AsyncSession, platform: Platform, after_commit: AfterCommit | None = None
    ) -> None:
        self.session = session
        self._platform = platform
        self._after_commit = after_commit

    @cached_property
    def accounts(self) -> SqlAccounts:
        return SqlAccounts(self.session)

    @cached_property
    def users(self) -> SqlUsers:
        return SqlUsers(self.session)

    @cached_property
    def tokens(self) -> SqlAccountTokens:
        return SqlAccountTokens(self.session)

    @cached_property
    def invitations(self) -> SqlInvitations:
        return SqlInvitations(self.session)

    @cached_property
    def clients(self) -> SqlLLMClients:
        return SqlLLMClients(self.session, self._platform)

    @cached_property
    def api_keys(self) -> SqlAPIKeys:
        return SqlAPIKeys(self.session)

    @cached_property
    def domains(self) -> SqlCustomDomains:
        return SqlCustomDomains(self.session)

    @cached_property
    def hostnames(self) -> SqlCustomHostnames:
        return SqlCustomHostnames(self.session)

    @cached_property
    def outbox(self) -> SqlOutbox:
        return SqlOutbox(self.session)

    @cached_property
    def provisioning(self) -> SqlProvisioningRecords:
        return SqlProvisioningRecords(self.session)

    @cached_property
    def dns_changes(self) -> SqlDnsChanges:
        return SqlDnsChanges(self.session)

    @cached_property
    def history(self) -> SqlRequestHistory:
        return SqlRequestHistory(self.session)

    @cached_property
    def conversations(self) -> SqlConversations:
        return SqlConversations(self.session)

    @cached_property
    def webhooks(self) -> SqlWebhooks:
        return SqlWebhooks(self.session)

    async def commit(self) -> None:
        await self.session.commit()
        touched = take_touched(self.session)
        if touched and self._after_commit is not None:
            try:
                await self._after_commit(touched)
            except Exception:  # the change is stored; a stale cache entry expires on its own
                logger.exception("the after-commit callback failed for %s", sorted(touched))

    async def rollback(self) -> None:
        await self.session.rollback()
        take_touched(self.session)

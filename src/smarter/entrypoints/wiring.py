"""The one binding table: which adapter serves which port, and every use case.

Settings enter as context; nothing here runs at import time. Tests build the same container
with their own providers added last (`override=True` there) to swap an adapter for a fake.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from dishka import AsyncContainer, Provider, Scope, from_context, make_async_container, provide
from dishka import provide_all as provide_all_of
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from smarter.adapters.sql.database import make_engine, make_session_factory
from smarter.adapters.sql.unit_of_work import SqlUnitOfWork
from smarter.adapters.system_clock import SystemClock
from smarter.application import accounts, api_keys, custom_domains, llm_clients, manifests
from smarter.application.ports import Clock, UnitOfWork
from smarter.domain.environments import Platform
from smarter.domain.host_router import HostRouter
from smarter.entrypoints.settings import Settings

USE_CASES = (
    accounts.CreateAccount,
    accounts.GetAccount,
    accounts.CreateUser,
    accounts.ListUsers,
    accounts.IssueToken,
    accounts.ListTokens,
    accounts.RevokeToken,
    accounts.Authenticate,
    accounts.ActAs,
    llm_clients.CreateLLMClient,
    llm_clients.GetLLMClient,
    llm_clients.ListLLMClients,
    llm_clients.UpdateLLMClient,
    llm_clients.CloneLLMClient,
    llm_clients.DeleteLLMClient,
    llm_clients.DeployLLMClient,
    llm_clients.UndeployLLMClient,
    llm_clients.GetClientStatus,
    llm_clients.AttachCustomDomain,
    api_keys.CreateAPIKey,
    api_keys.ListAPIKeys,
    api_keys.RevokeAPIKey,
    custom_domains.RegisterCustomDomain,
    custom_domains.ListCustomDomains,
    custom_domains.GetCustomDomain,
    custom_domains.RequestDomainVerification,
    custom_domains.DeleteCustomDomain,
    manifests.ApplyManifest,
    manifests.GetManifest,
)


class PlatformProvider(Provider):
    """Process-wide objects: settings, the host rules, the clock, the database engine."""

    scope = Scope.APP
    settings = from_context(provides=Settings, scope=Scope.APP)

    @provide
    def platform(self, settings: Settings) -> Platform:
        return settings.platform

    @provide
    def host_router(self, platform: Platform) -> HostRouter:
        return HostRouter(platform)

    @provide
    def clock(self) -> Clock:
        return SystemClock()

    @provide
    async def engine(self, settings: Settings) -> AsyncIterator[AsyncEngine]:
        engine = make_engine(settings.database_url)
        yield engine
        await engine.dispose()

    @provide
    def sessions(self, engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
        return make_session_factory(engine)


class RequestProvider(Provider):
    """One unit of work per request (or job, or CLI command) and the use cases on it."""

    scope = Scope.REQUEST

    @provide
    async def unit_of_work(
        self, sessions: async_sessionmaker[AsyncSession], platform: Platform
    ) -> AsyncIterator[UnitOfWork]:
        async with sessions() as session:
            yield SqlUnitOfWork(session, platform)

    use_cases = provide_all_of(*USE_CASES)


def make_container(settings: Settings, *overrides: Provider) -> AsyncContainer:
    return make_async_container(
        PlatformProvider(), RequestProvider(), *overrides, context={Settings: settings}
    )

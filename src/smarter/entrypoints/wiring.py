"""The one binding table: which adapter serves which port, and every use case.

Settings enter as context; nothing here runs at import time. Tests build the same container
with their own providers added last (`override=True` there) to swap an adapter for a fake.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import cast

from dishka import AsyncContainer, Provider, Scope, from_context, make_async_container, provide
from dishka import provide_all as provide_all_of
from litestar.stores.base import Store
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from smarter.adapters.argon2_passwords import Argon2PasswordHasher
from smarter.adapters.chat_models import chat_models_from
from smarter.adapters.in_process_job_queue import InProcessJobQueue
from smarter.adapters.local_infrastructure import (
    InstantCertificates,
    MemoryCluster,
    MemoryDnsResolver,
    MemoryDnsZones,
)
from smarter.adapters.measured_ports import (
    CountedClientCache,
    CountedRateLimiter,
    MeasuredChatModels,
)
from smarter.adapters.memory_client_cache import MemoryClientCache
from smarter.adapters.memory_rate_limiter import MemoryRateLimiter
from smarter.adapters.openai_chat import Transport
from smarter.adapters.prometheus_metrics import HISTORY_QUEUED
from smarter.adapters.sql.chat_recorder import SqlChatRecorder
from smarter.adapters.sql.database import make_engine, make_session_factory
from smarter.adapters.sql.outbox import SqlOutboxRelay
from smarter.adapters.sql.schema_check import SqlSchemaCheck
from smarter.adapters.sql.unit_of_work import SqlUnitOfWork
from smarter.adapters.system_clock import SystemClock
from smarter.application import (
    accounts,
    api_keys,
    custom_domains,
    custom_hostnames,
    history,
    llm_clients,
    manifests,
    sign_in,
    usage,
    webhook_delivery,
    webhooks,
)
from smarter.application.chat import sandbox
from smarter.application.chat.access import Admission
from smarter.application.chat.answer_chat import AnswerChat
from smarter.application.chat.answering import Answerer
from smarter.application.chat.hosts import FindClientForHost, ServeHost, UnitsOfWork
from smarter.application.chat.recording import TurnRecorder
from smarter.application.chat.tool_rounds import ToolRounds
from smarter.application.chat_ports import ChatRecorder, ClientCache, RateLimiter
from smarter.application.health import CHECK_TIMEOUT_SECONDS, HealthCheck, Readiness
from smarter.application.infrastructure import (
    Certificates,
    Cluster,
    DnsResolver,
    DnsZones,
    JobQueue,
)
from smarter.application.llm import ChatModels
from smarter.application.ports import Clock, PasswordHasher, UnitOfWork
from smarter.application.provisioning import (
    ProviderFailures,
    ProvisioningJobs,
    ProvisioningPolicy,
)
from smarter.application.tools import builtin_tools
from smarter.application.webhook_ports import (
    Jitter,
    SecretBox,
    WebhookPolicy,
    WebhookTransport,
)
from smarter.domain.environments import Environment, Platform
from smarter.domain.host_router import HostRouter
from smarter.domain.webhooks import RetrySchedule
from smarter.entrypoints.provisioning_adapters import (
    KubernetesWrites,
    kubernetes_cluster,
    kubernetes_writes,
    provisioning_policy,
    real_certificates,
    route53_dns_zones,
)
from smarter.entrypoints.settings import ConfigurationError, Settings

USE_CASES = (
    accounts.CreateAccount,
    accounts.GetAccount,
    accounts.CreateUser,
    accounts.ListUsers,
    accounts.IssueToken,
    accounts.ListTokens,
    accounts.RevokeToken,
    accounts.ChangeUser,
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
    custom_hostnames.RegisterCustomHostname,
    custom_hostnames.ListCustomHostnames,
    custom_hostnames.GetCustomHostname,
    custom_hostnames.RequestHostnameVerification,
    custom_hostnames.DeleteCustomHostname,
    manifests.ApplyManifest,
    manifests.GetManifest,
    history.ListChatRequests,
    history.ListConversations,
    history.GetConversation,
    sandbox.LoadSandboxClient,
    sandbox.AnswerSandboxChat,
    sign_in.SignIn,
    sign_in.CurrentUser,
    sign_in.SetPassword,
    sign_in.InviteUser,
    sign_in.OpenInvitation,
    sign_in.AcceptInvitation,
    usage.ClientUsage,
    webhooks.RegisterWebhookEndpoint,
    webhooks.ListWebhookEndpoints,
    webhooks.GetWebhookEndpoint,
    webhooks.UpdateWebhookEndpoint,
    webhooks.RotateWebhookSecret,
    webhooks.DeleteWebhookEndpoint,
    webhooks.ListWebhookDeliveries,
    webhooks.GetWebhookDelivery,
    webhook_delivery.ClaimDueWebhooks,
    webhook_delivery.DeliverWebhook,
    webhook_delivery.PruneWebhookDeliveries,
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

    @provide
    def passwords(self) -> PasswordHasher:
        return Argon2PasswordHasher()

    @provide
    def sign_in_policy(self, settings: Settings) -> sign_in.SignInPolicy:
        return sign_in.SignInPolicy(
            attempts_per_user=settings.sign_in_attempts_per_user,
            attempts_per_address=settings.sign_in_attempts_per_address,
        )

    @provide
    async def console_sessions(
        self, settings: Settings, sessions: async_sessionmaker[AsyncSession]
    ) -> AsyncIterator[Store]:
        """Console sessions: in Redis when configured (shared, expiring by itself), else in
        the database."""
        if not settings.redis_url:
            from smarter.adapters.sql.console_sessions import SqlSessionStore

            yield SqlSessionStore(sessions)
            return
        from litestar.stores.redis import RedisStore
        from redis.asyncio import Redis

        redis = Redis.from_url(settings.redis_url)
        try:
            yield RedisStore(redis, namespace=f"{settings.redis_prefix}:sessions")
        finally:
            await redis.aclose()


class RequestProvider(Provider):
    """One unit of work per request (or job, or CLI command) and the use cases on it."""

    scope = Scope.REQUEST

    @provide
    async def unit_of_work(
        self, sessions: async_sessionmaker[AsyncSession], platform: Platform, cache: ClientCache
    ) -> AsyncIterator[UnitOfWork]:
        # Every commit that changed a client, its keys or a domain invalidates the chat cache.
        async with sessions() as session:
            yield SqlUnitOfWork(session, platform, after_commit=cache.invalidate)

    use_cases = provide_all_of(*USE_CASES)


@dataclass(frozen=True)
class ChatBackends:
    """The host → client cache and the rate limiter: Redis when configured, else memory."""

    cache: ClientCache
    limiter: RateLimiter


class ChatProvider(Provider):
    """The chat hot path, all at APP scope: a chat request resolves nothing per call."""

    scope = Scope.APP

    @provide
    async def chat_models(self, settings: Settings) -> AsyncIterator[ChatModels]:
        try:
            models = chat_models_from(
                settings.openai_api_key,
                settings.openai_base_url,
                settings.llm_timeout_seconds,
                settings.llm_providers,
                transport=cast(Transport, settings.llm_transport),
            )
        except ValueError as error:
            raise ConfigurationError(f"SMARTER_LLM_PROVIDERS: {error}") from None
        yield MeasuredChatModels(models)
        await models.aclose()

    @provide
    async def chat_backends(self, settings: Settings) -> AsyncIterator[ChatBackends]:
        # The one place that chooses: Redis shared by every process, or this process's memory.
        if not settings.redis_url:
            yield ChatBackends(MemoryClientCache(), MemoryRateLimiter())
            return
        from redis.asyncio import Redis

        from smarter.adapters.redis_client_cache import RedisClientCache
        from smarter.adapters.redis_rate_limiter import RedisRateLimiter

        redis = Redis.from_url(settings.redis_url)
        cache = RedisClientCache(redis, prefix=settings.redis_prefix)
        await cache.start()
        try:
            yield ChatBackends(cache, RedisRateLimiter(redis, prefix=settings.redis_prefix))
        finally:
            await cache.close()
            await redis.aclose()

    @provide
    def client_cache(self, backends: ChatBackends) -> ClientCache:
        return CountedClientCache(backends.cache)

    @provide
    def rate_limiter(self, backends: ChatBackends) -> RateLimiter:
        return CountedRateLimiter(backends.limiter)

    @provide
    async def recorder(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> AsyncIterator[ChatRecorder]:
        recorder = SqlChatRecorder(sessions)
        HISTORY_QUEUED.set_function(lambda: recorder.queued)  # read when scraped
        yield recorder
        await recorder.aclose()  # a normal shutdown stores every turn accepted

    @provide
    def units_of_work(self, container: AsyncContainer) -> UnitsOfWork:
        """Units of work for the host lookup, through the container (so fakes apply too)."""

        @asynccontextmanager
        async def opened() -> AsyncIterator[UnitOfWork]:
            async with container() as request_scope:
                yield await request_scope.get(UnitOfWork)

        def open_unit() -> AbstractAsyncContextManager[UnitOfWork]:
            return opened()

        return open_unit

    find_client = provide(FindClientForHost)

    @provide
    def serve_host(self, settings: Settings, find_client: FindClientForHost) -> ServeHost:
        return ServeHost(find_client, settings.platform.scheme)

    @provide
    def answerer(
        self, settings: Settings, models: ChatModels, recorder: ChatRecorder, clock: Clock
    ) -> Answerer:
        tools = builtin_tools()
        rounds = ToolRounds(tools, settings.llm_tool_rounds)
        return Answerer(models, tools, rounds, TurnRecorder(recorder, clock), clock)

    @provide
    def admission(self, settings: Settings, limiter: RateLimiter) -> Admission:
        return Admission(limiter, settings.chat_rate_limit_per_minute)

    answer_chat = provide(AnswerChat)


class ProvisioningProvider(Provider):
    """The worker's side: the job queue, the outbox relay, the infrastructure adapters (real
    ones, or in-memory ones in `local`, where hosts need no DNS, certificate or Ingress)."""

    scope = Scope.APP

    @provide
    def policy(self, settings: Settings) -> ProvisioningPolicy:
        return provisioning_policy(settings)

    @provide
    def hostname_setup(self, policy: ProvisioningPolicy) -> custom_hostnames.HostnameSetup:
        return custom_hostnames.HostnameSetup.of(policy)

    @provide
    async def job_queue(self, settings: Settings) -> AsyncIterator[JobQueue]:
        if settings.redis_url:
            from saq.queue.redis import RedisQueue

            from smarter.adapters.saq_job_queue import SaqJobQueue

            redis_queue = RedisQueue.from_url(settings.redis_url, name=settings.queue_name)
            await redis_queue.connect()
            yield SaqJobQueue(redis_queue, timeout_seconds=settings.worker_job_timeout_seconds)
            await redis_queue.disconnect()
        else:
            in_process = InProcessJobQueue(settings.worker_concurrency)
            yield in_process
            await in_process.stop()

    @provide
    def relay(self, sessions: async_sessionmaker[AsyncSession], queue: JobQueue) -> SqlOutboxRelay:
        return SqlOutboxRelay(sessions, queue)

    @provide
    async def dns_zones(self, settings: Settings) -> AsyncIterator[DnsZones]:
        if settings.environment is Environment.LOCAL:
            yield MemoryDnsZones()
            return
        async with route53_dns_zones(settings) as zones:
            yield zones

    @provide
    def dns_resolver(self, settings: Settings, zones: DnsZones) -> DnsResolver:
        if isinstance(zones, MemoryDnsZones):
            return MemoryDnsResolver(zones)
        from smarter.adapters.dnspython_resolver import DnspythonResolver

        return DnspythonResolver(settings.dns_nameservers)

    @provide
    def kubernetes_writes(self, settings: Settings) -> KubernetesWrites:
        return kubernetes_writes(settings)

    @provide
    def cluster(self, settings: Settings, writes: KubernetesWrites) -> Cluster:
        if settings.environment is Environment.LOCAL:
            return MemoryCluster()
        return kubernetes_cluster(settings, writes)

    @provide
    def certificates(
        self,
        settings: Settings,
        clock: Clock,
        zones: DnsZones,
        resolver: DnsResolver,
        writes: KubernetesWrites,
    ) -> Certificates:
        if settings.environment is Environment.LOCAL:
            return InstantCertificates(clock)
        return real_certificates(settings, zones, resolver, writes)

    @provide
    def failures(self) -> ProviderFailures:
        return ProviderFailures()

    jobs = provide(ProvisioningJobs, scope=Scope.REQUEST)


class HealthProvider(Provider):
    """Readiness: the database (reachable, migrated), and Redis when the platform uses it."""

    scope = Scope.APP

    @provide
    async def readiness(self, settings: Settings, engine: AsyncEngine) -> AsyncIterator[Readiness]:
        checks: list[HealthCheck] = [SqlSchemaCheck(engine)]
        if not settings.redis_url:
            yield Readiness(checks)
            return
        from redis.asyncio import Redis

        from smarter.adapters.redis_health import RedisPing

        # Its own connection, with short timeouts: a probe never waits behind chat traffic.
        redis = Redis.from_url(
            settings.redis_url,
            socket_connect_timeout=CHECK_TIMEOUT_SECONDS,
            socket_timeout=CHECK_TIMEOUT_SECONDS,
        )
        try:
            yield Readiness([*checks, RedisPing(redis)])
        finally:
            await redis.aclose()


class WebhookProvider(Provider):
    """Webhooks: the policy, the secret box and the HTTP transport (one per process)."""

    scope = Scope.APP

    @provide
    def policy(self, settings: Settings) -> WebhookPolicy:
        return WebhookPolicy(
            schedule=RetrySchedule(
                first_seconds=settings.webhook_first_retry_seconds,
                max_seconds=settings.webhook_max_retry_seconds,
                window_seconds=settings.webhook_retry_window_seconds,
            ),
            allow_private=_private_webhooks_allowed(settings),
            lease_seconds=settings.webhook_timeout_seconds + 30.0,
        )

    @provide
    def secret_box(self, settings: Settings) -> SecretBox:
        from smarter.adapters.aes_gcm_secret_box import (
            LOCAL_DEVELOPMENT_KEY,
            AesGcmSecretBox,
            UnconfiguredSecretBox,
        )

        keys = settings.webhook_secret_keys
        if not keys and settings.environment is Environment.LOCAL:
            keys = (LOCAL_DEVELOPMENT_KEY,)
        if not keys:
            return UnconfiguredSecretBox()
        try:
            return AesGcmSecretBox(keys)
        except ValueError as error:
            raise ConfigurationError(f"SMARTER_WEBHOOK_SECRET_KEYS: {error}") from None

    @provide
    async def transport(self, settings: Settings) -> AsyncIterator[WebhookTransport]:
        from smarter.adapters.aiohttp_webhook_transport import AiohttpWebhookTransport

        transport = AiohttpWebhookTransport(
            allow_private=_private_webhooks_allowed(settings),
            timeout_seconds=settings.webhook_timeout_seconds,
        )
        yield transport
        await transport.aclose()

    @provide
    def jitter(self) -> Jitter:
        return Jitter()


def _private_webhooks_allowed(settings: Settings) -> bool:
    return settings.environment is Environment.LOCAL or settings.webhook_allow_private_addresses


def make_container(settings: Settings, *overrides: Provider) -> AsyncContainer:
    return make_async_container(
        PlatformProvider(),
        RequestProvider(),
        ChatProvider(),
        ProvisioningProvider(),
        HealthProvider(),
        WebhookProvider(),
        *overrides,
        context={Settings: settings},
    )

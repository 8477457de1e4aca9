"""RedisClientCache against the real Redis: each RedisClientCache on its own Redis client plays
one web process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from redis.asyncio import Redis

from smarter.adapters import redis_client_cache
from smarter.adapters.redis_client_cache import RedisClientCache
from smarter.application.chat_ports import ClientEntry
from smarter.domain.account_number import AccountNumber, generate_account_number
from smarter.domain.custom_domain import CustomDomain, VerificationReport
from smarter.domain.environments import Environment, Platform
from smarter.domain.llm_client import LLMClient
from smarter.domain.status import DnsVerificationStatus, TlsCertificateIssuanceStatus
from tests.integration.redis.conftest import REDIS_URL, eventually

NOBODY = ClientEntry(client=None)


def entry_of(account: AccountNumber, name: str = "helper") -> ClientEntry:
    """A deployed client with every kind of field filled in: nested structs, enums, dates."""
    at = datetime(2024, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)
    domain = CustomDomain(
        domain_name="Shop.Example.org",
        account_number=account,
        id=7,
        aws_hosted_zone_id="Z123",
        name_servers=("ns-1.example.net", "ns-2.example.net"),
        is_verified=True,
        last_verification=VerificationReport(
            checked_at=at, name_servers_found=("ns-1.example.net",), message="ok"
        ),
    )
    client = LLMClient(
        name=name,
        description="answers questions",
        annotations={"team": "support"},
        tags=["faq", "beta"],
        default_temperature=0.25,
        app_example_prompts=["What is Smarter?"],
        app_logo_url="https://cdn.example.org/logo.png",
        functions=["date_calculator"],
        cors_origins=["https://www.example.org"],
        platform=Platform(root_domain="example.org", environment=Environment.BETA),
        account_number=account,
        owner_username="alice",
        owner_is_admin=False,
        id=42,
        owner_id=3,
        deployed=True,
        dns_verification_status=DnsVerificationStatus.VERIFIED,
        tls_certificate_issuance_status=TlsCertificateIssuanceStatus.ISSUED,
        custom_domain=domain,
        active_api_keys=2,
        created_at=at,
        updated_at=datetime(2024, 6, 2, 8, 30),  # naive, as some stores give them
    )
    return ClientEntry(client=client, api_keys={"a" * 64: 1, "b" * 64: 2})


NewCache = Callable[..., RedisClientCache]
Started = Callable[..., Awaitable[RedisClientCache]]


@pytest.fixture
async def new_cache(connect: Callable[[], Redis], prefix: str) -> AsyncIterator[NewCache]:
    """Make caches (each on its own Redis client: one per process); closed at the end."""
    made: list[RedisClientCache] = []

    def make(**options: Any) -> RedisClientCache:
        cache = RedisClientCache(connect(), prefix, **options)
        made.append(cache)
        return cache

    yield make
    for cache in made:
        await cache.close()


@pytest.fixture
def started(new_cache: NewCache) -> Started:
    """Make caches whose subscriber runs (and is subscribed)."""

    async def start(**options: Any) -> RedisClientCache:
        cache = new_cache(**options)
        await cache.start()
        assert cache.listening
        return cache

    return start


async def test_an_entry_put_by_one_process_is_found_by_another_exactly_equal(
    started: Started,
) -> None:
    one, other = await started(), await started()
    entry = entry_of(generate_account_number())

    await one.put("helper.alice.1234-5678-9012.api.example.org", entry)

    assert await one.get("helper.alice.1234-5678-9012.api.example.org") == entry
    found = await other.get("helper.alice.1234-5678-9012.api.example.org")
    assert found == entry
    assert found is not None and found.client is not None
    assert found.client.url == entry.client.url  # type: ignore[union-attr]
    assert found.client.custom_domain == entry.client.custom_domain  # type: ignore[union-attr]


async def test_a_host_nobody_put_is_a_miss(started: Started) -> None:
    cache = await started()
    assert await cache.get("nothing.here.example.org") is None


async def test_unsaved_status_events_are_not_cached(started: Started) -> None:
    one, other = await started(), await started()
    entry = entry_of(generate_account_number())
    assert entry.client is not None
    entry.client.request_undeployment(datetime.now(UTC))
    assert entry.client.events

    await one.put("h.example.org", entry)

    for cache in (one, other):
        found = await cache.get("h.example.org")
        assert found is not None and found.client is not None
        assert found.client.events == []
        assert found.client.deployed is False


async def test_a_negative_entry_is_cached_until_any_invalidation(
    started: Started,
) -> None:
    one, other = await started(), await started()
    await one.put("unknown.example.org", NOBODY)
    assert await one.get("unknown.example.org") == NOBODY
    assert await other.get("unknown.example.org") == NOBODY

    await one.invalidate([generate_account_number()])

    assert await one.get("unknown.example.org") is None

    async def other_forgot() -> bool:
        return await other.get("unknown.example.org") is None

    await eventually(other_forgot)


async def test_invalidating_one_account_keeps_the_entries_of_the_others(
    started: Started, new_cache: NewCache
) -> None:
    cache = await started()
    changed, kept = generate_account_number(), generate_account_number()
    await cache.put("a.example.org", entry_of(changed, "a"))
    await cache.put("a2.example.org", entry_of(changed, "a2"))
    await cache.put("b.example.org", entry_of(kept, "b"))

    await cache.invalidate([changed])

    fresh = new_cache()  # not subscribed: reads Redis only
    for reader in (cache, fresh):
        assert await reader.get("a.example.org") is None
        assert await reader.get("a2.example.org") is None
        assert await reader.get("b.example.org") == entry_of(kept, "b")


async def test_an_invalidation_in_one_process_reaches_the_others_at_once(
    started: Started,
) -> None:
    writer, readers = await started(), [await started(), await started()]
    account = generate_account_number()
    await writer.put("c.example.org", entry_of(account))
    for reader in readers:
        assert await reader.get("c.example.org") == entry_of(account)  # now in its local layer

    await writer.invalidate([account])

    async def all_forgot() -> bool:
        return all([await reader.get("c.example.org") is None for reader in readers])

    await eventually(all_forgot, within=1.0)


async def test_a_warm_hit_is_served_without_redis(started: Started, new_cache: NewCache) -> None:
    cache = await started()
    account = generate_account_number()
    await cache.put("w.example.org", entry_of(account, "old"))
    # Another process overwrites the shared entry without invalidating (never done for real):
    await new_cache().put("w.example.org", entry_of(account, "new"))

    assert await cache.get("w.example.org") == entry_of(account, "old")


async def test_without_its_subscriber_a_cache_reads_redis_every_time(
    new_cache: NewCache,
) -> None:
    cache, other = new_cache(), new_cache()
    account = generate_account_number()
    await cache.put("s.example.org", entry_of(account, "old"))
    await other.put("s.example.org", entry_of(account, "new"))

    assert not cache.listening
    assert await cache.get("s.example.org") == entry_of(account, "new")


async def test_the_local_layer_is_cleared_when_the_subscription_is_cut(
    started: Started,
    new_cache: NewCache,
    redis: Redis,
    prefix: str,
) -> None:
    cache = await started()  # its client is named f"{prefix}-1"
    account = generate_account_number()
    await cache.put("k.example.org", entry_of(account, "old"))
    await new_cache().put("k.example.org", entry_of(account, "new"))  # a missed change
    assert await cache.get("k.example.org") == entry_of(account, "old")

    killed = await _kill_pubsub_connections(redis, f"{prefix}-1")

    assert killed == 1

    async def sees_redis_again() -> bool:
        return await cache.get("k.example.org") == entry_of(account, "new")

    await eventually(sees_redis_again)
    # ...and it is subscribed again: invalidations still arrive.
    await eventually(_true_when(lambda: cache.listening))
    assert await cache.get("k.example.org") == entry_of(account, "new")  # local again
    await new_cache().invalidate([account])

    async def forgot() -> bool:
        return await cache.get("k.example.org") is None

    await eventually(forgot)


async def test_a_put_that_raced_an_invalidation_is_not_stored(
    started: Started, new_cache: NewCache
) -> None:
    cache, other = await started(), await started()
    account = generate_account_number()
    assert await cache.get("r.example.org") is None  # miss: the caller reads the database...
    await other.invalidate([account])  # ...someone changes the client meanwhile...
    await cache.put("r.example.org", entry_of(account, "stale"))  # ...and the old row arrives

    assert await cache.get("r.example.org") is None
    assert await new_cache().get("r.example.org") is None
    # The next miss loads the new row, which is stored.
    await cache.put("r.example.org", entry_of(account, "fresh"))
    assert await new_cache().get("r.example.org") == entry_of(account, "fresh")


async def test_the_oldest_local_entry_is_evicted_when_the_layer_is_full(
    started: Started, new_cache: NewCache
) -> None:
    cache = await started(max_entries=2)
    account = generate_account_number()
    for name in ("e1", "e2", "e3"):
        await cache.put(f"{name}.example.org", entry_of(account, name))
    other = new_cache()
    for name in ("e1", "e3"):
        await other.put(f"{name}.example.org", entry_of(account, f"{name}-new"))

    assert await cache.get("e1.example.org") == entry_of(account, "e1-new")  # evicted: Redis
    assert await cache.get("e3.example.org") == entry_of(account, "e3")  # still local


async def test_a_local_entry_expires_after_its_ttl(started: Started, new_cache: NewCache) -> None:
    cache = await started(local_ttl_seconds=0.05)
    account = generate_account_number()
    await cache.put("t.example.org", entry_of(account, "old"))
    await new_cache().put("t.example.org", entry_of(account, "new"))
    await asyncio.sleep(0.06)

    assert await cache.get("t.example.org") == entry_of(account, "new")


async def test_an_unreadable_shared_entry_is_a_miss(
    started: Started, redis: Redis, prefix: str
) -> None:
    cache = await started()
    await redis.set(f"{prefix}:client:x.example.org", b"0:not msgpack at all")
    await redis.set(f"{prefix}:client:y.example.org", b"0:\x81\xa6client\x81\xa4name\xa1!")

    assert await cache.get("x.example.org") is None
    assert await cache.get("y.example.org") is None  # decodes, but fails validation


async def test_when_redis_is_down_the_cache_misses_and_never_raises() -> None:
    down = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    cache = RedisClientCache(down, "down")
    try:
        await cache.start(wait_seconds=0.2)
        assert not cache.listening
        await cache.put("d.example.org", entry_of(generate_account_number()))
        assert await cache.get("d.example.org") is None
        await cache.invalidate([generate_account_number()])
    finally:
        await cache.close()
        await down.aclose()


def test_a_client_that_decodes_responses_is_refused() -> None:
    with pytest.raises(ValueError, match="decode_responses"):
        RedisClientCache(Redis.from_url(REDIS_URL, decode_responses=True))


async def _kill_pubsub_connections(redis: Redis, client_name: str) -> int:
    connections = await redis.client_list(_type="pubsub")
    ids = [c["id"] for c in connections if c.get("name") == client_name]
    for connection_id in ids:
        await redis.client_kill_filter(_id=connection_id)
    return len(ids)


def _true_when(predicate: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return predicate()

    return check


async def test_a_quiet_subscription_stays_up_through_its_heartbeats(
    started: Started, new_cache: NewCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_client_cache, "_HEARTBEAT_SECONDS", 0.01)
    cache = await started()
    account = generate_account_number()
    await cache.put("q.example.org", entry_of(account, "old"))
    await new_cache().put("q.example.org", entry_of(account, "new"))  # a missed change
    await asyncio.sleep(0.3)  # many PINGs

    assert cache.listening
    assert await cache.get("q.example.org") == entry_of(account, "old")  # never reconnected
    await new_cache().invalidate([account])

    async def forgot() -> bool:
        return await cache.get("q.example.org") is None

    await eventually(forgot)

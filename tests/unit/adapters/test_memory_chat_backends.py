"""MemoryClientCache and MemoryRateLimiter: the embedded default's cache and rate limits."""

from __future__ import annotations

from smarter.adapters.memory_client_cache import MemoryClientCache
from smarter.adapters.memory_rate_limiter import MemoryRateLimiter
from smarter.application.chat_ports import ClientEntry
from smarter.domain.account_number import AccountNumber
from smarter.domain.environments import Platform
from smarter.domain.llm_client import LLMClient

A, B = AccountNumber("1111-2222-3333"), AccountNumber("4444-5555-6666")
NOTHING = ClientEntry(client=None)


def entry(account: AccountNumber, name: str = "bot") -> ClientEntry:
    client = LLMClient(
        name=name,
        platform=Platform(),
        account_number=account,
        owner_username="admin",
        owner_is_admin=True,
        id=1,
    )
    return ClientEntry(client=client, api_keys={"d": 1})


class Ticking:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_put_entry_is_found_by_its_host() -> None:
    cache = MemoryClientCache()
    await cache.put("h1", entry(A))
    assert await cache.get("h1") == entry(A)
    assert await cache.get("h2") is None


async def test_invalidating_an_account_drops_its_entries_and_every_negative_one() -> None:
    cache = MemoryClientCache()
    await cache.put("a1", entry(A))
    await cache.put("a2", entry(A, "other"))
    await cache.put("b1", entry(B))
    await cache.put("unknown", NOTHING)

    await cache.invalidate([A])

    assert await cache.get("a1") is None and await cache.get("a2") is None
    assert await cache.get("unknown") is None
    assert await cache.get("b1") == entry(B)
    assert len(cache) == 1


async def test_a_put_after_an_invalidation_since_its_miss_is_not_stored() -> None:
    cache = MemoryClientCache()
    assert await cache.get("h") is None  # a request misses and reads the database...
    await cache.invalidate([A])  # ...while a commit changes account A...
    await cache.put("h", entry(A))  # ...so what it read may be old: not cached
    assert await cache.get("h") is None
    await cache.put("h", entry(A))  # the next request's miss and put are fine
    assert await cache.get("h") == entry(A)


async def test_entries_expire_after_the_ttl() -> None:
    clock = Ticking()
    cache = MemoryClientCache(ttl_seconds=10, clock=clock)
    await cache.put("h", entry(A))
    clock.now += 9
    assert await cache.get("h") is not None
    clock.now += 2
    assert await cache.get("h") is None
    assert len(cache) == 0


async def test_the_cache_is_bounded_and_drops_the_oldest_first() -> None:
    cache = MemoryClientCache(max_entries=2)
    await cache.put("first", entry(A))
    await cache.put("second", NOTHING)
    await cache.put("third", entry(B))

    assert await cache.get("first") is None
    assert await cache.get("second") is not None and await cache.get("third") is not None
    await cache.invalidate([A])  # the evicted entry's index is gone too: nothing breaks
    assert len(cache) == 1


async def test_a_host_put_again_moves_to_its_new_account() -> None:
    cache = MemoryClientCache()
    await cache.put("h", entry(A))
    await cache.put("h", entry(B))
    await cache.invalidate([A])
    assert await cache.get("h") == entry(B)


async def test_the_limiter_lets_the_limit_through_then_says_how_long_to_wait() -> None:
    clock = Ticking()
    clock.now = 120.0 + 45.0  # 45 seconds into a minute window
    limiter = MemoryRateLimiter(clock=clock)

    answers = [await limiter.hit("k", 3, 60.0) for _ in range(4)]

    assert answers[:3] == [None, None, None]
    assert answers[3] == 15.0
    assert await limiter.hit("other", 3, 60.0) is None


async def test_the_limiter_starts_counting_again_in_the_next_window() -> None:
    clock = Ticking()
    clock.now = 600.0
    limiter = MemoryRateLimiter(clock=clock, sweep_every=2)
    assert await limiter.hit("k", 1, 60.0) is None
    assert await limiter.hit("k", 1, 60.0) is not None
    clock.now += 60
    assert await limiter.hit("k", 1, 60.0) is None

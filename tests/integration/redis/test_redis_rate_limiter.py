"""RedisRateLimiter against the real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from redis.asyncio import Redis

from smarter.adapters.redis_rate_limiter import RedisRateLimiter
from tests.integration.redis.conftest import eventually


async def test_a_key_gets_its_limit_then_a_positive_retry_after(redis: Redis, prefix: str) -> None:
    limiter = RedisRateLimiter(redis, prefix)

    allowed = [await limiter.hit("key-1", limit=3, window_seconds=60) for _ in range(3)]
    refused = await limiter.hit("key-1", limit=3, window_seconds=60)

    assert allowed == [None, None, None]
    assert refused is not None and 59 < refused <= 60


async def test_keys_are_counted_apart(redis: Redis, prefix: str) -> None:
    limiter = RedisRateLimiter(redis, prefix)
    await limiter.hit("busy", limit=1, window_seconds=60)

    assert await limiter.hit("busy", limit=1, window_seconds=60) is not None
    assert await limiter.hit("quiet", limit=1, window_seconds=60) is None


async def test_two_processes_share_one_count(
    redis: Redis, connect: Callable[[], Redis], prefix: str
) -> None:
    one, other = RedisRateLimiter(redis, prefix), RedisRateLimiter(connect(), prefix)
    await one.hit("shared", limit=2, window_seconds=60)
    await other.hit("shared", limit=2, window_seconds=60)

    assert await one.hit("shared", limit=2, window_seconds=60) is not None


async def test_concurrent_hits_never_exceed_the_limit(redis: Redis, prefix: str) -> None:
    limiter = RedisRateLimiter(redis, prefix)

    answers = await asyncio.gather(*(limiter.hit("burst", 10, 60) for _ in range(50)))

    assert answers.count(None) == 10


async def test_the_window_lets_requests_in_again_once_it_is_over(redis: Redis, prefix: str) -> None:
    limiter = RedisRateLimiter(redis, prefix)
    await limiter.hit("k", limit=2, window_seconds=0.3)
    await limiter.hit("k", limit=2, window_seconds=0.3)
    retry_after = await limiter.hit("k", limit=2, window_seconds=0.3)
    assert retry_after is not None and 0 < retry_after <= 0.3

    async def allowed_again() -> bool:
        return await limiter.hit("k", limit=2, window_seconds=0.3) is None

    await eventually(allowed_again, within=2.0)
    assert await limiter.hit("k", limit=2, window_seconds=0.3) is None  # a fresh window: 2 again
    assert await limiter.hit("k", limit=2, window_seconds=0.3) is not None


async def test_when_redis_is_down_requests_are_let_through() -> None:
    down = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    try:
        assert await RedisRateLimiter(down, "down").hit("k", 1, 60) is None
    finally:
        await down.aclose()


async def test_a_refused_key_is_refused_again_without_asking_redis(
    redis: Redis, prefix: str
) -> None:
    limiter = RedisRateLimiter(redis, prefix)
    await limiter.hit("flood", limit=1, window_seconds=60)
    first = await limiter.hit("flood", limit=1, window_seconds=60)
    counted = await redis.get(f"{prefix}:rate:60000:flood")

    again = [await limiter.hit("flood", limit=1, window_seconds=60) for _ in range(100)]

    assert counted == b"2"
    assert await redis.get(f"{prefix}:rate:60000:flood") == b"2"
    assert first is not None and all(a is not None and 0 < a <= first for a in again)


async def test_a_large_limit_is_counted_in_leases_without_a_round_trip_per_request(
    redis: Redis, prefix: str
) -> None:
    limiter = RedisRateLimiter(redis, prefix)

    answers = [await limiter.hit("big", limit=1000, window_seconds=60) for _ in range(25)]

    assert answers == [None] * 25
    assert await redis.get(f"{prefix}:rate:60000:big") == b"30"  # three leases of 10


async def test_leases_of_two_processes_never_admit_more_than_the_limit(
    redis: Redis, connect: Callable[[], Redis], prefix: str
) -> None:
    one, other = RedisRateLimiter(redis, prefix), RedisRateLimiter(connect(), prefix)

    answers = [
        await limiter.hit("shared-big", 250, 60) for _ in range(200) for limiter in (one, other)
    ]

    assert answers.count(None) == 250  # never more, whoever holds which lease
    assert all(59 < a <= 60 for a in answers if a is not None)

"""The real Redis on 127.0.0.1:6379 (never skipped): a client per test, named so that a test can
find and kill its own connections, and a unique key prefix whose keys are deleted afterwards."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from redis.asyncio import Redis

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def prefix() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def connect(prefix: str) -> AsyncIterator[Callable[[], Redis]]:
    """Open Redis clients (one per simulated process), all closed and cleaned up at the end."""
    opened: list[Redis] = []

    def open_one() -> Redis:
        client = Redis.from_url(REDIS_URL, client_name=f"{prefix}-{len(opened)}")
        opened.append(client)
        return client

    yield open_one
    if opened:
        keys = [key async for key in opened[0].scan_iter(match=f"{prefix}:*")]
        if keys:
            await opened[0].delete(*keys)
    for client in opened:
        await client.aclose()


@pytest.fixture
async def redis(connect: Callable[[], Redis]) -> Redis:
    client = connect()
    assert await client.ping()  # type: ignore[misc]  # redis-py types it sync-or-async
    return client


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 2.0) -> None:
    """Poll `check` every 10 ms until it is true; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"not true within {within} s")
        await asyncio.sleep(0.01)

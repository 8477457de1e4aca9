"""Redis's readiness: it answers a PING."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.exceptions import RedisError


class RedisPing:
    name = "redis"

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def problem(self) -> str | None:
        try:
            await self._redis.ping()  # type: ignore[misc]  # redis-py types it as sync or async
        except (RedisError, OSError) as error:
            return f"unreachable: {type(error).__name__}: {error}".rstrip(": ")
        return None

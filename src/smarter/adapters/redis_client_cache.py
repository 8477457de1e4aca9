"""RedisClientCache: the host → client cache shared by every web process through Redis.

Two layers:

- **Local** (per process, in a dict): a warm hit costs one dict lookup, no Redis round trip.
  It is used only while this process is subscribed to the invalidation channel, so nothing it
  holds can miss an invalidation for longer than `local_ttl_seconds` (the safety net).
- **Shared** (Redis): `<prefix>:client:<host>` holds `<generation>:<msgpack of ClientEntry>`
  with a TTL; `<prefix>:client-account:<account>` is the set of entry keys of one account.

`invalidate(accounts)` runs one Lua script that deletes those accounts' entries, increments
`<prefix>:client-generation` and publishes the account numbers on `<prefix>:invalidate`; every
process's subscriber then drops the accounts' local entries and all its local negative entries.
Shared negative entries are not deleted one by one (a flood of unknown hosts could make that
set huge): a negative entry counts only while its stored generation is the current one.

The generation also closes the classic cache race (miss → read an old row from the database →
someone commits and invalidates → put the old row): `get` reads the generation with the entry
in the same round trip, and `put` stores only if no invalidation happened since that miss.

If the subscription drops or reconnects, the whole local layer is cleared and bypassed until
the subscription is confirmed again. Redis errors never reach the chat path: `get` degrades to
a miss and `put` to a no-op (the database stays the source of truth); a failed `invalidate` is
logged, and the shared TTL bounds how long another process may then see the old entry.

Plain Redis (not Cluster): the scripts touch keys they find in the account sets.
The Redis client must return bytes (`decode_responses=False`, redis-py's default).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from typing import Final

import msgspec
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from smarter.adapters.client_entries import ClientEntries
from smarter.application.chat_ports import ClientEntry
from smarter.domain.account_number import AccountNumber
from smarter.domain.errors import DomainError

logger = logging.getLogger(__name__)

_PUT: Final = """
local generation = redis.call('GET', KEYS[2]) or '0'
if ARGV[3] ~= '' and ARGV[3] ~= generation then
  return 0
end
redis.call('SET', KEYS[1], generation .. ':' .. ARGV[1], 'PX', ARGV[2])
if KEYS[3] then
  redis.call('SADD', KEYS[3], KEYS[1])
  redis.call('PEXPIRE', KEYS[3], ARGV[2])
end
return 1
"""
"""KEYS: entry, generation[, account set]; ARGV: payload, ttl ms, generation seen at the miss
('' = store whatever the generation). Returns 1 if stored."""

_INVALIDATE: Final = """
for i = 1, #KEYS - 1 do
  for _, key in ipairs(redis.call('SMEMBERS', KEYS[i])) do
    redis.call('DEL', key)
  end
  redis.call('DEL', KEYS[i])
end
redis.call('INCR', KEYS[#KEYS])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1
"""
"""KEYS: account sets..., generation; ARGV: channel, message (JSON list of account numbers)."""

_HEARTBEAT_SECONDS: Final = 5.0  # quiet subscription → PING, so a dead connection shows up
_RETRY_SECONDS: Final = (0.1, 0.5, 1.0, 2.0)

_encode = msgspec.msgpack.Encoder().encode
_decode_entry = msgspec.msgpack.Decoder(ClientEntry).decode
_decode_accounts = msgspec.json.Decoder(list[str]).decode
_encode_accounts = msgspec.json.Encoder().encode


def split_stored(raw: bytes) -> tuple[bytes, bytes]:
    """`b"<generation>:<payload>"` → (generation, payload); the payload may contain colons."""
    generation, _, payload = raw.partition(b":")
    return generation, payload


def cacheable(entry: ClientEntry) -> ClientEntry:
    """The entry without the client's unsaved status events (they belong to one request)."""
    if entry.client is None or not entry.client.events:
        return entry
    client = msgspec.structs.replace(entry.client, events=[])
    return msgspec.structs.replace(entry, client=client)


class RedisClientCache:
    def __init__(
        self,
        redis: Redis,
        prefix: str = "smarter",
        local_ttl_seconds: float = 30.0,
        max_entries: int = 100_000,
        *,
        shared_ttl_seconds: float = 300.0,
    ) -> None:
        if redis.connection_pool.connection_kwargs.get("decode_responses"):
            raise ValueError("RedisClientCache needs a Redis client with decode_responses=False")
        self._redis = redis
        self._prefix = prefix
        self._shared_ttl_ms = max(1, round(shared_ttl_seconds * 1000))
        self._generation_key = f"{prefix}:client-generation"
        self.channel = f"{prefix}:invalidate"
        self._put_script = redis.register_script(_PUT)
        self._invalidate_script = redis.register_script(_INVALIDATE)
        # The local layer; its epoch is bumped whenever local entries are dropped: a lookup or
        # put that was in flight meanwhile must not store what it fetched before the drop.
        self._local = ClientEntries(max_entries, local_ttl_seconds, time.monotonic)
        # Generation seen at each shared miss, for the `put` that follows it.
        self._miss_generation: dict[str, bytes] = {}
        self._listening = False
        self._subscribed = asyncio.Event()
        self._subscriber: asyncio.Task[None] | None = None

    # -- the port ---------------------------------------------------------------------------

    async def get(self, host: str) -> ClientEntry | None:
        if self._listening:
            found = self._local.get(host)
            if found is not None:
                return found
        return await self._get_shared(host)

    async def put(self, host: str, entry: ClientEntry) -> None:
        entry = cacheable(entry)
        epoch = self._local.epoch
        seen = self._miss_generation.pop(host, b"")
        keys = [self._entry_key(host), self._generation_key]
        if entry.account_number is not None:
            keys.append(self._account_key(entry.account_number))
        try:
            stored = await self._put_script(keys, [_encode(entry), self._shared_ttl_ms, seen])
        except RedisError as error:
            logger.warning("client cache: put of %s failed: %s", host, error)
            return
        if stored and epoch == self._local.epoch:
            self._remember(host, entry)

    async def invalidate(self, accounts: Iterable[AccountNumber]) -> None:
        numbers = list(dict.fromkeys(accounts))
        self._local.drop(numbers)
        keys = [self._account_key(number) for number in numbers] + [self._generation_key]
        try:
            await self._invalidate_script(keys, [self.channel, _encode_accounts(numbers)])
        except RedisError as error:
            logger.error("client cache: invalidation of %s failed: %s", numbers, error)
        # Again: a lookup during the round trip may have fetched the entry just deleted.
        self._local.drop(numbers)

    # -- the subscriber -------------------------------------------------------------------

    @property
    def listening(self) -> bool:
        """Subscribed to invalidations, so the local layer is in use."""
        return self._listening

    async def start(self, wait_seconds: float = 2.0) -> None:
        """Run the invalidation subscriber and wait (a little) for its subscription; without
        it the cache still works, every lookup going to Redis until the subscriber is in."""
        if self._subscriber is None:
            self._subscriber = asyncio.create_task(self._subscribe(), name="client-cache")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), wait_seconds)

    async def close(self) -> None:
        self._listening = False
        self._local.clear()
        if self._subscriber is not None:
            self._subscriber.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._subscriber
            self._subscriber = None

    async def _subscribe(self) -> None:
        failures = 0
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                await self._listen(pubsub)
            except Exception as error:  # the subscriber must outlive any failure
                logger.warning("client cache: invalidation subscription lost: %r", error)
            finally:
                failures = 0 if self._listening else failures + 1
                self._listening = False
                self._subscribed.clear()
                self._local.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(_RETRY_SECONDS[min(failures, len(_RETRY_SECONDS) - 1)])

    async def _listen(self, pubsub: PubSub) -> None:
        quiet_since = time.monotonic()
        pinged = False
        while True:
            message = await pubsub.get_message(timeout=min(1.0, _HEARTBEAT_SECONDS))
            now = time.monotonic()
            if message is None:
                if now - quiet_since < _HEARTBEAT_SECONDS:
                    continue
                if pinged:
                    raise TimeoutError("no answer to PING on the invalidation subscription")
                await pubsub.ping()
                pinged = True
                continue
            quiet_since, pinged = now, False
            if message["type"] == "subscribe":
                # First subscription, or redis-py reconnected and subscribed again: whatever
                # was published meanwhile is lost, so nothing local can be trusted.
                self._local.clear()
                self._listening = True
                self._subscribed.set()
            elif message["type"] == "message":
                self._on_invalidation(message["data"])

    def _on_invalidation(self, data: bytes) -> None:
        try:
            numbers = _decode_accounts(data)
        except msgspec.DecodeError:
            logger.warning("client cache: unreadable invalidation %r, clearing", data[:100])
            self._local.clear()
            return
        self._local.drop(numbers)

    # -- the shared layer -----------------------------------------------------------------

    async def _get_shared(self, host: str) -> ClientEntry | None:
        epoch = self._local.epoch
        try:
            raw, generation = await self._redis.mget(self._entry_key(host), self._generation_key)
        except RedisError as error:
            logger.warning("client cache: lookup of %s failed: %s", host, error)
            return None
        generation = generation or b"0"
        entry = None if raw is None else self._decode(host, raw, generation)
        if entry is None:
            if len(self._miss_generation) >= self._local.max_entries:
                self._miss_generation.clear()
            self._miss_generation[host] = generation
            return None
        if epoch == self._local.epoch:
            self._remember(host, entry)
        return entry

    def _decode(self, host: str, raw: bytes, generation: bytes) -> ClientEntry | None:
        stored_generation, payload = split_stored(raw)
        try:
            entry = _decode_entry(payload)
        except (msgspec.DecodeError, DomainError) as error:
            # E.g. written by an older release with another schema: a miss, then overwritten.
            logger.warning("client cache: unreadable entry for %s: %s", host, error)
            return None
        if entry.client is None and stored_generation != generation:
            return None  # a negative entry from before the last invalidation
        return entry

    def _entry_key(self, host: str) -> str:
        return f"{self._prefix}:client:{host}"

    def _account_key(self, account: str) -> str:
        return f"{self._prefix}:client-account:{account}"

    # -- the local layer ------------------------------------------------------------------

    def _remember(self, host: str, entry: ClientEntry) -> None:
        if self._listening:
            self._local.put(host, entry)

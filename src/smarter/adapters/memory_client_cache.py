"""MemoryClientCache: the host → client cache of one process (the embedded default).

The entries (bounded, indexed by account) are `ClientEntries`; they expire after `ttl_seconds`,
a safety net for a change that bypassed the invalidation (e.g. another process writing with no
shared cache).

The classic race (a miss, then a read of the old row, then a commit that invalidates, then
the put of the old row) is closed by an epoch: a put stores only if no invalidation happened
since the miss that led to it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from smarter.adapters.client_entries import ClientEntries
from smarter.application.chat_ports import ClientEntry
from smarter.domain.account_number import AccountNumber


class MemoryClientCache:
    def __init__(
        self,
        max_entries: int = 100_000,
        ttl_seconds: float | None = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries = ClientEntries(max_entries, ttl_seconds, clock)
        self._missed_at: dict[str, int] = {}  # host → epoch of its last miss

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, host: str) -> ClientEntry | None:
        entry = self._entries.get(host)
        if entry is not None:
            return entry
        if len(self._missed_at) >= self._entries.max_entries:  # misses never followed by a put
            self._missed_at.clear()
        self._missed_at[host] = self._entries.epoch
        return None

    async def put(self, host: str, entry: ClientEntry) -> None:
        epoch = self._entries.epoch
        if self._missed_at.pop(host, epoch) == epoch:  # else invalidated since the miss
            self._entries.put(host, entry)

    async def invalidate(self, accounts: Iterable[AccountNumber]) -> None:
        self._entries.drop(accounts)

"""MemoryClientCache: the host → client cache of one process (the embedded default).

A dict keyed by host, so a lookup costs the same whatever the number of clients. It is bounded
(the oldest entry goes first) and entries expire after `ttl_seconds`, a safety net for a
change that bypassed the invalidation (e.g. another process writing with no shared cache).

The classic race (a miss, then a read of the old row, then a commit that invalidates, then
the put of the old row) is closed by an epoch: a put stores only if no invalidation happened
since the miss that led to it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from smarter.application.chat_ports import ClientEntry
from smarter.domain.account_number import AccountNumber


class MemoryClientCache:
    def __init__(
        self,
        max_entries: int = 100_000,
        ttl_seconds: float | None = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be 1 or more")
        self._max = max_entries
        self._ttl = ttl_seconds
        self._clock = clock
        self._entries: dict[str, tuple[ClientEntry, float]] = {}
        self._by_account: dict[AccountNumber, set[str]] = {}
        self._negative: set[str] = set()
        self._epoch = 0
        self._missed_at: dict[str, int] = {}  # host → epoch of its last miss

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, host: str) -> ClientEntry | None:
        found = self._entries.get(host)
        if found is not None:
            entry, expires = found
            if expires >= self._clock():
                return entry
            self._forget(host)
        if len(self._missed_at) >= self._max:  # misses never followed by a put
            self._missed_at.clear()
        self._missed_at[host] = self._epoch
        return None

    async def put(self, host: str, entry: ClientEntry) -> None:
        if self._missed_at.pop(host, self._epoch) != self._epoch:
            return  # invalidated since the miss: what was read may be stale
        self._forget(host)
        while len(self._entries) >= self._max:
            self._forget(next(iter(self._entries)))  # dicts keep insertion order: the oldest
        expires = float("inf") if self._ttl is None else self._clock() + self._ttl
        self._entries[host] = (entry, expires)
        account = entry.account_number
        if account is None:
            self._negative.add(host)
        else:
            self._by_account.setdefault(account, set()).add(host)

    async def invalidate(self, accounts: Iterable[AccountNumber]) -> None:
        self._epoch += 1
        for account in accounts:
            for host in self._by_account.pop(account, set()):
                self._entries.pop(host, None)
        # A new client, key or verified domain may serve a host that was unknown so far.
        for host in self._negative:
            self._entries.pop(host, None)
        self._negative.clear()

    def _forget(self, host: str) -> None:
        found = self._entries.pop(host, None)
        if found is None:
            return
        account = found[0].account_number
        if account is None:
            self._negative.discard(host)
            return
        hosts = self._by_account.get(account)
        if hosts is not None:
            hosts.discard(host)
            if not hosts:
                del self._by_account[account]

"""ClientEntries: one process's host → client entries, the in-memory part of both client caches.

A dict keyed by host (a lookup costs the same whatever the number of clients), bounded (the
oldest entry goes first), with expiring entries and indexes for invalidation: the hosts of each
account, and the negative entries. `epoch` counts the drops, so that a lookup in flight during
one does not store what it fetched before it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from smarter.application.chat_ports import ClientEntry


class ClientEntries:
    def __init__(
        self, max_entries: int, ttl_seconds: float | None, clock: Callable[[], float]
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be 1 or more")
        self.max_entries = max_entries
        self._ttl = ttl_seconds
        self._clock = clock
        self._entries: dict[str, tuple[ClientEntry, float]] = {}
        self._by_account: dict[str, set[str]] = {}
        self._negative: set[str] = set()
        self.epoch = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, host: str) -> ClientEntry | None:
        found = self._entries.get(host)
        if found is None:
            return None
        entry, expires = found
        if expires >= self._clock():
            return entry
        self._forget(host)
        return None

    def put(self, host: str, entry: ClientEntry) -> None:
        self._forget(host)
        while len(self._entries) >= self.max_entries:
            self._forget(next(iter(self._entries)))  # dicts keep insertion order: the oldest
        expires = float("inf") if self._ttl is None else self._clock() + self._ttl
        self._entries[host] = (entry, expires)
        account = entry.account_number
        if account is None:
            self._negative.add(host)
        else:
            self._by_account.setdefault(account, set()).add(host)

    def drop(self, accounts: Iterable[str]) -> None:
        """Drop the accounts' entries and every negative entry: a new client, key or verified
        domain may serve a host that was unknown so far."""
        self.epoch += 1
        for account in accounts:
            for host in self._by_account.pop(account, ()):
                self._entries.pop(host, None)
        for host in self._negative:
            self._entries.pop(host, None)
        self._negative.clear()

    def clear(self) -> None:
        self.epoch += 1
        self._entries.clear()
        self._by_account.clear()
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

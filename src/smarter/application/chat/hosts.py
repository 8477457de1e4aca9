"""The client behind a client host, through the cache (the database only on a miss, one load
per host at a time), and whether it serves this host and this caller's page."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Final, Protocol

from smarter.application.chat.errors import ClientNotReady, OriginRefused
from smarter.application.chat_ports import ClientCache, ClientEntry
from smarter.application.ports import UnitOfWork
from smarter.domain.account_number import AccountNumber
from smarter.domain.errors import NotFound
from smarter.domain.host_router import HostKind, ResolvedHost
from smarter.domain.llm_client import ClientMode, LLMClient
from smarter.domain.origins import may_use


class UnitsOfWork(Protocol):
    """Opens a fresh unit of work (the host lookup runs outside any request's own)."""

    def __call__(self) -> AbstractAsyncContextManager[UnitOfWork]: ...


NOTHING_THERE: Final = ClientEntry(client=None)


def cache_key(host: ResolvedHost) -> str:
    """One key per client whatever alias of the API domain the host used."""
    if host.kind is HostKind.CLIENT:
        return f"client:{host.llm_client_name}.{host.account_number}"
    return f"custom:{host.host.rpartition(':')[0] or host.host}"


class FindClientForHost:
    """The client (and its active key digests) behind a client or custom-domain host."""

    def __init__(self, cache: ClientCache, units: UnitsOfWork) -> None:
        self._cache, self._units = cache, units
        self._loading: dict[str, asyncio.Future[ClientEntry]] = {}

    async def __call__(self, host: ResolvedHost) -> ClientEntry:
        if host.kind not in (HostKind.CLIENT, HostKind.CUSTOM_DOMAIN):
            return NOTHING_THERE
        key = cache_key(host)
        entry = await self._cache.get(key)
        if entry is not None:
            return entry
        pending = self._loading.get(key)
        if pending is not None:  # another request is loading this host: share its answer
            return await asyncio.shield(pending)
        future: asyncio.Future[ClientEntry] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            entry = await self._load(host)
            await self._cache.put(key, entry)
            future.set_result(entry)
            return entry
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waits
            raise
        finally:
            del self._loading[key]

    async def _load(self, host: ResolvedHost) -> ClientEntry:
        async with self._units() as uow:
            client = await _client_of(uow, host)
            if client is None or client.id is None:
                return NOTHING_THERE
            return ClientEntry(client=client, api_keys=await uow.api_keys.active_digests(client.id))


async def _client_of(uow: UnitOfWork, host: ResolvedHost) -> LLMClient | None:
    if host.kind is HostKind.CLIENT:
        if host.account_number is None or host.llm_client_name is None:
            return None
        return await uow.clients.find_by_host(
            AccountNumber(host.account_number), host.llm_client_name
        )
    name = host.host.rpartition(":")[0] or host.host
    hostname = await uow.hostnames.find_verified(name)  # a custom hostname, by CNAME
    if hostname is not None:
        return await uow.clients.find(hostname.client_id)
    # `<name>.<domain>`, where the name is one label (an admin's client) or two (anyone
    # else's, `example.user123`): at most two lookups, whatever the number of domains.
    labels = name.split(".")
    for split in (1, 2):
        if len(labels) - split < 2:
            break
        domain = await uow.domains.find_verified(".".join(labels[split:]))
        if domain is None:
            continue
        client = await uow.clients.find_by_host(domain.account_number, ".".join(labels[:split]))
        if client is None or client.custom_domain is None:
            continue
        if client.custom_domain.id == domain.id and client.custom_host == name:
            return client
    return None


def serving_client(entry: ClientEntry, host: ResolvedHost) -> tuple[LLMClient, ClientMode]:
    """The client that answers chat on `host`, and how; NotFound or ClientNotReady."""
    client = entry.client
    if client is None:
        raise NotFound(f"no LLMClient is served on host '{host.host}'")
    if not client.deployed:
        raise ClientNotReady(f"LLMClient '{client.name}' is not deployed")
    if not client.is_provisioned:
        raise ClientNotReady(f"LLMClient '{client.name}' is deployed but not ready yet")
    mode = ClientMode.DEFAULT if host.kind is HostKind.CLIENT else ClientMode.CUSTOM
    return client, mode


@dataclass(frozen=True, slots=True)
class Served:
    """The client behind a host, as this request sees it."""

    client: LLMClient
    mode: ClientMode
    entry: ClientEntry
    own_origin: str
    """`scheme://host` of the host called: where the client's own pages come from."""


class ServeHost:
    """The deployed, ready client of a host, for a caller whose page (if any) it allows.

    Raises NotFound (404), ClientNotReady (503) or OriginRefused (403), in that order: every
    route of a client host starts here.
    """

    def __init__(self, find_client: FindClientForHost, scheme: str) -> None:
        self._find_client, self._scheme = find_client, scheme

    async def __call__(self, host: ResolvedHost, origin: str | None) -> Served:
        entry = await self._find_client(host)
        client, mode = serving_client(entry, host)
        own_origin = f"{self._scheme}://{host.host}"
        if origin is not None and not may_use(origin, client, own_origin):
            raise OriginRefused(f"pages from {origin} may not call this LLMClient")
        return Served(client, mode, entry, own_origin)

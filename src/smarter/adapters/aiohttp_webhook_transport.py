"""POSTing webhooks with aiohttp, to public addresses only.

The connector resolves every host through `GuardedResolver`, which refuses private, loopback,
link-local, multicast and reserved addresses: the address checked is the address connected
to, so a name that resolved to a public address at registration and to an internal one now
(DNS rebinding) is refused at delivery. IP literals skip resolvers, so they are checked
before the request. No redirect is followed, no proxy from the environment is used, the whole
exchange has a deadline, and at most `max_response_bytes` of an answer are read.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from smarter.application.webhook_ports import Unreachable, UnsafeDestination
from smarter.domain.webhooks import forbidden_address


class GuardedResolver(AbstractResolver):
    def __init__(self, *, allow_private: bool) -> None:
        self._resolver = ThreadedResolver()
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._resolver.resolve(host, port, family)
        if not self._allow_private:
            for result in results:
                if (reason := forbidden_address(result["host"])) is not None:
                    raise UnsafeDestination(f"{host} resolves to {reason}")
        return results

    async def close(self) -> None:
        await self._resolver.close()


class AiohttpWebhookTransport:
    def __init__(
        self,
        *,
        allow_private: bool,
        timeout_seconds: float = 10.0,
        max_response_bytes: int = 64 * 1024,
    ) -> None:
        self._allow_private = allow_private
        self._timeout = aiohttp.ClientTimeout(
            total=timeout_seconds, connect=min(5.0, timeout_seconds)
        )
        self._max_response_bytes = max_response_bytes
        self._session: aiohttp.ClientSession | None = None

    async def check_destination(self, url: str) -> None:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if self._allow_private or self._check_literal(host):
            return
        try:
            await GuardedResolver(allow_private=False).resolve(
                host, parts.port or 443, socket.AF_UNSPEC
            )
        except OSError as error:
            raise UnsafeDestination(f"{host} does not resolve ({error})") from None

    def _check_literal(self, host: str) -> bool:
        """Whether `host` is an IP literal, checked here (UnsafeDestination if refused)."""
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return False
        if not self._allow_private and (reason := forbidden_address(host)) is not None:
            raise UnsafeDestination(reason)
        return True

    async def post(self, url: str, headers: Mapping[str, str], body: bytes) -> int:
        try:
            self._check_literal(urlsplit(url).hostname or "")
            async with self._client().post(
                url, data=body, headers=dict(headers), allow_redirects=False
            ) as response:
                await response.content.read(self._max_response_bytes)  # the rest is dropped
                return response.status
        except UnsafeDestination as error:
            raise Unreachable(f"refused: {error.reason}") from None
        except TimeoutError:
            seconds = self._timeout.total
            raise Unreachable(f"no response within {seconds:g} s") from None
        except aiohttp.ClientConnectorDNSError as error:
            raise Unreachable(f"{error.host} does not resolve") from None
        except (aiohttp.ClientError, OSError) as error:
            raise Unreachable(f"{type(error).__name__}: {error}") from None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                resolver=GuardedResolver(allow_private=self._allow_private),
                use_dns_cache=False,
                limit=100,
            )
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, trust_env=False
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

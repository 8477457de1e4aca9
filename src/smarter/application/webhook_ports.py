"""The ports webhooks need: their store (on the unit of work), the secret box that seals
signing secrets, and the transport that checks destinations and POSTs messages."""

from __future__ import annotations

import builtins
import random
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

import msgspec

from smarter.domain.account_number import AccountNumber
from smarter.domain.errors import InvalidValue
from smarter.domain.webhooks import (
    DeliveryAttempt,
    DeliveryStatus,
    RetrySchedule,
    WebhookDelivery,
    WebhookEndpoint,
)

MAX_DELIVERIES_PAGE = 100
MAX_OFFSET = 1_000_000


class DeliveryFilter(msgspec.Struct, frozen=True, kw_only=True):
    """A page of an endpoint's deliveries, newest first."""

    status: DeliveryStatus | None = None
    limit: int = 20
    offset: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.offset <= MAX_OFFSET:
            raise InvalidValue("offset", f"must be between 0 and {MAX_OFFSET}")
        if not 1 <= self.limit <= MAX_DELIVERIES_PAGE:
            raise InvalidValue("limit", f"must be between 1 and {MAX_DELIVERIES_PAGE}")


class Webhooks(Protocol):
    async def add(self, endpoint: WebhookEndpoint) -> WebhookEndpoint: ...
    async def get(self, account: AccountNumber, endpoint_id: int) -> WebhookEndpoint:
        """NotFound for another account's endpoint too."""
        ...

    async def list(self, account: AccountNumber) -> list[WebhookEndpoint]: ...
    async def save(self, endpoint: WebhookEndpoint) -> WebhookEndpoint: ...
    async def delete(self, endpoint: WebhookEndpoint) -> None:
        """With its deliveries."""
        ...

    async def deliveries(
        self, endpoint_id: int, query: DeliveryFilter
    ) -> builtins.list[WebhookDelivery]:
        """With their attempts."""
        ...

    async def delivery(self, endpoint_id: int, delivery_id: int) -> WebhookDelivery: ...

    # -- the worker's side ---------------------------------------------------------------

    async def claim_due(self, now: datetime, until: datetime, limit: int) -> builtins.list[int]:
        """Pending deliveries due by `now`, made due again only at `until` (a lease: a
        worker that dies mid-attempt leaves them to another one then)."""
        ...

    async def pending(self, delivery_id: int) -> tuple[WebhookDelivery, WebhookEndpoint] | None:
        """A pending delivery with its endpoint (None once delivered, failed or deleted)."""
        ...

    async def record_attempt(self, delivery: WebhookDelivery, attempt: DeliveryAttempt) -> None:
        """Store the attempt and the delivery's new status and due time."""
        ...

    async def prune(self, finished_before: datetime, limit: int) -> int:
        """Forget up to `limit` delivered or failed deliveries created before the time."""
        ...


class SecretBox(Protocol):
    """Seals signing secrets for the database, and opens them to sign. NotConfigured when
    the platform has no key to do it with."""

    def seal(self, plaintext: str) -> str: ...
    def open(self, sealed: str) -> str: ...


class Unreachable(Exception):
    """No HTTP response: refused address, DNS failure, connection error, timeout."""


class UnsafeDestination(InvalidValue):
    """The URL's host is, or resolves to, an address webhooks may not reach."""

    def __init__(self, message: str) -> None:
        super().__init__("url", message)


class WebhookTransport(Protocol):
    async def check_destination(self, url: str) -> None:
        """UnsafeDestination unless every address the host resolves to may be reached."""
        ...

    async def post(self, url: str, headers: Mapping[str, str], body: bytes) -> int:
        """POST `body`, checking the address connected to as `check_destination` does and
        following no redirect; the response status, or Unreachable."""
        ...


class WebhookPolicy(msgspec.Struct, frozen=True, kw_only=True):
    schedule: RetrySchedule = RetrySchedule()
    # Plain http:// endpoints (and private addresses, which the transport enforces): only
    # in `local` or where a setting allows a test's loopback receiver.
    allow_private: bool = False
    # How long a worker may hold a claimed delivery before another may try it.
    lease_seconds: float = 60.0
    retention_days: float = 30.0


class Jitter:
    """A number in [0, 1) that spreads retries; tests hand in a fixed one."""

    def __call__(self) -> float:
        return random.random()

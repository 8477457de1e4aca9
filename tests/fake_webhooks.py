"""Fakes of the webhook ports: the store (dicts), a secret box and a scripted transport."""

from __future__ import annotations

import builtins
import copy
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urlsplit

import msgspec

from smarter.application.webhook_ports import DeliveryFilter, Unreachable, UnsafeDestination
from smarter.domain.account_number import AccountNumber
from smarter.domain.errors import NotFound
from smarter.domain.webhooks import (
    DeliveryAttempt,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    forbidden_address,
)


class FakeWebhooks:
    def __init__(self) -> None:
        self.endpoints: dict[int, WebhookEndpoint] = {}
        self.stored: dict[int, WebhookDelivery] = {}
        self._next_id = 0

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    async def add(self, endpoint: WebhookEndpoint) -> WebhookEndpoint:
        endpoint.id = self._id()
        self.endpoints[endpoint.id] = copy.deepcopy(endpoint)
        return endpoint

    async def get(self, account: AccountNumber, endpoint_id: int) -> WebhookEndpoint:
        endpoint = self.endpoints.get(endpoint_id)
        if endpoint is None or endpoint.account_number != account:
            raise NotFound(f"no webhook endpoint {endpoint_id}")
        return copy.deepcopy(endpoint)

    async def list(self, account: AccountNumber) -> list[WebhookEndpoint]:
        return [copy.deepcopy(e) for e in self.endpoints.values() if e.account_number == account]

    async def save(self, endpoint: WebhookEndpoint) -> WebhookEndpoint:
        assert endpoint.id in self.endpoints
        self.endpoints[endpoint.id] = copy.deepcopy(endpoint)
        return endpoint

    async def delete(self, endpoint: WebhookEndpoint) -> None:
        del self.endpoints[endpoint.id or 0]
        for key in [k for k, d in self.stored.items() if d.endpoint_id == endpoint.id]:
            del self.stored[key]

    def queue(self, delivery: WebhookDelivery) -> WebhookDelivery:
        """What `publish` does in SQL: store a pending delivery."""
        delivery.id = self._id()
        self.stored[delivery.id] = copy.deepcopy(delivery)
        return delivery

    async def deliveries(
        self, endpoint_id: int, query: DeliveryFilter
    ) -> builtins.list[WebhookDelivery]:
        found = [
            copy.deepcopy(d)
            for d in sorted(self.stored.values(), key=lambda d: -(d.id or 0))
            if d.endpoint_id == endpoint_id and query.status in (None, d.status)
        ]
        return found[query.offset : query.offset + query.limit]

    async def delivery(self, endpoint_id: int, delivery_id: int) -> WebhookDelivery:
        found = self.stored.get(delivery_id)
        if found is None or found.endpoint_id != endpoint_id:
            raise NotFound(f"no delivery {delivery_id}")
        return copy.deepcopy(found)

    async def claim_due(self, now: datetime, until: datetime, limit: int) -> builtins.list[int]:
        due = sorted(
            (d for d in self.stored.values() if d.status is DeliveryStatus.PENDING),
            key=lambda d: d.next_attempt_at or now,
        )
        claimed = [d for d in due if (d.next_attempt_at or now) <= now][:limit]
        for delivery in claimed:
            delivery.next_attempt_at = until
        return [d.id or 0 for d in claimed]

    async def pending(self, delivery_id: int) -> tuple[WebhookDelivery, WebhookEndpoint] | None:
        delivery = self.stored.get(delivery_id)
        if delivery is None or delivery.status is not DeliveryStatus.PENDING:
            return None
        endpoint = self.endpoints[delivery.endpoint_id]
        return msgspec.structs.replace(delivery, attempts=[]), copy.deepcopy(endpoint)

    async def record_attempt(self, delivery: WebhookDelivery, attempt: DeliveryAttempt) -> None:
        stored = self.stored[delivery.id or 0]
        stored.attempts.append(attempt)
        stored.status, stored.attempt_count = delivery.status, delivery.attempt_count
        stored.next_attempt_at = delivery.next_attempt_at

    async def prune(self, finished_before: datetime, limit: int) -> int:
        old = [
            k
            for k, d in self.stored.items()
            if d.status is not DeliveryStatus.PENDING and d.created_at < finished_before
        ][:limit]
        for key in old:
            del self.stored[key]
        return len(old)


class FakeSecretBox:
    """Reversible and visibly not the plaintext."""

    def seal(self, plaintext: str) -> str:
        return "sealed:" + plaintext[::-1]

    def open(self, sealed: str) -> str:
        return sealed.removeprefix("sealed:")[::-1]


class Request(msgspec.Struct, frozen=True):
    url: str
    headers: dict[str, str]
    body: bytes


class FakeWebhookTransport:
    """Answers each POST with the next scripted status (or raises it); addresses are read
    from `resolves` (host -> IP) and checked like the real transport does."""

    def __init__(self, *answers: int | Exception, resolves: Mapping[str, str] | None = None):
        self.answers = list(answers)
        self.requests: list[Request] = []
        self.resolves = dict(resolves or {})
        self.allow_private = False

    async def check_destination(self, url: str) -> None:
        host = urlsplit(url).hostname or ""
        address = self.resolves.get(host, host)
        reason = forbidden_address(address)
        if reason is not None and not self.allow_private:
            raise UnsafeDestination(f"{host} resolves to {reason}")

    async def post(self, url: str, headers: Mapping[str, str], body: bytes) -> int:
        self.requests.append(Request(url, dict(headers), body))
        answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, Exception):
            raise Unreachable(str(answer))
        return answer

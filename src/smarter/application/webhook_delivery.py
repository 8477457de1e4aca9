"""Sending webhooks (the worker's side): claim the deliveries that are due, send each once,
record what happened.

Deliveries are written in the transaction of the event they announce (see
`domain/webhook_events.py`), so none is lost; a worker claims a batch with a lease, and every
attempt is stored with its response code or error. A delivery sent twice (a worker died after
the POST, before storing it) keeps its `webhook-id`, which is how receivers drop duplicates.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from smarter.application.errors import NotConfigured
from smarter.application.ports import Clock, UnitOfWork
from smarter.application.webhook_ports import (
    Jitter,
    SecretBox,
    Unreachable,
    WebhookPolicy,
    WebhookTransport,
)
from smarter.domain.webhooks import DeliveryAttempt, WebhookDelivery, signature

MAX_ERROR_LENGTH = 500
USER_AGENT = "Smarter-Webhooks/1"


def message_headers(delivery: WebhookDelivery, secret: str, at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt, signed with the time it is sent."""
    timestamp = int(at.timestamp())
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(
            secret, delivery.message_id, timestamp, delivery.payload.encode()
        ),
    }


class ClaimDueWebhooks:
    def __init__(self, uow: UnitOfWork, clock: Clock, policy: WebhookPolicy) -> None:
        self._uow, self._clock, self._policy = uow, clock, policy

    async def __call__(self, limit: int) -> list[int]:
        now = self._clock.now()
        until = now + timedelta(seconds=self._policy.lease_seconds)
        ids = await self._uow.webhooks.claim_due(now, until, limit)
        await self._uow.commit()
        return ids


class DeliverWebhook:
    """Send one delivery once: sign, POST, record the attempt and when to try again."""

    def __init__(
        self,
        uow: UnitOfWork,
        transport: WebhookTransport,
        box: SecretBox,
        clock: Clock,
        policy: WebhookPolicy,
        jitter: Jitter,
    ) -> None:
        self._uow, self._transport, self._box = uow, transport, box
        self._clock, self._policy, self._jitter = clock, policy, jitter

    async def __call__(self, delivery_id: int) -> DeliveryAttempt | None:
        """The attempt made, or None when the delivery is no longer pending."""
        found = await self._uow.webhooks.pending(delivery_id)
        if found is None:
            return None
        delivery, endpoint = found
        started = self._clock.now()
        status: int | None = None
        error = ""
        if not endpoint.enabled:
            error = "not sent: the endpoint is disabled"
        else:
            try:
                headers = message_headers(delivery, self._box.open(endpoint.sealed_secret), started)
                status = await self._transport.post(
                    endpoint.url, headers, delivery.payload.encode()
                )
            except (Unreachable, NotConfigured) as problem:
                error = str(problem)[:MAX_ERROR_LENGTH] or type(problem).__name__
        elapsed = self._clock.now() - started
        attempt = DeliveryAttempt(
            at=started,
            status_code=status,
            error=error,
            duration_ms=max(0, int(elapsed.total_seconds() * 1000)),
        )
        delivery.record(attempt, self._policy.schedule, self._jitter())
        await self._uow.webhooks.record_attempt(delivery, attempt)
        await self._uow.commit()
        return attempt


class PruneWebhookDeliveries:
    """Forget finished deliveries past the retention period, a batch at a time."""

    def __init__(self, uow: UnitOfWork, clock: Clock, policy: WebhookPolicy) -> None:
        self._uow, self._clock, self._policy = uow, clock, policy

    async def __call__(self, limit: int = 1000) -> int:
        before = self._clock.now() - timedelta(days=self._policy.retention_days)
        pruned = await self._uow.webhooks.prune(before, limit)
        await self._uow.commit()
        return pruned

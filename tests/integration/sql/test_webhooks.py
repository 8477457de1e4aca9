"""The webhook store on SQLite and PostgreSQL: endpoints per account, deliveries claimed with
a lease, attempts recorded and listed, old deliveries pruned."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from smarter.adapters.sql.unit_of_work import SqlUnitOfWork
from smarter.adapters.sql.webhooks import publish
from smarter.application.webhook_ports import DeliveryFilter
from smarter.domain.errors import NotFound
from smarter.domain.webhook_events import WebhookEvent
from smarter.domain.webhooks import (
    DeliveryAttempt,
    DeliveryStatus,
    RetrySchedule,
    WebhookEndpoint,
    WebhookEventType,
)

from .factories import MOMENT, NUMBER, OTHER_NUMBER, an_account, later

NewUoW = Callable[[], AbstractAsyncContextManager[SqlUnitOfWork]]
READY = WebhookEventType.CLIENT_READY
SCHEDULE = RetrySchedule(first_seconds=10, max_seconds=60, window_seconds=3600)


def an_endpoint(account: str = NUMBER, *types: WebhookEventType) -> WebhookEndpoint:
    return WebhookEndpoint(
        account_number=account,  # type: ignore[arg-type]
        url="https://hooks.customer.example/in",
        event_types=types or (READY,),
        description="ops",
        sealed_secret="v1:abcd:sealed",
        created_at=MOMENT,
    )


async def endpoint_with_deliveries(uow: SqlUnitOfWork, count: int) -> int:
    await an_account(uow)
    endpoint = await uow.webhooks.add(an_endpoint())
    assert endpoint.id is not None
    events = [WebhookEvent(type=READY, at=MOMENT, data={"n": n}) for n in range(count)]
    await publish(uow.session, NUMBER, events)
    await uow.commit()
    return endpoint.id


async def test_endpoints_read_back_and_belong_to_their_account(
    uow: SqlUnitOfWork, new_uow: NewUoW
) -> None:
    await an_account(uow)
    await an_account(uow, OTHER_NUMBER)
    endpoint = await uow.webhooks.add(an_endpoint())
    await uow.commit()
    assert endpoint.id is not None

    async with new_uow() as other:
        assert await other.webhooks.get(NUMBER, endpoint.id) == endpoint
        assert await other.webhooks.list(NUMBER) == [endpoint]
        assert await other.webhooks.list(OTHER_NUMBER) == []
        with pytest.raises(NotFound):
            await other.webhooks.get(OTHER_NUMBER, endpoint.id)
        endpoint.enabled, endpoint.url = False, "https://elsewhere.example/"
        await other.webhooks.save(endpoint)
        await other.commit()
    async with new_uow() as other:
        assert await other.webhooks.get(NUMBER, endpoint.id) == endpoint


async def test_only_enabled_endpoints_that_want_the_event_get_a_delivery(
    uow: SqlUnitOfWork,
) -> None:
    await an_account(uow)
    await an_account(uow, OTHER_NUMBER)
    wants = await uow.webhooks.add(an_endpoint())
    disabled = an_endpoint()
    disabled.enabled = False
    await uow.webhooks.add(disabled)
    await uow.webhooks.add(an_endpoint(NUMBER, WebhookEventType.DOMAIN_LOST))
    await uow.webhooks.add(an_endpoint(OTHER_NUMBER))
    await publish(uow.session, NUMBER, [WebhookEvent(type=READY, at=MOMENT, data={})])
    await uow.commit()

    due = await uow.webhooks.claim_due(later(3600 * 24 * 365 * 10), later(1), 10)
    assert len(due) == 1
    found = await uow.webhooks.pending(due[0])
    assert found is not None and found[1] == wants


async def test_a_claimed_delivery_is_not_claimed_again_until_its_lease_ends(
    uow: SqlUnitOfWork, new_uow: NewUoW
) -> None:
    endpoint_id = await endpoint_with_deliveries(uow, 3)
    deliveries = await uow.webhooks.deliveries(endpoint_id, DeliveryFilter())
    everything = sorted(d.id or 0 for d in deliveries)
    now = max(d.created_at for d in deliveries)
    lease_end = later(10**8)

    claimed = await uow.webhooks.claim_due(now, lease_end, 2)
    await uow.commit()
    async with new_uow() as other:
        assert await other.webhooks.claim_due(now, lease_end, 10) == sorted(
            set(everything) - set(claimed)
        )
        await other.commit()
        assert await other.webhooks.claim_due(now, lease_end, 10) == []
        assert await other.webhooks.claim_due(lease_end, lease_end, 10) == everything


async def test_attempts_are_recorded_and_listed_with_their_delivery(
    uow: SqlUnitOfWork, new_uow: NewUoW
) -> None:
    endpoint_id = await endpoint_with_deliveries(uow, 2)
    first, second = sorted(await uow.webhooks.claim_due(later(10**8), later(10**8), 10))
    found = await uow.webhooks.pending(first)
    assert found is not None
    delivery = found[0]
    for attempt in (
        DeliveryAttempt(at=MOMENT, error="no response within 10 s", duration_ms=10000),
        DeliveryAttempt(at=later(5), status_code=500, duration_ms=12),
        DeliveryAttempt(at=later(20), status_code=200, duration_ms=8),
    ):
        delivery.record(attempt, SCHEDULE, jitter=0.5)
        await uow.webhooks.record_attempt(delivery, attempt)
    await uow.commit()

    async with new_uow() as other:
        newest, oldest = await other.webhooks.deliveries(endpoint_id, DeliveryFilter())
        assert (newest.id, oldest.id) == (second, first)
        assert oldest.status is DeliveryStatus.DELIVERED and oldest.attempt_count == 3
        assert [(a.status_code, a.error) for a in oldest.attempts] == [
            (None, "no response within 10 s"),
            (500, ""),
            (200, ""),
        ]
        assert await other.webhooks.pending(first) is None
        pending = DeliveryFilter(status=DeliveryStatus.PENDING)
        assert [d.id for d in await other.webhooks.deliveries(endpoint_id, pending)] == [second]
        assert (await other.webhooks.delivery(endpoint_id, first)).attempts == oldest.attempts
        with pytest.raises(NotFound):
            await other.webhooks.delivery(endpoint_id + 1, first)


async def test_finished_deliveries_are_pruned_and_an_endpoint_takes_its_deliveries_along(
    uow: SqlUnitOfWork, new_uow: NewUoW
) -> None:
    endpoint_id = await endpoint_with_deliveries(uow, 2)
    done, waiting = sorted(await uow.webhooks.claim_due(later(10**8), later(10**8), 10))
    found = await uow.webhooks.pending(done)
    assert found is not None
    attempt = DeliveryAttempt(at=MOMENT, status_code=204)
    found[0].record(attempt, SCHEDULE, 0.0)
    await uow.webhooks.record_attempt(found[0], attempt)
    await uow.commit()

    assert await uow.webhooks.prune(later(10**8), 100) == 1
    await uow.commit()
    async with new_uow() as other:
        listed = await other.webhooks.deliveries(endpoint_id, DeliveryFilter())
        assert [d.id for d in listed] == [waiting]
        await other.webhooks.delete(await other.webhooks.get(NUMBER, endpoint_id))
        await other.commit()
        assert await other.webhooks.pending(waiting) is None

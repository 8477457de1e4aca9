"""Webhook use cases on fakes: registering endpoints, sending deliveries, retrying them."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from smarter.application.errors import PermissionDenied
from smarter.application.webhook_delivery import ClaimDueWebhooks, DeliverWebhook
from smarter.application.webhook_ports import DeliveryFilter, WebhookPolicy
from smarter.application.webhooks import (
    DeleteWebhookEndpoint,
    GetWebhookEndpoint,
    ListWebhookDeliveries,
    NewWebhookEndpoint,
    RegisterWebhookEndpoint,
    RotateWebhookSecret,
    UpdateWebhookEndpoint,
    WebhookEndpointChanges,
)
from smarter.domain.accounts import Principal
from smarter.domain.errors import Conflict, InvalidValue, NotFound
from smarter.domain.webhooks import (
    MAX_ENDPOINTS_PER_ACCOUNT,
    DeliveryStatus,
    RetrySchedule,
    WebhookDelivery,
    WebhookEventType,
)
from tests.fake_webhooks import FakeSecretBox, FakeWebhookTransport
from tests.unit.application.conftest import World

READY = WebhookEventType.CLIENT_READY
PUBLIC_URL = "https://hooks.customer.example/smarter"
POLICY = WebhookPolicy(schedule=RetrySchedule(first_seconds=5, max_seconds=60, window_seconds=300))


class FixedJitter:
    def __call__(self) -> float:
        return 0.0


def transport(*answers: int | Exception) -> FakeWebhookTransport:
    return FakeWebhookTransport(*answers, resolves={"hooks.customer.example": "93.184.215.14"})


async def register(
    world: World,
    principal: Principal | None = None,
    url: str = PUBLIC_URL,
    sender: FakeWebhookTransport | None = None,
    policy: WebhookPolicy = POLICY,
) -> tuple[int, str]:
    use_case = RegisterWebhookEndpoint(
        world.uow, FakeSecretBox(), sender or transport(), policy, world.clock
    )
    registered = await use_case(
        principal or world.admin, NewWebhookEndpoint(url=url, event_types=(READY,))
    )
    assert registered.endpoint.id is not None
    return registered.endpoint.id, registered.secret


def queue(world: World, endpoint_id: int, body: str = '{"type":"client.ready"}') -> int:
    delivery = world.uow.webhooks.queue(
        WebhookDelivery(
            endpoint_id=endpoint_id,
            message_id=f"msg_{len(world.uow.webhooks.stored)}",
            event_type=READY,
            payload=body,
            created_at=world.clock.now(),
            next_attempt_at=world.clock.now(),
        )
    )
    assert delivery.id is not None
    return delivery.id


def deliver(world: World, sender: FakeWebhookTransport) -> DeliverWebhook:
    return DeliverWebhook(world.uow, sender, FakeSecretBox(), world.clock, POLICY, FixedJitter())


# -- endpoints --------------------------------------------------------------------------------


async def test_a_registered_endpoint_shows_its_secret_once_and_stores_it_sealed(
    world: World,
) -> None:
    endpoint_id, secret = await register(world)

    stored = world.uow.webhooks.endpoints[endpoint_id]
    assert secret.startswith("whsec_")
    assert secret not in stored.sealed_secret
    assert FakeSecretBox().open(stored.sealed_secret) == secret
    assert world.uow.commits == 1


async def test_an_endpoint_resolving_to_a_private_address_is_refused(world: World) -> None:
    sender = FakeWebhookTransport(resolves={"internal.customer.example": "10.0.0.7"})

    with pytest.raises(InvalidValue, match=r"10\.0\.0\.7 is a private address") as caught:
        await register(world, url="https://internal.customer.example/hook", sender=sender)
    with pytest.raises(InvalidValue, match="loopback"):
        await register(world, url="https://127.0.0.1/hook", sender=sender)

    assert caught.value.field == "url"
    assert world.uow.webhooks.endpoints == {}


async def test_plain_http_is_refused_unless_private_endpoints_are_allowed(world: World) -> None:
    with pytest.raises(InvalidValue, match="https"):
        await register(world, url="http://hooks.customer.example/")

    sender = FakeWebhookTransport()
    sender.allow_private = True
    allowed = WebhookPolicy(allow_private=True)
    endpoint_id, _ = await register(
        world, url="http://127.0.0.1:8000/hook", sender=sender, policy=allowed
    )
    assert world.uow.webhooks.endpoints[endpoint_id].url == "http://127.0.0.1:8000/hook"


async def test_only_admins_manage_webhooks(world: World) -> None:
    with pytest.raises(PermissionDenied):
        await register(world, principal=world.user)
    endpoint_id, _ = await register(world)
    with pytest.raises(PermissionDenied):
        await GetWebhookEndpoint(world.uow)(world.user, endpoint_id)


async def test_another_accounts_endpoint_is_not_found(world: World) -> None:
    endpoint_id, _ = await register(world)

    with pytest.raises(NotFound):
        await GetWebhookEndpoint(world.uow)(world.stranger, endpoint_id)
    with pytest.raises(NotFound):
        await DeleteWebhookEndpoint(world.uow)(world.stranger, endpoint_id)
    with pytest.raises(NotFound):
        await ListWebhookDeliveries(world.uow)(world.stranger, endpoint_id, DeliveryFilter())
    assert endpoint_id in world.uow.webhooks.endpoints


async def test_an_account_has_a_bounded_number_of_endpoints(world: World) -> None:
    for _ in range(MAX_ENDPOINTS_PER_ACCOUNT):
        await register(world)

    with pytest.raises(Conflict, match="at most"):
        await register(world)


async def test_an_update_is_validated_and_a_new_url_is_checked(world: World) -> None:
    endpoint_id, _ = await register(world)
    update = UpdateWebhookEndpoint(world.uow, transport(), POLICY)

    changed = await update(
        world.admin, endpoint_id, WebhookEndpointChanges(enabled=False, description="ops")
    )
    assert (changed.enabled, changed.description, changed.url) == (False, "ops", PUBLIC_URL)
    with pytest.raises(InvalidValue, match="loopback"):
        await update(world.admin, endpoint_id, WebhookEndpointChanges(url="https://[::1]/"))
    with pytest.raises(InvalidValue, match="at least one event"):
        await update(world.admin, endpoint_id, WebhookEndpointChanges(event_types=()))
    assert world.uow.webhooks.endpoints[endpoint_id].url == PUBLIC_URL


async def test_a_rotated_secret_replaces_the_old_one(world: World) -> None:
    endpoint_id, old = await register(world)

    rotated = await RotateWebhookSecret(world.uow, FakeSecretBox())(world.admin, endpoint_id)

    assert rotated.secret != old
    stored = world.uow.webhooks.endpoints[endpoint_id].sealed_secret
    assert FakeSecretBox().open(stored) == rotated.secret


# -- deliveries -------------------------------------------------------------------------------


def standard_signature(secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


async def test_a_delivery_is_signed_with_the_standard_webhooks_headers(world: World) -> None:
    world.clock.current = datetime.now(UTC)  # the reference library checks the timestamp
    endpoint_id, secret = await register(world)
    delivery_id = queue(world, endpoint_id, '{"type":"client.ready","data":{}}')
    sender = transport(204)

    attempt = await deliver(world, sender)(delivery_id)

    assert attempt is not None and attempt.status_code == 204
    (request,) = sender.requests
    headers = request.headers
    assert request.url == PUBLIC_URL
    assert headers["content-type"] == "application/json"
    assert headers["webhook-id"] == world.uow.webhooks.stored[delivery_id].message_id
    assert headers["webhook-timestamp"] == str(int(world.clock.now().timestamp()))
    assert headers["webhook-signature"] == standard_signature(
        secret, headers["webhook-id"], headers["webhook-timestamp"], request.body
    )
    assert Webhook(secret).verify(request.body, headers) == {"type": "client.ready", "data": {}}
    assert world.uow.webhooks.stored[delivery_id].status is DeliveryStatus.DELIVERED


async def test_a_delivery_answered_500_is_retried_later_then_delivered(world: World) -> None:
    endpoint_id, secret = await register(world)
    delivery_id = queue(world, endpoint_id)
    sender = transport(500, 200)
    claim = ClaimDueWebhooks(world.uow, world.clock, POLICY)

    assert await claim(10) == [delivery_id]
    await deliver(world, sender)(delivery_id)
    stored = world.uow.webhooks.stored[delivery_id]
    assert stored.status is DeliveryStatus.PENDING
    assert stored.next_attempt_at == world.clock.now() + timedelta(seconds=2.5)
    assert await claim(10) == []  # not due yet

    world.clock.advance(2.5)  # the first retry: 5 s with jitter 0 halves it
    assert await claim(10) == [delivery_id]
    await deliver(world, sender)(delivery_id)

    stored = world.uow.webhooks.stored[delivery_id]
    assert stored.status is DeliveryStatus.DELIVERED
    assert [a.status_code for a in stored.attempts] == [500, 200]
    first, second = sender.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    for request in sender.requests:
        assert request.headers["webhook-signature"] == standard_signature(
            secret,
            request.headers["webhook-id"],
            request.headers["webhook-timestamp"],
            request.body,
        )


async def test_a_delivery_fails_for_good_when_the_retry_window_is_over(world: World) -> None:
    endpoint_id, _ = await register(world)
    delivery_id = queue(world, endpoint_id)
    sender = transport(*[ConnectionError("connection refused")] * 50)

    for _ in range(50):
        if not await ClaimDueWebhooks(world.uow, world.clock, POLICY)(10):
            stored = world.uow.webhooks.stored[delivery_id]
            if stored.status is not DeliveryStatus.PENDING:
                break
            assert stored.next_attempt_at is not None
            world.clock.current = stored.next_attempt_at
            continue
        await deliver(world, sender)(delivery_id)

    stored = world.uow.webhooks.stored[delivery_id]
    assert stored.status is DeliveryStatus.FAILED
    assert all(a.error == "connection refused" for a in stored.attempts)
    last = stored.attempts[-1].at
    assert (last - stored.created_at).total_seconds() <= 300


async def test_a_disabled_endpoint_is_not_sent_to(world: World) -> None:
    endpoint_id, _ = await register(world)
    delivery_id = queue(world, endpoint_id)
    await UpdateWebhookEndpoint(world.uow, transport(), POLICY)(
        world.admin, endpoint_id, WebhookEndpointChanges(enabled=False)
    )
    sender = transport()

    attempt = await deliver(world, sender)(delivery_id)

    assert sender.requests == []
    assert attempt is not None and "disabled" in attempt.error


async def test_deliveries_are_listed_newest_first_with_their_attempts(world: World) -> None:
    endpoint_id, _ = await register(world)
    first, second = queue(world, endpoint_id), queue(world, endpoint_id)
    await deliver(world, transport(503))(first)

    listed = await ListWebhookDeliveries(world.uow)(world.admin, endpoint_id, DeliveryFilter())

    assert [d.id for d in listed] == [second, first]
    assert [a.status_code for a in listed[1].attempts] == [503]
    pending = DeliveryFilter(status=DeliveryStatus.PENDING, limit=1)
    assert len(await ListWebhookDeliveries(world.uow)(world.admin, endpoint_id, pending)) == 1


def test_a_delivery_page_is_bounded() -> None:
    with pytest.raises(InvalidValue):
        DeliveryFilter(limit=0)
    with pytest.raises(InvalidValue):
        DeliveryFilter(limit=101)
    with pytest.raises(InvalidValue):
        DeliveryFilter(offset=-1)

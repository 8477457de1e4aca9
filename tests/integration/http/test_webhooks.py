"""`/api/v1/webhooks/` in a non-local environment (alpha): admins register endpoints (the
secret shown once), internal addresses are refused, other accounts see 404, deliveries are
listed with their attempts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from dishka import AsyncContainer

from smarter.domain.environments import Environment
from smarter.domain.webhooks import DeliveryAttempt, WebhookDelivery, WebhookEventType
from smarter.entrypoints.http.app import create_app
from smarter.entrypoints.settings import Settings
from smarter.entrypoints.wiring import make_container
from tests.fakes import FakeClock, FakeUnitOfWork
from tests.integration.http.conftest import Api, FakesProvider, Tenant, client_for

WEBHOOKS = "/api/v1/webhooks"
PUBLIC = "https://93.184.215.14/smarter-events"
KEY = "a-test-key-that-is-long-enough"


@pytest.fixture
def settings() -> Settings:
    return Settings(environment=Environment.ALPHA, webhook_secret_keys=(KEY,))


@pytest.fixture
async def api(settings: Settings, container: AsyncContainer) -> AsyncIterator[Api]:
    app = create_app(settings, container)
    async with client_for(app, "https://alpha.platform.example.com") as client:
        yield Api(client, container)


async def register(api: Api, tenant: Tenant, **body: object) -> dict[str, object]:
    response = await api.client.post(
        f"{WEBHOOKS}/",
        json={"url": PUBLIC, "event_types": ["client.ready", "domain.lost"], **body},
        headers=tenant.admin,
    )
    assert response.status_code == 201, response.text
    registered: dict[str, object] = response.json()
    return registered


async def test_an_admin_registers_an_endpoint_and_sees_its_secret_once(
    api: Api, tenant: Tenant, uow: FakeUnitOfWork
) -> None:
    registered = await register(api, tenant, description="pager")

    secret = registered.pop("secret")
    assert isinstance(secret, str) and secret.startswith("whsec_")
    assert registered["url"] == PUBLIC
    assert registered["event_types"] == ["client.ready", "domain.lost"]
    assert registered["enabled"] is True
    stored = uow.webhooks.endpoints[int(str(registered["id"]))]
    assert secret not in stored.sealed_secret and stored.sealed_secret.startswith("v1:")
    read = await api.client.get(f"{WEBHOOKS}/{registered['id']}/", headers=tenant.admin)
    listed = await api.client.get(f"{WEBHOOKS}/", headers=tenant.admin)
    assert read.json() == registered
    assert listed.json() == [registered]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1/hook", "loopback"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://10.0.0.5/hook", "private"),
        ("https://[::1]:8443/hook", "loopback"),
        ("https://localhost/hook", "loopback"),
        ("http://93.184.215.14/hook", "https"),
    ],
)
async def test_an_internal_or_plain_http_endpoint_is_refused(
    api: Api, tenant: Tenant, uow: FakeUnitOfWork, url: str, reason: str
) -> None:
    response = await api.client.post(
        f"{WEBHOOKS}/", json={"url": url, "event_types": ["client.ready"]}, headers=tenant.admin
    )

    assert response.status_code == 422
    assert response.json()["field"] == "url"
    assert reason in response.json()["detail"]
    assert uow.webhooks.endpoints == {}


@pytest.mark.parametrize(
    "body",
    [
        {"url": PUBLIC, "event_types": []},
        {"url": PUBLIC, "event_types": ["client.exploded"]},
        {"url": PUBLIC},
        {"url": PUBLIC, "event_types": ["client.ready"], "secret": "mine"},
        {"url": "x" * 5000, "event_types": ["client.ready"]},
    ],
)
async def test_a_bad_registration_is_a_4xx_naming_the_problem(
    api: Api, tenant: Tenant, body: dict[str, object]
) -> None:
    response = await api.client.post(f"{WEBHOOKS}/", json=body, headers=tenant.admin)

    assert response.status_code in (400, 422)
    assert response.json()["detail"]


async def test_members_are_refused_and_other_accounts_get_404(
    api: Api, tenant: Tenant, other_tenant: Tenant
) -> None:
    endpoint = await register(api, tenant)
    path = f"{WEBHOOKS}/{endpoint['id']}/"

    assert (await api.client.get(f"{WEBHOOKS}/", headers=tenant.member)).status_code == 403
    for method in ("GET", "DELETE"):
        response = await api.client.request(method, path, headers=other_tenant.admin)
        assert response.status_code == 404
    changed = await api.client.patch(path, json={"enabled": False}, headers=other_tenant.admin)
    deliveries = await api.client.get(f"{path}deliveries/", headers=other_tenant.admin)
    rotated = await api.client.post(f"{path}rotate-secret/", headers=other_tenant.admin)
    assert (changed.status_code, deliveries.status_code, rotated.status_code) == (404, 404, 404)
    assert (await api.client.get(f"{WEBHOOKS}/", headers=other_tenant.admin)).json() == []


async def test_an_endpoint_is_changed_rotated_and_deleted(api: Api, tenant: Tenant) -> None:
    endpoint = await register(api, tenant)
    path = f"{WEBHOOKS}/{endpoint['id']}/"

    changed = await api.client.patch(
        path, json={"enabled": False, "event_types": ["client.failed"]}, headers=tenant.admin
    )
    refused = await api.client.patch(
        path, json={"url": "https://192.168.0.1/"}, headers=tenant.admin
    )
    rotated = await api.client.post(f"{path}rotate-secret/", headers=tenant.admin)
    deleted = await api.client.delete(path, headers=tenant.admin)

    assert changed.status_code == 200
    assert (changed.json()["enabled"], changed.json()["event_types"]) == (False, ["client.failed"])
    assert refused.status_code == 422
    assert rotated.status_code == 200
    assert rotated.json()["secret"] not in (endpoint["secret"], None)
    assert deleted.status_code == 204
    assert (await api.client.get(path, headers=tenant.admin)).status_code == 404


async def test_deliveries_are_listed_with_their_attempts_and_response_codes(
    api: Api, tenant: Tenant, uow: FakeUnitOfWork, clock: FakeClock
) -> None:
    endpoint = await register(api, tenant)
    endpoint_id = int(str(endpoint["id"]))
    now = clock.now()
    delivery = uow.webhooks.queue(
        WebhookDelivery(
            endpoint_id=endpoint_id,
            message_id="msg_0123",
            event_type=WebhookEventType.CLIENT_READY,
            payload='{"type":"client.ready","timestamp":"2026-01-02T03:04:05Z","data":{}}',
            created_at=now,
            attempt_count=2,
        )
    )
    uow.webhooks.stored[delivery.id or 0].attempts = [
        DeliveryAttempt(at=now, status_code=500, duration_ms=12),
        DeliveryAttempt(at=now + timedelta(seconds=5), error="no response within 10 s"),
    ]

    response = await api.client.get(
        f"{WEBHOOKS}/{endpoint_id}/deliveries/", params={"limit": 5}, headers=tenant.admin
    )
    one = await api.client.get(
        f"{WEBHOOKS}/{endpoint_id}/deliveries/{delivery.id}/", headers=tenant.admin
    )
    bad = await api.client.get(
        f"{WEBHOOKS}/{endpoint_id}/deliveries/", params={"limit": 1000}, headers=tenant.admin
    )

    assert response.status_code == 200
    (listed,) = response.json()
    assert listed == one.json()
    assert listed["message_id"] == "msg_0123"
    assert listed["payload"]["type"] == "client.ready"
    assert [(a["status_code"], a["error"]) for a in listed["attempts"]] == [
        (500, ""),
        (None, "no response within 10 s"),
    ]
    assert bad.status_code == 400


async def test_without_a_sealing_key_registration_is_503_outside_local(
    uow: FakeUnitOfWork, clock: FakeClock, tenant: Tenant
) -> None:
    settings = Settings(environment=Environment.ALPHA)
    container = make_container(settings, FakesProvider(uow, clock))
    app = create_app(settings, container)
    async with client_for(app, "https://alpha.platform.example.com") as client:
        response = await client.post(
            f"{WEBHOOKS}/",
            json={"url": PUBLIC, "event_types": ["client.ready"]},
            headers=tenant.admin,
        )

    assert response.status_code == 503
    assert "SMARTER_WEBHOOK_SECRET_KEYS" in response.json()["detail"]

"""Webhooks end to end through a real `smarter worker` process (PostgreSQL, Redis) to a real
HTTP receiver on loopback.

In `local` (loopback endpoints allowed): a client deployed through the console API becomes
ready in the worker, whose `client.ready` delivery is answered 500 once, retried, delivered
with a signature the Standard Webhooks reference library accepts, and listed by the API with
both attempts. In `alpha`: a loopback endpoint is refused where the worker connects, unless
SMARTER_WEBHOOK_ALLOW_PRIVATE_ADDRESSES lets a test's receiver through.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from smarter.adapters.aes_gcm_secret_box import AesGcmSecretBox
from smarter.adapters.sql.unit_of_work import SqlUnitOfWork
from smarter.adapters.sql.webhooks import publish
from smarter.application import accounts
from smarter.application.ports import UnitOfWork
from smarter.application.webhook_ports import DeliveryFilter
from smarter.domain.account_number import AccountNumber
from smarter.domain.webhook_events import WebhookEvent
from smarter.domain.webhooks import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
    new_signing_secret,
)
from smarter.entrypoints.http.app import create_app
from smarter.entrypoints.settings import load_settings
from smarter.entrypoints.wiring import make_container
from tests.integration.conftest import empty_database, fresh_database
from tests.integration.http.conftest import Api, client_for

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
WAIT_SECONDS = 120.0  # generous: CI machines run this under load
KEY = "alpha-test-sealing-key-0123456789"


class Receiver:
    """Answers the first POST with 500 and the others with 204; `delivered` is set by the
    first 2xx."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes, int]] = []
        self.delivered = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = 500 if not receiver.requests else 204
                receiver.requests.append((dict(self.headers.items()), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if status == 204:
                    receiver.delivered.set()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/smarter"

    async def wait(self) -> None:
        assert await asyncio.to_thread(self.delivered.wait, WAIT_SECONDS), self.requests

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_database("postgresql", tmp_path_factory.mktemp("webhooks")) as url:
        yield url


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.stop()


class Workers:
    def __init__(self, postgres_url: str, logs: Path) -> None:
        self.queue = f"webhooks-{uuid.uuid4().hex[:10]}"
        self.base = {
            "SMARTER_DATABASE_URL": postgres_url,
            "SMARTER_REDIS_URL": REDIS_URL,
            "SMARTER_QUEUE_NAME": self.queue,
            "SMARTER_REDIS_PREFIX": self.queue,
            "SMARTER_OUTBOX_POLL_SECONDS": "0.1",
            "SMARTER_WEBHOOK_POLL_SECONDS": "0.1",
            "SMARTER_WEBHOOK_FIRST_RETRY_SECONDS": "0.2",
            # An attempt cut short under load would show as an error, not as the 500 sent.
            "SMARTER_WEBHOOK_TIMEOUT_SECONDS": "60",
            "SMARTER_LOG_LEVEL": "info",
        }
        self.logs = logs
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, **settings: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTER_")}
        log = (self.logs / f"worker-{len(self.processes)}.log").open("wb")
        self.processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "smarter.entrypoints.cli", "worker"],
                env=env | self.base | settings,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )

    async def stop(self) -> None:
        for process in self.processes:
            process.kill()  # the test is over: no need to wait for a graceful stop
        for process in self.processes:
            await asyncio.to_thread(process.wait, 30)
        from redis import asyncio as aioredis

        redis = aioredis.from_url(REDIS_URL)
        patterns = (f"saq:{self.queue}:*", f"saq:job:{self.queue}:*", f"{self.queue}:*")
        for pattern in (*patterns, f"smarter:queue:{self.queue}:*"):
            keys = [key async for key in redis.scan_iter(match=pattern, count=500)]
            if keys:
                await redis.delete(*keys)
        await redis.aclose()


@pytest.fixture
async def workers(postgres_url: str, tmp_path: Path) -> AsyncIterator[Workers]:
    await empty_database(postgres_url)
    running = Workers(postgres_url, tmp_path)
    yield running
    await running.stop()


async def test_a_client_ready_in_the_worker_is_delivered_signed_after_a_500(
    workers: Workers, receiver: Receiver
) -> None:
    settings = load_settings({"SMARTER_DATABASE_URL": workers.base["SMARTER_DATABASE_URL"]})
    container = make_container(settings)
    workers.start(SMARTER_ENVIRONMENT="local")
    try:
        async with client_for(create_app(settings, container)) as client:
            api = Api(client, container)
            admin = (await api.new_tenant("3141-5926-5359")).admin
            hook = await client.post(
                "/api/v1/webhooks/",
                json={"url": receiver.url, "event_types": ["client.ready"]},
                headers=admin,
            )
            assert hook.status_code == 201, hook.text
            created = await client.post(
                "/api/v1/llm-clients/", json={"name": "example"}, headers=admin
            )
            client_id = created.json()["id"]
            deployed = await client.post(f"/api/v1/llm-clients/{client_id}/deploy/", headers=admin)
            assert deployed.status_code == 202, deployed.text

            await receiver.wait()

            listed = await client.get(
                f"/api/v1/webhooks/{hook.json()['id']}/deliveries/", headers=admin
            )
    finally:
        await container.close()

    (failed, delivered) = receiver.requests
    assert (failed[2], delivered[2]) == (500, 204)
    headers, body, _ = delivered
    assert headers["webhook-id"] == failed[0]["webhook-id"]
    event = Webhook(hook.json()["secret"]).verify(body, headers)
    assert event["type"] == "client.ready"
    assert event["data"]["llm_client"]["id"] == client_id
    assert event["data"]["llm_client"]["dns_verification_status"] == "Verified"
    (delivery,) = listed.json()
    assert delivery["status"] == "delivered"
    assert delivery["message_id"] == headers["webhook-id"]
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 204]


async def queue_delivery(uow: UnitOfWork, url: str, secret: str) -> int:
    """An endpoint whose address is internal (as if its name now resolved there) with one
    pending delivery, written the way a registration and an event write them."""
    number = AccountNumber("2718-2818-2845")
    endpoint = await uow.webhooks.add(
        WebhookEndpoint(
            account_number=number,
            url=url,
            event_types=(WebhookEventType.DOMAIN_LOST,),
            sealed_secret=AesGcmSecretBox([KEY]).seal(secret),
        )
    )
    assert isinstance(uow, SqlUnitOfWork) and endpoint.id is not None
    event = WebhookEvent(type=WebhookEventType.DOMAIN_LOST, at=datetime.now(UTC), data={"n": 1})
    await publish(uow.session, number, [event])
    await uow.commit()
    return endpoint.id


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll `check` until it holds (the worker is another process: nothing to wait on)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def deliveries(container: Any, endpoint_id: int) -> list[WebhookDelivery]:
    async with container() as request:
        uow: UnitOfWork = await request.get(UnitOfWork)
        return await uow.webhooks.deliveries(endpoint_id, DeliveryFilter())


@pytest.mark.parametrize("allowed", [False, True])
async def test_outside_local_a_loopback_endpoint_is_reached_only_when_the_setting_allows_it(
    workers: Workers, receiver: Receiver, allowed: bool
) -> None:
    alpha = {
        "SMARTER_ENVIRONMENT": "alpha",
        "SMARTER_WEBHOOK_SECRET_KEYS": KEY,
        # Provisioning adapters are built at start; nothing here reaches them.
        "SMARTER_KUBERNETES_API_URL": "http://127.0.0.1:9",
        "SMARTER_WEBHOOK_ALLOW_PRIVATE_ADDRESSES": str(allowed).lower(),
    }
    settings = load_settings({**workers.base, **alpha})
    container = make_container(settings)
    secret = new_signing_secret()
    try:
        async with container() as request:
            await (await request.get(accounts.CreateAccount))(
                name="T", number=AccountNumber("2718-2818-2845")
            )
            endpoint_id = await queue_delivery(await request.get(UnitOfWork), receiver.url, secret)
        workers.start(**alpha)

        if allowed:
            await receiver.wait()  # the 500, then the retry
            assert len(receiver.requests) == 2
            headers, body, _ = receiver.requests[-1]
            assert Webhook(secret).verify(body, headers)["type"] == "domain.lost"
        else:

            async def attempted() -> bool:
                found = await deliveries(container, endpoint_id)
                return bool(found and found[0].attempts)

            await until(attempted, "the worker's first attempt")
            (delivery,) = await deliveries(container, endpoint_id)
            assert delivery.status is DeliveryStatus.PENDING
            assert "refused: 127.0.0.1 is a loopback address" in delivery.attempts[0].error
            assert receiver.requests == []
    finally:
        await container.close()

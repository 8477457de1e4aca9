"""`smarter webhooks ...` against a real SQLite database, in process."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from smarter.adapters.sql.database import make_engine, make_session_factory
from smarter.adapters.sql.webhooks import publish
from smarter.domain.webhook_events import WebhookEvent
from smarter.domain.webhooks import WebhookEventType
from smarter.entrypoints.cli import main

HOOK = "http://127.0.0.1:9/hook"  # allowed in `local`, the default environment


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("SMARTER_DATABASE_URL", url)
    assert main(["db", "upgrade"]) == 0
    return url


@pytest.fixture
def account(database_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["accounts", "create", "-o", "json"]) == 0
    number: str = json.loads(capsys.readouterr().out)["account_number"]
    return number


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    assert main([*args, "-o", "json"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def publish_ready_event(url: str, account: str) -> None:
    """What a client becoming ready writes (the worker's side of the test)."""

    async def write() -> None:
        engine = make_engine(url)
        try:
            async with make_session_factory(engine)() as session:
                event = WebhookEvent(
                    type=WebhookEventType.CLIENT_READY, at=datetime.now(UTC), data={}
                )
                await publish(session, account, [event])
                await session.commit()
        finally:
            await engine.dispose()

    asyncio.run(write())


def test_an_endpoint_is_added_listed_rotated_and_deleted(
    account: str, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    added = run_json(
        capsys,
        "webhooks",
        "add",
        "--account",
        account,
        "--url",
        HOOK,
        "--events",
        "client.ready, client.failed",
    )
    assert added["secret"].startswith("whsec_")
    assert added["event_types"] == ["client.failed", "client.ready"]
    endpoint = str(added["id"])

    listed = run_json(capsys, "webhooks", "list", "--account", account)
    assert [e["url"] for e in listed] == [HOOK] and "secret" not in listed[0]
    rotated = run_json(capsys, "webhooks", "rotate-secret", "--account", account, endpoint)
    assert rotated["secret"] != added["secret"]

    publish_ready_event(database_url, account)
    assert main(["webhooks", "deliveries", "--account", account, endpoint]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:4] == ["ID", "EVENT_TYPE", "STATUS", "ATTEMPT_COUNT"]
    assert table[1].split()[1:4] == ["client.ready", "pending", "0"]

    assert run_json(capsys, "webhooks", "delete", "--account", account, endpoint)["deleted"]
    assert run_json(capsys, "webhooks", "list", "--account", account) == []


def test_an_unknown_event_is_a_clear_error(
    account: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["webhooks", "add", "--account", account, "--url", HOOK, "--events", "client.gone"]

    assert main(args) == 1
    assert "unknown event" in capsys.readouterr().err


def test_a_loopback_endpoint_is_refused_outside_local(
    account: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMARTER_ENVIRONMENT", "alpha")
    monkeypatch.setenv("SMARTER_WEBHOOK_SECRET_KEYS", "a-cli-test-key-long-enough")
    url = "https://localhost/hook"
    args = ["webhooks", "add", "--account", account, "--url", url, "--events", "client.ready"]

    assert main(args) == 1
    assert "loopback" in capsys.readouterr().err

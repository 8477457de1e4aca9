"""The README's signature check accepts what the platform sends, and nothing else."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from smarter.application.webhook_delivery import message_headers
from smarter.domain.webhooks import WebhookDelivery, WebhookEventType, new_signing_secret

README = Path(__file__).resolve().parents[3] / "README.md"


def readme_verify() -> Callable[..., bool]:
    section = README.read_text().split("## Webhooks", 1)[1]
    snippet = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert snippet is not None
    namespace: dict[str, Any] = {}
    exec(snippet.group(1), namespace)
    verify: Callable[..., bool] = namespace["verify"]
    return verify


def test_the_readme_snippet_verifies_a_delivery_and_refuses_a_tampered_one() -> None:
    verify = readme_verify()
    secret = new_signing_secret()
    body = '{"type":"client.ready","timestamp":"2026-01-02T03:04:05Z","data":{}}'
    delivery = WebhookDelivery(
        endpoint_id=1,
        message_id="msg_readme",
        event_type=WebhookEventType.CLIENT_READY,
        payload=body,
        created_at=datetime.now(UTC),
    )
    headers = message_headers(delivery, secret, datetime.now(UTC))

    assert verify(secret, headers, body.encode())
    assert not verify(secret, headers, body.encode().replace(b"ready", b"faile"))
    assert not verify(new_signing_secret(), headers, body.encode())
    old = {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) - 3600)}
    assert not verify(secret, old, body.encode())

"""Webhook rules of the domain: URLs, refused addresses, signatures, the retry schedule."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from smarter.domain.account_number import AccountNumber
from smarter.domain.errors import InvalidValue
from smarter.domain.webhooks import (
    DeliveryAttempt,
    DeliveryStatus,
    RetrySchedule,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
    endpoint_url,
    forbidden_address,
    new_signing_secret,
    signature,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def independent_signature(secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    """The Standard Webhooks signature, written from its specification."""
    key = base64.b64decode(secret.split("_", 1)[1])
    content = message_id.encode() + b"." + timestamp.encode() + b"." + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def test_a_signature_is_the_standard_webhooks_hmac_of_id_timestamp_and_body() -> None:
    secret = new_signing_secret()
    body = b'{"type":"client.ready","data":{"x":"\xc3\xa9"}}'

    signed = signature(secret, "msg_1", 1767323045, body)

    assert signed == independent_signature(secret, "msg_1", "1767323045", body)


def test_a_known_secret_signs_to_a_known_value() -> None:
    # The example of the Standard Webhooks specification's reference libraries.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'

    signed = signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)

    assert signed == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_a_signing_secret_is_whsec_and_24_random_bytes_in_base64() -> None:
    secret = new_signing_secret()

    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 24
    assert new_signing_secret() != secret


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "2002:a00:1::",  # 6to4 of 10.0.0.1
        "ff02::1",
        "not-an-address",
    ],
)
def test_internal_addresses_are_refused(address: str) -> None:
    assert forbidden_address(address) is not None


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert forbidden_address(address) is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://hooks.example.com/", "https://"),
        ("https:///no-host", "https://"),
        ("https://user:pw@hooks.example.com/", "credentials"),
        ("https://hooks.example.com/#frag", "fragment"),
        ("https://hooks.example.com:99999/", "not a URL"),
        ("https://hooks.example.com/a b", "spaces"),
        ("https://hooks.example.com/" + "a" * 2048, "2048"),
    ],
)
def test_bad_endpoint_urls_are_refused_with_a_reason(url: str, problem: str) -> None:
    with pytest.raises(InvalidValue, match=problem):
        endpoint_url(url)


def test_an_endpoint_needs_an_event_and_keeps_each_once() -> None:
    with pytest.raises(InvalidValue, match="at least one event"):
        WebhookEndpoint(
            account_number=AccountNumber("1111-2222-3333"), url="https://a.example/", event_types=()
        )
    endpoint = WebhookEndpoint(
        account_number=AccountNumber("1111-2222-3333"),
        url="https://a.example/hook",
        event_types=(WebhookEventType.CLIENT_READY, WebhookEventType.CLIENT_READY),
    )
    assert endpoint.event_types == (WebhookEventType.CLIENT_READY,)
    assert endpoint.wants(WebhookEventType.CLIENT_READY)
    assert not endpoint.wants(WebhookEventType.DOMAIN_LOST)


def test_retries_back_off_exponentially_within_the_jitter_band() -> None:
    schedule = RetrySchedule(first_seconds=5, max_seconds=3600, window_seconds=86400)
    delays = []
    for attempts in range(1, 12):
        at = schedule.next_attempt(attempts, NOW, NOW, jitter=0.999)
        assert at is not None
        low = schedule.next_attempt(attempts, NOW, NOW, jitter=0.0)
        assert low is not None
        delays.append((at - NOW).total_seconds())
        assert (low - NOW).total_seconds() == pytest.approx(delays[-1] / 2, rel=0.01)
    assert delays[0] == pytest.approx(5, rel=0.01)
    assert delays[1] == pytest.approx(10, rel=0.01)
    assert max(delays) <= 3600


def test_retries_stop_when_the_window_is_over() -> None:
    schedule = RetrySchedule(first_seconds=5, max_seconds=3600, window_seconds=86400)
    late = NOW + timedelta(hours=23, minutes=59)

    assert schedule.next_attempt(30, NOW, late, jitter=0.5) is None


def test_a_delivery_is_delivered_on_a_2xx_and_failed_when_retries_run_out() -> None:
    schedule = RetrySchedule(first_seconds=5, max_seconds=60, window_seconds=100)
    delivery = WebhookDelivery(
        endpoint_id=1,
        message_id="msg_1",
        event_type=WebhookEventType.CLIENT_READY,
        payload="{}",
        created_at=NOW,
    )

    delivery.record(DeliveryAttempt(at=NOW, status_code=500), schedule, jitter=0.0)
    assert delivery.status is DeliveryStatus.PENDING
    assert delivery.next_attempt_at == NOW + timedelta(seconds=2.5)

    delivery.record(DeliveryAttempt(at=NOW + timedelta(seconds=99), error="timeout"), schedule, 0.0)
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.next_attempt_at is None

    ok = WebhookDelivery(
        endpoint_id=1,
        message_id="msg_2",
        event_type=WebhookEventType.CLIENT_READY,
        payload="{}",
        created_at=NOW,
    )
    ok.record(DeliveryAttempt(at=NOW, status_code=204), schedule, jitter=0.0)
    assert ok.status is DeliveryStatus.DELIVERED
    assert ok.attempt_count == 1

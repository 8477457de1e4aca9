"""Webhooks: the endpoints an account registers, the messages sent to them, and the rules of
sending (the Standard Webhooks conventions: `webhook-id`, `webhook-timestamp` and a
`webhook-signature` of `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`).

Every event becomes one delivery per endpoint that wants it. A delivery keeps its message id
and body for all its attempts; each attempt is signed anew with the time it is sent, so that a
receiver can refuse old messages. Failed attempts are retried with exponential backoff and
jitter until the retry window (a day by default) is over.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import ipaddress
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import msgspec

from smarter.domain.account_number import AccountNumber
from smarter.domain.errors import InvalidValue

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24  # 192 bits, within the 24-64 bytes Standard Webhooks asks for
MAX_URL_LENGTH = 2048
MAX_DESCRIPTION_LENGTH = 200
MAX_ENDPOINTS_PER_ACCOUNT = 20


class WebhookEventType(enum.StrEnum):
    CLIENT_READY = "client.ready"
    CLIENT_FAILED = "client.failed"
    CLIENT_UNDEPLOYED = "client.undeployed"
    DOMAIN_VERIFIED = "domain.verified"
    DOMAIN_LOST = "domain.lost"
    CERTIFICATE_ISSUED = "certificate.issued"
    CERTIFICATE_RENEWED = "certificate.renewed"
    CERTIFICATE_FAILED = "certificate.failed"


class WebhookEndpoint(msgspec.Struct, kw_only=True):
    """Where an account wants its events, and which ones. `sealed_secret` is the signing
    secret as the secret box sealed it (the plaintext is shown once, at registration)."""

    account_number: AccountNumber
    url: str
    event_types: tuple[WebhookEventType, ...]
    description: str = ""
    enabled: bool = True
    sealed_secret: str = ""
    id: int | None = None
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        self.url = endpoint_url(self.url)
        if not self.event_types:
            raise InvalidValue("event_types", "name at least one event")
        self.event_types = tuple(sorted(set(self.event_types)))
        if len(self.description) > MAX_DESCRIPTION_LENGTH:
            raise InvalidValue(
                "description", f"at most {MAX_DESCRIPTION_LENGTH} characters, please"
            )

    def wants(self, event_type: WebhookEventType) -> bool:
        return self.enabled and event_type in self.event_types


def endpoint_url(raw: str) -> str:
    """`raw` as an endpoint URL: http(s) with a host, no credentials, no fragment. Whether
    plain http and private addresses are allowed is the platform's policy, not the URL's."""
    if len(raw) > MAX_URL_LENGTH:
        raise InvalidValue("url", f"at most {MAX_URL_LENGTH} characters, please")
    try:
        parts = urlsplit(raw.strip())
        port = parts.port
    except ValueError as error:
        raise InvalidValue("url", f"not a URL ({error})") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidValue("url", "expected an absolute https:// URL")
    if parts.username is not None or parts.password is not None:
        raise InvalidValue("url", "credentials in the URL are not allowed; sign with the secret")
    if parts.fragment:
        raise InvalidValue("url", "a URL fragment is never sent; remove it")
    if port == 0:
        raise InvalidValue("url", "port 0 is not a port")
    if any(ord(c) < 33 or ord(c) == 127 for c in raw.strip()):
        raise InvalidValue("url", "spaces and control characters are not allowed")
    return parts.geturl()


# -- addresses ------------------------------------------------------------------------------

# NAT64 gateways reach the IPv4 address held in the last 32 bits.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def forbidden_address(address: str) -> str | None:
    """Why a webhook must not go to `address` (an IP literal), or None for a public one:
    private, loopback, link-local (cloud metadata), multicast, reserved, or otherwise not
    globally routable, including IPv4 addresses wrapped in IPv6."""
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
            address.split("%", 1)[0]
        )
    except ValueError:
        return f"{address} is not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip.sixtofour is not None:
            ip = ip.sixtofour
        elif ip in _NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    for kind, matches in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved or ip.is_unspecified),
    ):
        if matches:
            return f"{ip} is a {kind} address"
    if not ip.is_global:
        return f"{ip} is not a public address"
    return None


# -- signing --------------------------------------------------------------------------------


def new_signing_secret() -> str:
    """`whsec_` and the base64 of fresh random bytes (the Standard Webhooks form)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: `v1,` and the base64 HMAC-SHA256, keyed with the
    secret's decoded bytes, of `<id>.<timestamp>.<body>`."""
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as error:
        raise ValueError("a signing secret is whsec_ and base64") from error
    signed = b"%s.%d.%s" % (message_id.encode("ascii"), timestamp, body)
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


# -- deliveries -----------------------------------------------------------------------------


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # the retry window is over


class DeliveryAttempt(msgspec.Struct, frozen=True, kw_only=True):
    """One POST: the response code, or the error when there was no response."""

    at: datetime
    status_code: int | None = None
    error: str = ""
    duration_ms: int = 0

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class RetrySchedule(msgspec.Struct, frozen=True, kw_only=True):
    """Exponential backoff with jitter, for at most `window_seconds` after the event."""

    first_seconds: float = 5.0
    max_seconds: float = 3600.0
    window_seconds: float = 24 * 3600.0

    def next_attempt(
        self, attempts: int, created_at: datetime, now: datetime, jitter: float
    ) -> datetime | None:
        """When to try again after `attempts` failed ones, or None when the window is over.
        `jitter` in [0, 1) spreads the delay over its upper half, so that the retries of many
        deliveries that failed together do not arrive together."""
        base = min(self.max_seconds, self.first_seconds * 2.0 ** max(attempts - 1, 0))
        at = now + timedelta(seconds=base * (0.5 + jitter / 2))
        if at > created_at + timedelta(seconds=self.window_seconds):
            return None
        return at


class WebhookDelivery(msgspec.Struct, kw_only=True):
    """One event's message to one endpoint, with its attempts (oldest first)."""

    endpoint_id: int
    message_id: str
    event_type: WebhookEventType
    payload: str
    created_at: datetime
    status: DeliveryStatus = DeliveryStatus.PENDING
    next_attempt_at: datetime | None = None
    attempt_count: int = 0
    # Filled when the delivery is listed; the worker loads none.
    attempts: list[DeliveryAttempt] = msgspec.field(default_factory=list)
    id: int | None = None

    def record(self, attempt: DeliveryAttempt, schedule: RetrySchedule, jitter: float) -> None:
        """Count `attempt`: delivered on a 2xx, else due again (or failed for good)."""
        self.attempt_count += 1
        self.attempts.append(attempt)
        if attempt.succeeded:
            self.status, self.next_attempt_at = DeliveryStatus.DELIVERED, None
            return
        self.next_attempt_at = schedule.next_attempt(
            self.attempt_count, self.created_at, attempt.at, jitter
        )
        if self.next_attempt_at is None:
            self.status = DeliveryStatus.FAILED


def new_message_id() -> str:
    return "msg_" + secrets.token_hex(16)

"""Webhook endpoints and deliveries as the API and the CLI show them (never the secret)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from smarter.application.webhooks import EndpointWithSecret
from smarter.domain.webhooks import (
    DeliveryAttempt,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
)


class WebhookEndpointView(msgspec.Struct, kw_only=True):
    id: int
    url: str
    event_types: list[WebhookEventType]
    description: str
    enabled: bool
    created_at: datetime | None


class WebhookEndpointWithSecretView(WebhookEndpointView, kw_only=True):
    # Shown once: sign-checks use it; the platform keeps it sealed.
    secret: str


class WebhookDeliveryView(msgspec.Struct, kw_only=True):
    id: int
    message_id: str  # the `webhook-id` header, the same on every attempt
    event_type: WebhookEventType
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: datetime | None
    created_at: datetime
    payload: dict[str, Any]
    attempts: list[DeliveryAttempt]


def endpoint_view(endpoint: WebhookEndpoint) -> WebhookEndpointView:
    assert endpoint.id is not None
    return WebhookEndpointView(
        id=endpoint.id,
        url=endpoint.url,
        event_types=list(endpoint.event_types),
        description=endpoint.description,
        enabled=endpoint.enabled,
        created_at=endpoint.created_at,
    )


def endpoint_with_secret_view(registered: EndpointWithSecret) -> WebhookEndpointWithSecretView:
    view = endpoint_view(registered.endpoint)
    return WebhookEndpointWithSecretView(**msgspec.structs.asdict(view), secret=registered.secret)


def delivery_view(delivery: WebhookDelivery) -> WebhookDeliveryView:
    assert delivery.id is not None
    payload: dict[str, Any] = msgspec.json.decode(delivery.payload)
    return WebhookDeliveryView(
        id=delivery.id,
        message_id=delivery.message_id,
        event_type=delivery.event_type,
        status=delivery.status,
        attempt_count=delivery.attempt_count,
        next_attempt_at=delivery.next_attempt_at,
        created_at=delivery.created_at,
        payload=payload,
        attempts=list(delivery.attempts),
    )

"""Webhook endpoints and their deliveries, as an account admin manages them.

The signing secret is made here, shown once in the registration's answer, and stored sealed by
the secret box: signing needs the secret itself, so it cannot be kept as a hash like tokens.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

import msgspec

from smarter.application.access import require_admin
from smarter.application.ports import Clock, UnitOfWork
from smarter.application.webhook_ports import (
    DeliveryFilter,
    SecretBox,
    WebhookPolicy,
    WebhookTransport,
)
from smarter.domain.accounts import Principal
from smarter.domain.errors import Conflict, InvalidValue
from smarter.domain.webhooks import (
    MAX_DESCRIPTION_LENGTH,
    MAX_ENDPOINTS_PER_ACCOUNT,
    MAX_URL_LENGTH,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
    new_signing_secret,
)

ACTION = "manage webhooks"


Url = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_URL_LENGTH)]
EventTypes = Annotated[
    tuple[WebhookEventType, ...], msgspec.Meta(min_length=1, max_length=len(WebhookEventType))
]
Description = Annotated[str, msgspec.Meta(max_length=MAX_DESCRIPTION_LENGTH)]


class NewWebhookEndpoint(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    url: Url
    event_types: EventTypes
    description: Description = ""


class WebhookEndpointChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Only the fields given change."""

    url: Url | None = None
    event_types: EventTypes | None = None
    description: Description | None = None
    enabled: bool | None = None


class EndpointWithSecret(msgspec.Struct, frozen=True, kw_only=True):
    endpoint: WebhookEndpoint
    secret: str  # the plaintext, shown this once


class _Destinations:
    """The URL rules that depend on the platform: https only, and no private address, unless
    the policy allows them (`local`, or a test's receiver on loopback)."""

    def __init__(self, transport: WebhookTransport, policy: WebhookPolicy) -> None:
        self._transport, self._policy = transport, policy

    async def check(self, url: str) -> None:
        if urlsplit(url).scheme != "https" and not self._policy.allow_private:
            raise InvalidValue("url", "webhook endpoints must use https://")
        await self._transport.check_destination(url)


class RegisterWebhookEndpoint:
    def __init__(
        self,
        uow: UnitOfWork,
        box: SecretBox,
        transport: WebhookTransport,
        policy: WebhookPolicy,
        clock: Clock,
    ) -> None:
        self._uow, self._box, self._clock = uow, box, clock
        self._destinations = _Destinations(transport, policy)

    async def __call__(self, principal: Principal, new: NewWebhookEndpoint) -> EndpointWithSecret:
        require_admin(principal, ACTION)
        endpoint = WebhookEndpoint(
            account_number=principal.account_number,
            url=new.url,
            event_types=new.event_types,
            description=new.description,
            created_at=self._clock.now(),
        )
        endpoints = await self._uow.webhooks.list(principal.account_number)
        if len(endpoints) >= MAX_ENDPOINTS_PER_ACCOUNT:
            raise Conflict(f"an account has at most {MAX_ENDPOINTS_PER_ACCOUNT} webhook endpoints")
        await self._destinations.check(endpoint.url)
        secret = new_signing_secret()
        endpoint.sealed_secret = self._box.seal(secret)
        endpoint = await self._uow.webhooks.add(endpoint)
        await self._uow.commit()
        return EndpointWithSecret(endpoint=endpoint, secret=secret)


class ListWebhookEndpoints:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal) -> list[WebhookEndpoint]:
        require_admin(principal, ACTION)
        return await self._uow.webhooks.list(principal.account_number)


class GetWebhookEndpoint:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal, endpoint_id: int) -> WebhookEndpoint:
        require_admin(principal, ACTION)
        return await self._uow.webhooks.get(principal.account_number, endpoint_id)


class UpdateWebhookEndpoint:
    def __init__(self, uow: UnitOfWork, transport: WebhookTransport, policy: WebhookPolicy) -> None:
        self._uow = uow
        self._destinations = _Destinations(transport, policy)

    async def __call__(
        self, principal: Principal, endpoint_id: int, changes: WebhookEndpointChanges
    ) -> WebhookEndpoint:
        require_admin(principal, ACTION)
        endpoint = await self._uow.webhooks.get(principal.account_number, endpoint_id)
        given = {k: v for k, v in msgspec.structs.asdict(changes).items() if v is not None}
        endpoint = msgspec.structs.replace(endpoint, **given)
        endpoint.__post_init__()  # replace() does not validate again
        if changes.url is not None:
            await self._destinations.check(endpoint.url)
        endpoint = await self._uow.webhooks.save(endpoint)
        await self._uow.commit()
        return endpoint


class RotateWebhookSecret:
    """A new signing secret (shown once); the old one stops signing at once."""

    def __init__(self, uow: UnitOfWork, box: SecretBox) -> None:
        self._uow, self._box = uow, box

    async def __call__(self, principal: Principal, endpoint_id: int) -> EndpointWithSecret:
        require_admin(principal, ACTION)
        endpoint = await self._uow.webhooks.get(principal.account_number, endpoint_id)
        secret = new_signing_secret()
        endpoint.sealed_secret = self._box.seal(secret)
        endpoint = await self._uow.webhooks.save(endpoint)
        await self._uow.commit()
        return EndpointWithSecret(endpoint=endpoint, secret=secret)


class DeleteWebhookEndpoint:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal, endpoint_id: int) -> None:
        require_admin(principal, ACTION)
        endpoint = await self._uow.webhooks.get(principal.account_number, endpoint_id)
        await self._uow.webhooks.delete(endpoint)
        await self._uow.commit()


class ListWebhookDeliveries:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(
        self, principal: Principal, endpoint_id: int, query: DeliveryFilter
    ) -> list[WebhookDelivery]:
        require_admin(principal, ACTION)
        endpoint = await self._uow.webhooks.get(principal.account_number, endpoint_id)
        assert endpoint.id is not None
        return await self._uow.webhooks.deliveries(endpoint.id, query)


class GetWebhookDelivery:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(
        self, principal: Principal, endpoint_id: int, delivery_id: int
    ) -> WebhookDelivery:
        require_admin(principal, ACTION)
        endpoint = await self._uow.webhooks.get(principal.account_number, endpoint_id)
        assert endpoint.id is not None
        return await self._uow.webhooks.delivery(endpoint.id, delivery_id)

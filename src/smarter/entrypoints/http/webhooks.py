"""`/api/v1/webhooks/`: an account's webhook endpoints and their deliveries (admins only).

The signing secret is in the answer of the registration and of a rotation, and nowhere else.
"""

from __future__ import annotations

from typing import Annotated

from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter

from smarter.application.webhook_ports import MAX_DELIVERIES_PAGE, MAX_OFFSET, DeliveryFilter
from smarter.application.webhook_views import (
    WebhookDeliveryView,
    WebhookEndpointView,
    WebhookEndpointWithSecretView,
    delivery_view,
    endpoint_view,
    endpoint_with_secret_view,
)
from smarter.application.webhooks import (
    DeleteWebhookEndpoint,
    GetWebhookDelivery,
    GetWebhookEndpoint,
    ListWebhookDeliveries,
    ListWebhookEndpoints,
    NewWebhookEndpoint,
    RegisterWebhookEndpoint,
    RotateWebhookSecret,
    UpdateWebhookEndpoint,
    WebhookEndpointChanges,
)
from smarter.domain.accounts import Principal
from smarter.domain.webhooks import DeliveryStatus
from smarter.entrypoints.http.errors import error_responses
from smarter.entrypoints.http.params import ObjectId, exact_bounds

Limit = Annotated[int, QueryParameter(ge=1, le=MAX_DELIVERIES_PAGE, description="Items per page")]
Offset = Annotated[
    int,
    QueryParameter(
        ge=0, le=MAX_OFFSET, description="Items to skip", schema_extra=exact_bounds(0, MAX_OFFSET)
    ),
]


class WebhooksController(Controller):
    path = "/api/v1/webhooks"
    tags = ["webhooks"]

    @get("/", summary="The account's webhook endpoints", responses=error_responses(401, 403))
    @inject
    async def list_endpoints(
        self,
        principal: NamedDependency[Principal],
        list_endpoints: FromDishka[ListWebhookEndpoints],
    ) -> list[WebhookEndpointView]:
        return [endpoint_view(e) for e in await list_endpoints(principal)]

    @post(
        "/",
        summary="Register an endpoint; the answer holds its signing secret, shown this once",
        responses=error_responses(400, 401, 403, 409, 413, 422, 503),
    )
    @inject
    async def register_endpoint(
        self,
        principal: NamedDependency[Principal],
        data: JSONBody[NewWebhookEndpoint],
        register: FromDishka[RegisterWebhookEndpoint],
    ) -> WebhookEndpointWithSecretView:
        return endpoint_with_secret_view(await register(principal, data))

    @get(
        "/{endpoint_id:str}/", summary="One endpoint", responses=error_responses(400, 401, 403, 404)
    )
    @inject
    async def get_endpoint(
        self,
        principal: NamedDependency[Principal],
        endpoint_id: ObjectId,
        get_endpoint: FromDishka[GetWebhookEndpoint],
    ) -> WebhookEndpointView:
        return endpoint_view(await get_endpoint(principal, endpoint_id))

    @patch(
        "/{endpoint_id:str}/",
        summary="Change an endpoint's URL, events, description or enabled flag",
        responses=error_responses(400, 401, 403, 404, 413, 422),
    )
    @inject
    async def update_endpoint(
        self,
        principal: NamedDependency[Principal],
        endpoint_id: ObjectId,
        data: JSONBody[WebhookEndpointChanges],
        update: FromDishka[UpdateWebhookEndpoint],
    ) -> WebhookEndpointView:
        return endpoint_view(await update(principal, endpoint_id, data))

    @delete(
        "/{endpoint_id:str}/",
        summary="Delete an endpoint and its deliveries",
        responses=error_responses(400, 401, 403, 404),
    )
    @inject
    async def delete_endpoint(
        self,
        principal: NamedDependency[Principal],
        endpoint_id: ObjectId,
        delete_endpoint: FromDishka[DeleteWebhookEndpoint],
    ) -> None:
        await delete_endpoint(principal, endpoint_id)

    @post(
        "/{endpoint_id:str}/rotate-secret/",
        status_code=200,
        summary="A new signing secret, shown this once; the old one stops signing now",
        responses=error_responses(400, 401, 403, 404, 503),
    )
    @inject
    async def rotate_secret(
        self,
        principal: NamedDependency[Principal],
        endpoint_id: ObjectId,
        rotate: FromDishka[RotateWebhookSecret],
    ) -> WebhookEndpointWithSecretView:
        return endpoint_with_secret_view(await rotate(principal, endpoint_id))

    @get(
        "/{endpoint_id:str}/deliveries/",
        summary="An endpoint's deliveries, newest first, with every attempt and response code",
        responses=error_responses(400, 401, 403, 404),
    )
    @inject
    async def list_deliveries(
        self,
        principal: NamedDependency[Principal],
        endpoint_id: ObjectId,
        list_deliveries: FromDishka[ListWebhookDeliveries],
        status: DeliveryStatus | None = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> list[WebhookDeliveryView]:
        query = DeliveryFilter(status=status, limit=limit, offset=offset)
        return [delivery_view(d) for d in await list_deliveries(principal, endpoint_id, query)]

    @get(
        "/{endpoint_id:str}/deliveries/{delivery_id:str}/",
        summary="One delivery with its attempts",
        responses=error_responses(400, 401, 403, 404),
    )
    @inject
    async def get_delivery(
        self,
        principal: NamedDependency[Principal],
        endpoint_id: ObjectId,
        delivery_id: ObjectId,
        get_delivery: FromDishka[GetWebhookDelivery],
    ) -> WebhookDeliveryView:
        return delivery_view(await get_delivery(principal, endpoint_id, delivery_id))

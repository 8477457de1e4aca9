"""`/api/v1/llm-clients/`: CRUD, clone, deploy, undeploy, status and the custom domain."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter

from smarter.application.llm_clients import (
    AttachCustomDomain,
    CloneLLMClient,
    CreateLLMClient,
    DeleteLLMClient,
    DeployLLMClient,
    GetClientStatus,
    GetLLMClient,
    ListLLMClients,
    UndeployLLMClient,
    UpdateLLMClient,
)
from smarter.application.ports import MAX_PAGE_SIZE, ClientFilter
from smarter.application.views import LLMClientView, StatusView, client_view, status_view
from smarter.domain.accounts import Principal
from smarter.domain.llm_client import LLMClientSpec
from smarter.entrypoints.http.errors import error_responses
from smarter.entrypoints.http.openapi_schema import OptionalBodyOperation
from smarter.entrypoints.http.params import MAX_ID, BodyId, ObjectId, exact_bounds


class LLMClientPage(msgspec.Struct, kw_only=True):
    items: list[LLMClientView]
    total: int
    offset: int
    limit: int


class CloneRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: str | None = None
    version: str | None = None


class CustomDomainChoice(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The account's custom domain to serve the client under, or null for none."""

    custom_domain_id: BodyId | None


def _patch_struct() -> type[msgspec.Struct]:
    """Every field of LLMClientSpec, optional: a PATCH names only what it changes."""
    fields = [
        (f.name, f.type | msgspec.UnsetType, msgspec.UNSET)
        for f in msgspec.structs.fields(LLMClientSpec)
    ]
    return msgspec.defstruct("LLMClientPatch", fields, kw_only=True, forbid_unknown_fields=True)


if TYPE_CHECKING:
    LLMClientPatch = msgspec.Struct
else:
    LLMClientPatch = _patch_struct()


def changes_of(patch: msgspec.Struct) -> dict[str, Any]:
    return {
        name: value
        for name in patch.__struct_fields__
        if (value := getattr(patch, name)) is not msgspec.UNSET
    }


Offset = Annotated[
    int,
    QueryParameter(
        ge=0, le=MAX_ID, description="Items to skip", schema_extra=exact_bounds(0, MAX_ID)
    ),
]
Limit = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE, description="Items per page")]


class LLMClientsController(Controller):
    path = "/api/v1/llm-clients"
    tags = ["llm-clients"]

    @get(
        "/",
        summary="List LLMClients (admins: the account's; others: their own)",
        responses=error_responses(400, 401),
    )
    @inject
    async def list_clients(
        self,
        principal: NamedDependency[Principal],
        list_clients: FromDishka[ListLLMClients],
        offset: Offset = 0,
        limit: Limit = 50,
        name: Annotated[
            str | None, QueryParameter(max_length=128, description="Part of the name")
        ] = None,
        deployed: Annotated[bool | None, QueryParameter(description="Only (un)deployed")] = None,
        tag: Annotated[
            str | None, QueryParameter(max_length=64, description="Has this tag")
        ] = None,
    ) -> LLMClientPage:
        query = ClientFilter(
            name_contains=name, deployed=deployed, tag=tag, offset=offset, limit=limit
        )
        page = await list_clients(principal, query)
        return LLMClientPage(
            items=[client_view(client) for client in page.items],
            total=page.total,
            offset=page.offset,
            limit=page.limit,
        )

    @post("/", summary="Create an LLMClient", responses=error_responses(400, 401, 409, 413, 422))
    @inject
    async def create_client(
        self,
        principal: NamedDependency[Principal],
        data: JSONBody[LLMClientSpec],
        create: FromDishka[CreateLLMClient],
    ) -> LLMClientView:
        return client_view(await create(principal, data))

    @get("/{client_id:str}/", summary="Read an LLMClient", responses=error_responses(400, 401, 404))
    @inject
    async def get_client(
        self,
        principal: NamedDependency[Principal],
        client_id: ObjectId,
        get_client: FromDishka[GetLLMClient],
    ) -> LLMClientView:
        return client_view(await get_client(principal, client_id))

    @patch(
        "/{client_id:str}/",
        summary="Change some of an LLMClient's settings",
        responses=error_responses(400, 401, 404, 409, 413, 422),
    )
    @inject
    async def update_client(
        self,
        principal: NamedDependency[Principal],
        client_id: ObjectId,
        data: JSONBody[LLMClientPatch],
        update: FromDishka[UpdateLLMClient],
    ) -> LLMClientView:
        return client_view(await update(principal, client_id, changes_of(data)))

    @delete(
        "/{client_id:str}/",
        summary="Delete an undeployed LLMClient",
        responses=error_responses(400, 401, 404, 409),
    )
    @inject
    async def delete_client(
        self,
        principal: NamedDependency[Principal],
        client_id: ObjectId,
        delete_client: FromDishka[DeleteLLMClient],
    ) -> None:
        await delete_client(principal, client_id)

    @post(
        "/{client_id:str}/clone/",
        summary="Copy an LLMClient under a new name (default `<name>-copy`), not deployed",
        responses=error_responses(400, 401, 404, 409, 413, 422),
        operation_class=OptionalBodyOperation,
    )
    @inject
    async def clone_client(
        self,
        principal: NamedDependency[Principal],
        client_id: ObjectId,
        clone: FromDishka[CloneLLMClient],
        data: JSONBody[CloneRequest | None] = None,
    ) -> LLMClientView:
        request = data or CloneRequest()
        return client_view(await clone(principal, client_id, request.name, request.version))

    @post(
        "/{client_id:str}/deploy/",
        status_code=202,
        summary="Ask for the LLMClient to be deployed; the worker provisions it",
        responses=error_responses(400, 401, 404, 409, 413),
    )
    @inject
    async def deploy_client(
        self,
        principal: NamedDependency[Principal],
        client_id: ObjectId,
        deploy: FromDishka[DeployLLMClient],
    ) -> LLMClientView:
        return client_view(await deploy(principal, client_id))

    @post(
        "/{client_id:str}/undeploy/",
        status_code=202,
        summary="Ask for the LLMClient to be undeployed; the worker tears it down",
        responses=error_responses(400, 401, 404, 409, 413),
    )
    @inject
    async def undeploy_client(
        self,
        principal: NamedDependency[Principal],
        client_id: ObjectId,
        undeploy: FromDishka[UndeployLLMClient],
    ) -> LLMClientView:
        return client_view(await undeploy(principal, client_id))

    @get(
        "/{client_id:str}/status/",
        summary="Statuses, URLs of every mode, readiness and the event timeline",
        responses=error_responses(400, 401, 404),
    )
    @inject
    async def client_status(
        self,
        principal: NamedDependency[Principal],
        client_id: ObjectId,
        get_status: FromDishka[GetClientStatus],
    ) -> StatusView:
        status = await get_status(principal, client_id)
        return status_view(status.client, status.events)

    @put(
        "/{client_id:str}/custom-domain/",
        summary="Serve the LLMClient under one of the account's custom domains, or none",
        responses=error_responses(400, 401, 404, 409, 413),
    )
    @inject
    async def attach_custom_domain(
        self,
        principal: NamedDependency[Principal],
        client_id: ObjectId,
        data: JSONBody[CustomDomainChoice],
        attach: FromDishka[AttachCustomDomain],
    ) -> LLMClientView:
        return client_view(await attach(principal, client_id, data.custom_domain_id))

"""`/api/v1/custom-hostnames/`: point one hostname at a client by CNAME; the records to set,
and what the last check found."""

from __future__ import annotations

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from smarter.application.custom_hostnames import (
    CustomHostnameView,
    DeleteCustomHostname,
    GetCustomHostname,
    HostnameSetup,
    ListCustomHostnames,
    RegisterCustomHostname,
    RequestHostnameVerification,
    custom_hostname_view,
)
from smarter.domain.accounts import Principal
from smarter.entrypoints.http.errors import error_responses
from smarter.entrypoints.http.params import ObjectId


class NewCustomHostname(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    hostname: str
    llm_client_id: int


class CustomHostnamesController(Controller):
    path = "/api/v1/custom-hostnames"
    tags = ["custom-hostnames"]

    @get("/", summary="List the account's custom hostnames", responses=error_responses(401))
    @inject
    async def list_hostnames(
        self,
        principal: NamedDependency[Principal],
        list_hostnames: FromDishka[ListCustomHostnames],
        setup: FromDishka[HostnameSetup],
    ) -> list[CustomHostnameView]:
        return [custom_hostname_view(h, setup) for h in await list_hostnames(principal)]

    @post(
        "/",
        summary="Point a hostname at an LLMClient; answers the records to set",
        responses=error_responses(400, 401, 404, 409, 413, 422),
    )
    @inject
    async def register_hostname(
        self,
        principal: NamedDependency[Principal],
        data: JSONBody[NewCustomHostname],
        register: FromDishka[RegisterCustomHostname],
        setup: FromDishka[HostnameSetup],
    ) -> CustomHostnameView:
        hostname = await register(principal, data.hostname, data.llm_client_id)
        return custom_hostname_view(hostname, setup)

    @get(
        "/{hostname_id:str}/",
        summary="A custom hostname, the records to set and what the last check found",
        responses=error_responses(400, 401, 404),
    )
    @inject
    async def get_hostname(
        self,
        principal: NamedDependency[Principal],
        hostname_id: ObjectId,
        get_hostname: FromDishka[GetCustomHostname],
        setup: FromDishka[HostnameSetup],
    ) -> CustomHostnameView:
        return custom_hostname_view(await get_hostname(principal, hostname_id), setup)

    @delete(
        "/{hostname_id:str}/",
        summary="Stop serving the LLMClient on this hostname",
        responses=error_responses(400, 401, 404),
    )
    @inject
    async def delete_hostname(
        self,
        principal: NamedDependency[Principal],
        hostname_id: ObjectId,
        delete_hostname: FromDishka[DeleteCustomHostname],
    ) -> None:
        await delete_hostname(principal, hostname_id)

    @post(
        "/{hostname_id:str}/verify/",
        status_code=202,
        summary="Check the hostname's records again now",
        responses=error_responses(400, 401, 404, 413),
    )
    @inject
    async def verify_hostname(
        self,
        principal: NamedDependency[Principal],
        hostname_id: ObjectId,
        verify: FromDishka[RequestHostnameVerification],
        setup: FromDishka[HostnameSetup],
    ) -> CustomHostnameView:
        return custom_hostname_view(await verify(principal, hostname_id), setup)

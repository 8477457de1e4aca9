"""`/api/v1/custom-domains/`: register, list, read, verify and delete (admins change them)."""

from __future__ import annotations

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from smarter.application.custom_domains import (
    DeleteCustomDomain,
    GetCustomDomain,
    ListCustomDomains,
    RegisterCustomDomain,
    RequestDomainVerification,
)
from smarter.application.views import CustomDomainView, custom_domain_view
from smarter.domain.accounts import Principal
from smarter.entrypoints.http.errors import error_responses
from smarter.entrypoints.http.params import ObjectId


class NewCustomDomain(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    domain_name: str


class CustomDomainsController(Controller):
    path = "/api/v1/custom-domains"
    tags = ["custom-domains"]

    @get("/", summary="List the account's custom domains", responses=error_responses(401))
    @inject
    async def list_domains(
        self, principal: NamedDependency[Principal], list_domains: FromDishka[ListCustomDomains]
    ) -> list[CustomDomainView]:
        return [custom_domain_view(domain) for domain in await list_domains(principal)]

    @post(
        "/",
        summary="Register a custom domain (admins only); the worker creates its zone",
        responses=error_responses(400, 401, 403, 409, 413, 422),
    )
    @inject
    async def register_domain(
        self,
        principal: NamedDependency[Principal],
        data: JSONBody[NewCustomDomain],
        register: FromDishka[RegisterCustomDomain],
    ) -> CustomDomainView:
        return custom_domain_view(await register(principal, data.domain_name))

    @get(
        "/{domain_id:str}/",
        summary="A custom domain, the NS records to set and what the last check found",
        responses=error_responses(400, 401, 404),
    )
    @inject
    async def get_domain(
        self,
        principal: NamedDependency[Principal],
        domain_id: ObjectId,
        get_domain: FromDishka[GetCustomDomain],
    ) -> CustomDomainView:
        return custom_domain_view(await get_domain(principal, domain_id))

    @delete(
        "/{domain_id:str}/",
        summary="Delete a custom domain that no LLMClient uses (admins only)",
        responses=error_responses(400, 401, 403, 404, 409),
    )
    @inject
    async def delete_domain(
        self,
        principal: NamedDependency[Principal],
        domain_id: ObjectId,
        delete_domain: FromDishka[DeleteCustomDomain],
    ) -> None:
        await delete_domain(principal, domain_id)

    @post(
        "/{domain_id:str}/verify/",
        status_code=202,
        summary="Check the domain's delegation again now (admins only)",
        responses=error_responses(400, 401, 403, 404, 413),
    )
    @inject
    async def verify_domain(
        self,
        principal: NamedDependency[Principal],
        domain_id: ObjectId,
        verify: FromDishka[RequestDomainVerification],
    ) -> CustomDomainView:
        return custom_domain_view(await verify(principal, domain_id))

"""Custom domains: register, the records to set at the registrar, check now, delete."""

from __future__ import annotations

from typing import Annotated, Any

from dishka.integrations.litestar import FromDishka, inject
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from smarter.application.custom_domains import (
    DeleteCustomDomain,
    GetCustomDomain,
    ListCustomDomains,
    RegisterCustomDomain,
    RequestDomainVerification,
)
from smarter.application.domain_verifier import marker_value
from smarter.application.views import custom_domain_view
from smarter.domain.accounts import Principal
from smarter.domain.custom_domain import CustomDomain
from smarter.domain.errors import Conflict, InvalidValue
from smarter.entrypoints.console.pages import go, render

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _domain_context(domain: CustomDomain) -> dict[str, Any]:
    return {"domain": custom_domain_view(domain), "marker_value": marker_value(domain)}


@get("/domains", include_in_schema=False)
@inject
async def domains_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    list_domains: FromDishka[ListCustomDomains],
) -> Template:
    domains = [custom_domain_view(d) for d in await list_domains(principal)]
    return render(request, "domains.html", domains=domains, error=None, value="")


@post("/domains", include_in_schema=False)
@inject
async def register_domain(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    data: Form,
    register: FromDishka[RegisterCustomDomain],
    list_domains: FromDishka[ListCustomDomains],
) -> Response[Any]:
    value = data.get("domain_name", "").strip()[:253]
    try:
        domain = await register(principal, value)
        return go(f"/domains/{domain.id}", "registered")
    except (InvalidValue, Conflict) as error:
        message = error.reason if isinstance(error, InvalidValue) else error.message
    domains = [custom_domain_view(d) for d in await list_domains(principal)]
    return render(request, "domains.html", 422, domains=domains, error=message, value=value)


@get("/domains/{domain_id:int}", include_in_schema=False)
@inject
async def domain_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    domain_id: FromPath[int],
    get_domain: FromDishka[GetCustomDomain],
) -> Template:
    domain = await get_domain(principal, domain_id)
    return render(request, "domain.html", **_domain_context(domain))


@get("/domains/{domain_id:int}/records", include_in_schema=False)
@inject
async def domain_records(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    domain_id: FromPath[int],
    get_domain: FromDishka[GetCustomDomain],
) -> Template:
    """The records and the last check alone (polled while the domain is not verified)."""
    domain = await get_domain(principal, domain_id)
    return render(request, "_domain_records.html", **_domain_context(domain))


@post("/domains/{domain_id:int}/check", include_in_schema=False)
@inject
async def check_domain(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    domain_id: FromPath[int],
    verify: FromDishka[RequestDomainVerification],
) -> Response[Any]:
    domain = await verify(principal, domain_id)
    if request.headers.get("hx-request"):
        return render(request, "_domain_records.html", checking=True, **_domain_context(domain))
    return go(f"/domains/{domain_id}", "checking")


@post("/domains/{domain_id:int}/delete", include_in_schema=False)
@inject
async def delete_domain(
    principal: NamedDependency[Principal],
    domain_id: FromPath[int],
    delete: FromDishka[DeleteCustomDomain],
) -> Response[Any]:
    await delete(principal, domain_id)
    return go("/domains", "domain-deleted")


ROUTES = [domains_page, register_domain, domain_page, domain_records, check_domain, delete_domain]

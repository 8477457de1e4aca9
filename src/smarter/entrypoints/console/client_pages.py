"""The clients list, creating a client (form or manifest), a client's overview and actions."""

from __future__ import annotations

from typing import Annotated, Any

from dishka.integrations.litestar import FromDishka, inject
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from smarter.application.llm_clients import (
    CloneLLMClient,
    CreateLLMClient,
    DeleteLLMClient,
    DeployLLMClient,
    GetClientStatus,
    ListLLMClients,
    UndeployLLMClient,
)
from smarter.application.manifests import ApplyManifest, GetManifest
from smarter.application.ports import ClientFilter
from smarter.application.views import client_view, status_view
from smarter.domain.accounts import Principal
from smarter.domain.errors import Conflict, InvalidValue
from smarter.domain.llm_client import LLMClient, LLMClientSpec
from smarter.domain.status import DnsVerificationStatus, TlsCertificateIssuanceStatus
from smarter.entrypoints.console.client_form import (
    SECTIONS,
    changes_from,
    form_values,
    new_spec,
)
from smarter.entrypoints.console.pages import go, render
from smarter.entrypoints.http.nul_characters import refuse_nul
from smarter.entrypoints.manifest_yaml import dump_manifest, load_manifest

PAGE_SIZE = 20
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
Upload = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


def in_progress(client: LLMClient) -> bool:
    """A deploy or undeploy the worker is still carrying out (the timeline keeps polling)."""
    failed = (
        client.dns_verification_status is DnsVerificationStatus.FAILED
        or client.tls_certificate_issuance_status is TlsCertificateIssuanceStatus.FAILED
    )
    if client.deployed:
        return not client.ready and not failed
    return (
        client.dns_verification_status is not DnsVerificationStatus.NOT_VERIFIED
        or client.tls_certificate_issuance_status is not TlsCertificateIssuanceStatus.NO_CERTIFICATE
    )


@get("/clients", include_in_schema=False)
@inject
async def clients_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    list_clients: FromDishka[ListLLMClients],
    q: str = "",
    deployed: str = "",
    tag: str = "",
    page: int = 1,
) -> Template:
    page = min(max(page, 1), 10_000)
    query = ClientFilter(
        name_contains=q.strip()[:128] or None,
        deployed={"yes": True, "no": False}.get(deployed),
        tag=tag.strip()[:64] or None,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    found = await list_clients(principal, query)
    pages = max(1, -(-found.total // PAGE_SIZE))
    filters = {"q": q, "deployed": deployed, "tag": tag}
    context: dict[str, Any] = {
        "clients": [client_view(c) for c in found.items],
        "total": found.total,
        "page": page,
        "pages": pages,
        "filters": filters,
        "filtered": any(filters.values()),
    }
    if request.headers.get("hx-request") and request.headers.get("hx-target") == "client-list":
        return render(request, "_client_list.html", **context)
    return render(request, "clients.html", **context)


@get("/clients/new", include_in_schema=False)
async def new_client_page(request: Request[Any, Any, Any]) -> Template:
    values = form_values(LLMClientSpec(name="my-client", provider="echo", default_model="echo"))
    values["name"] = ""
    return render(request, "client_new.html", sections=SECTIONS, values=values, errors={})


@post("/clients/new", include_in_schema=False)
@inject
async def create_client(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    data: Form,
    create: FromDishka[CreateLLMClient],
) -> Response[Any]:
    changes, unreadable = changes_from(data)
    spec, problems = new_spec(changes)
    errors = {**problems, **unreadable}
    if spec is not None and not errors:
        try:
            client = await create(principal, spec)
            return go(f"/clients/{client.id}", "created")
        except Conflict as error:
            errors["name"] = error.message
    values = {**data}
    return render(request, "client_new.html", 422, sections=SECTIONS, values=values, errors=errors)


@post("/clients/upload", include_in_schema=False)
@inject
async def upload_manifest(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    data: Upload,
    apply: FromDishka[ApplyManifest],
) -> Response[Any]:
    upload = data.get("file")
    text = str(data.get("manifest") or "")
    problem = ""
    if isinstance(upload, UploadFile) and upload.filename:
        try:
            text = (await upload.read()).decode("utf-8")
        except UnicodeDecodeError:
            problem = "the file is not UTF-8 text"
    if not problem and not text.strip():
        problem = "choose a manifest file, or paste one"
    if not problem:
        try:
            manifest = load_manifest(text)
            refuse_nul(manifest)
            applied = await apply(principal, manifest)
            done = "created" if applied.created else "saved"
            return go(f"/clients/{applied.client.id}", done)
        except (InvalidValue, Conflict) as error:
            problem = error.message
    values = form_values(LLMClientSpec(name="my-client", provider="echo", default_model="echo"))
    values["name"] = ""
    return render(
        request,
        "client_new.html",
        422,
        sections=SECTIONS,
        values=values,
        errors={},
        manifest=text[:100_000],
        manifest_error=problem,
    )


@get("/clients/{client_id:int}", include_in_schema=False)
@inject
async def client_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    client_id: FromPath[int],
    get_status: FromDishka[GetClientStatus],
) -> Template:
    status = await get_status(principal, client_id)
    return render(
        request,
        "client.html",
        client=client_view(status.client),
        status=status_view(status.client, list(reversed(status.events))),
        polling=in_progress(status.client),
        tab="overview",
    )


@get("/clients/{client_id:int}/status", include_in_schema=False)
@inject
async def status_fragment(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    client_id: FromPath[int],
    get_status: FromDishka[GetClientStatus],
) -> Template:
    """The timeline alone: polled every second while a deploy or undeploy runs."""
    status = await get_status(principal, client_id)
    return render(
        request,
        "_status.html",
        client=client_view(status.client),
        status=status_view(status.client, list(reversed(status.events))),
        polling=in_progress(status.client),
        oob=True,  # the badges in the page's head follow the statuses too
    )


@post("/clients/{client_id:int}/deploy", include_in_schema=False)
@inject
async def deploy(
    principal: NamedDependency[Principal],
    client_id: FromPath[int],
    deploy: FromDishka[DeployLLMClient],
) -> Response[Any]:
    await deploy(principal, client_id)
    return go(f"/clients/{client_id}", "deploying")


@post("/clients/{client_id:int}/undeploy", include_in_schema=False)
@inject
async def undeploy(
    principal: NamedDependency[Principal],
    client_id: FromPath[int],
    undeploy: FromDishka[UndeployLLMClient],
) -> Response[Any]:
    await undeploy(principal, client_id)
    return go(f"/clients/{client_id}", "undeploying")


@post("/clients/{client_id:int}/clone", include_in_schema=False)
@inject
async def clone(
    principal: NamedDependency[Principal],
    client_id: FromPath[int],
    data: Form,
    clone: FromDishka[CloneLLMClient],
) -> Response[Any]:
    name = data.get("name", "").strip() or None
    copy = await clone(principal, client_id, name)
    return go(f"/clients/{copy.id}", "cloned")


@post("/clients/{client_id:int}/delete", include_in_schema=False)
@inject
async def delete(
    principal: NamedDependency[Principal],
    client_id: FromPath[int],
    delete: FromDishka[DeleteLLMClient],
) -> Response[Any]:
    await delete(principal, client_id)
    return go("/clients", "deleted")


@get("/clients/{client_id:int}/manifest", include_in_schema=False)
@inject
async def manifest_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    client_id: FromPath[int],
    get_status: FromDishka[GetClientStatus],
    get_manifest: FromDishka[GetManifest],
) -> Template:
    status = await get_status(principal, client_id)
    text = dump_manifest(await get_manifest(principal, client_id))
    return render(
        request,
        "client_manifest.html",
        client=client_view(status.client),
        manifest=text,
        tab="manifest",
    )


@get("/clients/{client_id:int}/manifest.yaml", include_in_schema=False)
@inject
async def manifest_download(
    principal: NamedDependency[Principal],
    client_id: FromPath[int],
    get_manifest: FromDishka[GetManifest],
) -> Response[str]:
    manifest = await get_manifest(principal, client_id)
    name = manifest["metadata"]["name"]
    return Response(
        dump_manifest(manifest),
        media_type="application/yaml",
        headers={
            "Content-Disposition": f'attachment; filename="{name}.yaml"',
            "X-Content-Type-Options": "nosniff",
        },
    )


ROUTES = [
    clients_page,
    new_client_page,
    create_client,
    upload_manifest,
    client_page,
    status_fragment,
    deploy,
    undeploy,
    clone,
    delete,
    manifest_page,
    manifest_download,
]

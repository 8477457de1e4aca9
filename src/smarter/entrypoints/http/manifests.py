"""`/api/v1/manifests/`: apply an `apiVersion: smarter.sh/v1`, `kind: LLMClient` document, or
read a client back as one.

The body of an apply is YAML (`application/yaml`, `text/yaml`, `application/x-yaml`,
`text/plain`, or no content type) or JSON (`application/json`). A body that is not a document
at all (malformed YAML or JSON, anchors, not a mapping) is 400; a document that breaks the
manifest's rules (apiVersion, kind, unknown or invalid fields) is 422 naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)
from litestar.params import QueryParameter

from smarter.application.manifests import API_VERSION, KIND, ApplyManifest, GetManifest
from smarter.application.views import LLMClientView, client_view
from smarter.domain.accounts import Principal
from smarter.domain.errors import InvalidValue
from smarter.entrypoints.http.errors import BadRequest, error_responses
from smarter.entrypoints.http.nul_characters import refuse_nul
from smarter.entrypoints.http.params import ObjectId
from smarter.entrypoints.manifest_yaml import dump_manifest, load_manifest, plain_manifest

YAML_MEDIA_TYPE = "application/yaml"
YAML_TYPES = frozenset(
    {"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain", ""}
)
JSON_TYPES = frozenset({"application/json"})

_EXAMPLE = {
    "apiVersion": API_VERSION,
    "kind": KIND,
    "metadata": {"name": "example", "version": "1.0.0"},
    "spec": {"default_model": "gpt-4o-mini", "app_name": "Example"},
}


_MANIFEST_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    required=["apiVersion", "kind", "metadata", "spec"],
    description="An LLMClient manifest",
)


_MANIFEST_IN = Schema(
    type=OpenAPIType.OBJECT,
    required=["apiVersion", "kind", "metadata"],
    properties={
        "apiVersion": Schema(type=OpenAPIType.STRING, description=f"`{API_VERSION}`"),
        "kind": Schema(type=OpenAPIType.STRING, description=f"`{KIND}`"),
        "metadata": Schema(type=OpenAPIType.OBJECT, required=["name"]),
        "spec": Schema(type=[OpenAPIType.OBJECT, OpenAPIType.NULL], description="null: none"),
        "status": Schema(description="Ignored, whatever it holds (a read manifest has one)"),
    },
    additional_properties=False,
    description="An LLMClient manifest (a YAML or JSON mapping)",
)


@dataclass
class _ApplyOperation(Operation):
    """The apply route reads its body itself; this documents what it accepts."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            description="An LLMClient manifest, as YAML or JSON",
            content={
                YAML_MEDIA_TYPE: OpenAPIMediaType(schema=_MANIFEST_IN, example=_EXAMPLE),
                "application/json": OpenAPIMediaType(schema=_MANIFEST_IN),
            },
        )


@dataclass
class _ManifestOperation(Operation):
    """The manifest is a YAML or a JSON document (?format=json): an object either way."""

    def __post_init__(self) -> None:
        answer = (self.responses or {}).get("200")
        if isinstance(answer, OpenAPIResponse):
            answer.content = {
                YAML_MEDIA_TYPE: OpenAPIMediaType(schema=_MANIFEST_SCHEMA),
                "application/json": OpenAPIMediaType(schema=_MANIFEST_SCHEMA),
            }


def parse_manifest(body: bytes, content_type: str) -> dict[str, Any]:
    """The manifest mapping in a request body; BadRequest when it is not a document."""
    media_type = content_type.split(";")[0].strip().lower()
    is_json = media_type in JSON_TYPES or media_type.endswith("+json")
    if not is_json and media_type not in YAML_TYPES:
        raise BadRequest(f"content type '{media_type}' is not YAML or JSON", status_code=415)
    if not body.strip():
        raise BadRequest("a manifest is required in the request body")
    try:
        if not is_json:
            return load_manifest(body.decode("utf-8"))
        document = msgspec.json.decode(body)
    except UnicodeDecodeError:
        raise BadRequest("the manifest is not UTF-8 text") from None
    except InvalidValue as error:
        raise BadRequest(error.message) from None
    except (msgspec.DecodeError, RecursionError) as error:
        raise BadRequest(f"manifest: is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise BadRequest("manifest: must be a JSON object (apiVersion, kind, ...)")
    return document


class ManifestsController(Controller):
    path = "/api/v1/manifests"
    tags = ["manifests"]

    @post(
        "/",
        summary="Apply a manifest: create the LLMClient it names (201) or update it (200)",
        operation_class=_ApplyOperation,
        responses={
            200: ResponseSpec(LLMClientView, description="Updated the LLMClient it names"),
            **error_responses(400, 401, 409, 413, 415, 422),
        },
    )
    @inject
    async def apply_manifest(
        self,
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
        apply: FromDishka[ApplyManifest],
    ) -> Response[LLMClientView]:
        body = await request.body()
        manifest = parse_manifest(body, request.headers.get("content-type", ""))
        refuse_nul(manifest)
        applied = await apply(principal, manifest)
        return Response(client_view(applied.client), status_code=201 if applied.created else 200)

    @get(
        "/{client_id:str}/",
        summary="An LLMClient as a manifest: YAML, or JSON with ?format=json",
        media_type=YAML_MEDIA_TYPE,
        responses=error_responses(400, 401, 404),
        operation_class=_ManifestOperation,
    )
    @inject
    async def get_manifest(
        self,
        principal: NamedDependency[Principal],
        client_id: ObjectId,
        get_manifest: FromDishka[GetManifest],
        format: Annotated[  # the query parameter's public name
            Literal["yaml", "json"], QueryParameter(description="yaml (default) or json")
        ] = "yaml",
    ) -> Response[str]:
        manifest = await get_manifest(principal, client_id)
        if format == "json":
            text = msgspec.json.encode(plain_manifest(manifest)).decode()
            return Response(text, media_type=MediaType.JSON)
        return Response(dump_manifest(manifest), media_type=YAML_MEDIA_TYPE)

"""The OpenAPI schema documents every route; the interactive docs page is served."""

from __future__ import annotations

import re

from litestar import Litestar

from smarter.entrypoints.http.app import create_app
from smarter.entrypoints.settings import Settings
from tests.integration.http.conftest import Api

DOCS = "/api/docs"


def documented_routes(app: Litestar) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves, outside the docs themselves and the
    HTML pages (the chat page's workbench and assets say `include_in_schema=False`)."""
    routes = set()
    for route in app.routes:
        if route.path.startswith(DOCS):
            continue
        handlers = getattr(route, "route_handlers", ())
        if handlers and not any(h.resolve_include_in_schema() for h in handlers):
            continue
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path).rstrip("/") or "/"
        for method in getattr(route, "methods", ()):
            if method not in ("HEAD", "OPTIONS"):
                routes.add((method.lower(), path))
    return routes


async def test_the_schema_lists_every_route_with_a_summary_and_a_tag(
    api: Api, settings: Settings, container: object
) -> None:
    response = await api.client.get(f"{DOCS}/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    operations = {
        (method, path): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    }
    app = create_app(settings, container)  # type: ignore[arg-type]
    assert set(operations) == documented_routes(app)
    assert len(operations) >= 28
    for key, operation in operations.items():
        assert operation.get("summary"), key
        assert operation.get("tags"), key


async def test_console_routes_declare_token_security_and_json_errors(api: Api) -> None:
    schema = (await api.client.get(f"{DOCS}/openapi.json")).json()

    assert schema["components"]["securitySchemes"]["token"]["name"] == "Authorization"
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            public = path in ("/healthz", "/readyz", "/api/v1/hosts/resolve")
            assert bool(operation.get("security")) is not public, (method, path)
            for status, answer in operation["responses"].items():
                if int(status) >= 400 and path != "/readyz":  # its 503 names the checks
                    ref = answer["content"]["application/json"]["schema"]["$ref"]
                    assert ref.endswith("/ErrorBody"), (method, path, status)


async def test_the_client_representation_is_documented_with_its_computed_fields(
    api: Api,
) -> None:
    schema = (await api.client.get(f"{DOCS}/openapi.json")).json()

    view = schema["components"]["schemas"]["LLMClientView"]["properties"]
    for field in ("id", "hashed_id", "default_url", "custom_url", "sandbox_url", "ready"):
        assert field in view


async def test_the_interactive_docs_page_is_served_without_a_token(api: Api) -> None:
    response = await api.client.get(DOCS)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "SwaggerUIBundle" in response.text
    assert "/api/v1/llm-clients" in response.text  # the schema is embedded in the page

"""The web console's part of the application: its routes, templates, assets and CSRF check.

Server-rendered Jinja pages with htmx for the live parts (the deploy timeline, the domain
check, the clients filter); every asset is served from the package (`/static/`), the
third-party ones vendored with their licences under `static/vendor/`.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Final

from litestar import Router
from litestar.config.csrf import CSRFConfig
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from smarter.domain.environments import Environment
from smarter.entrypoints.console import (
    account_pages,
    client_pages,
    client_tools_pages,
    domain_pages,
    sign_in_pages,
)
from smarter.entrypoints.console.pages import EXCEPTION_HANDLERS, current_principal, signed_in
from smarter.entrypoints.settings import Settings

STATIC_PATH: Final = "/static"
CSRF_COOKIE: Final = "smarter_csrf"
# The token API authenticates with a header, never a cookie: it needs no CSRF check.
NOT_CSRF_CHECKED: Final = ["^/api/", "^/healthz"]


def _package_dir(name: str) -> Path:
    return Path(str(resources.files("smarter.entrypoints.console") / name))


def console_router() -> Router:
    signed_in_pages: list[HTTPRouteHandler] = [
        *client_pages.ROUTES,
        *client_tools_pages.ROUTES,
        *domain_pages.ROUTES,
        *account_pages.ROUTES,
    ]
    return Router(
        path="/",
        route_handlers=[
            *sign_in_pages.ROUTES,
            Router(
                path="/",
                route_handlers=signed_in_pages,
                guards=[signed_in],
                dependencies={"principal": Provide(current_principal, sync_to_thread=False)},
            ),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        include_in_schema=False,
    )


def static_router() -> Router:
    return create_static_files_router(
        path=STATIC_PATH,
        directories=[_package_dir("static")],
        cache_control=CacheControlHeader(max_age=3600, public=True),
        include_in_schema=False,
        name="console-static",
    )


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    def configure(engine: JinjaTemplateEngine) -> None:
        engine.engine.globals["static"] = STATIC_PATH
        engine.engine.filters["when"] = when
        engine.engine.filters["number"] = lambda value: f"{value:,}"

    return TemplateConfig(
        directory=_package_dir("templates"),
        engine=JinjaTemplateEngine,
        engine_callback=configure,
    )


def when(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def csrf_config(settings: Settings) -> CSRFConfig:
    return CSRFConfig(
        secret=settings.secret_key or secrets.token_urlsafe(32),
        cookie_name=CSRF_COOKIE,
        cookie_secure=settings.environment is not Environment.LOCAL,
        cookie_samesite="lax",
        cookie_httponly=True,
        exclude=NOT_CSRF_CHECKED,
    )


def docs_plugin() -> SwaggerRenderPlugin:
    """The API docs page with the vendored Swagger UI (it works without internet)."""
    base = f"{STATIC_PATH}/vendor/swagger-ui"
    return SwaggerRenderPlugin(
        path="/",
        js_url=f"{base}/swagger-ui-bundle.js",
        css_url=f"{base}/swagger-ui.css",
        standalone_preset_js_url=f"{base}/swagger-ui-standalone-preset.js",
        favicon="<link rel='icon' href='data:,'>",  # Litestar's default is on a CDN
    )

"""What every console page shares: the sign-in guard, rendering, redirects and error pages.

Pages call the same use cases as the API; a use case's error becomes a page (or, for an htmx
request, a message swapped into the page's notice area) with the same message and status the
API would answer. Pages are served on the console hosts only.
"""

from __future__ import annotations

import logging
from typing import Any, Final
from urllib.parse import quote

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException
from litestar.handlers import BaseRouteHandler
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template
from litestar.types import ExceptionHandlersMap

from smarter.application.errors import PermissionDenied, TooManyAttempts, Unauthenticated
from smarter.domain.accounts import Principal
from smarter.domain.errors import Conflict, DomainError, IllegalTransition, InvalidValue, NotFound
from smarter.domain.host_router import HostKind
from smarter.entrypoints.console.sessions import NotSignedIn, session_principal
from smarter.entrypoints.http.host_gate import resolved_host_of

logger = logging.getLogger("smarter.console")

CONTENT_SECURITY_POLICY: Final = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "img-src 'self' https: data:",
        "frame-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ]
)
PAGE_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
# What a redirect after an action says, by code (never text from the query string).
NOTICES: Final = {
    "created": "The client was created.",
    "saved": "Your changes were saved.",
    "deploying": "Deployment requested: the timeline below follows it.",
    "undeploying": "Undeploy requested: the client stops serving.",
    "cloned": "This is the copy. It is not deployed.",
    "deleted": "The client was deleted.",
    "revoked": "Revoked.",
    "registered": "The domain is registered: set the records below at your registrar.",
    "checking": "A check was queued; this page shows what it finds.",
    "domain-deleted": "The domain was deleted.",
    "user-changed": "The user was changed.",
    "signed-out": "You are signed out.",
    "password-set": "Your password is set. Welcome!",
}


def console_only(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    host = resolved_host_of(connection)
    if host is None or host.kind is not HostKind.CONSOLE:
        raise NotFound("the console is served on the console host only")


async def signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard of every page but sign-in: the session's user, as a dependency `principal`."""
    console_only(connection)
    connection.state.principal = await session_principal(connection)


def anonymous(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    console_only(connection)


def current_principal(request: Request[Any, Any, Any]) -> Principal:
    principal: Principal = request.state.principal
    return principal


def render(
    request: Request[Any, Any, Any], template: str, status_code: int = 200, **context: Any
) -> Template:
    principal = getattr(request.state, "principal", None)
    notice = NOTICES.get(request.query_params.get("done", ""))
    return Template(
        template_name=template,
        context={"principal": principal, "notice": notice, **context},
        status_code=status_code,
        headers=PAGE_HEADERS,
        media_type="text/html",
    )


def go(to: str, done: str | None = None) -> Redirect:
    """Back to a page after a form's action (303: the browser then GETs it)."""
    suffix = "" if done is None else ("&" if "?" in to else "?") + f"done={done}"
    return Redirect(path=to + suffix, status_code=303)


def safe_next(target: str | None) -> str:
    """Only a path of this site, never another origin (`//evil`, `https://evil`)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/clients"
    return target


# -- errors as pages ----------------------------------------------------------------------

_STATUS: Final[tuple[tuple[type[DomainError], int], ...]] = (
    (InvalidValue, 422),
    (NotFound, 404),
    (Conflict, 409),
    (IllegalTransition, 409),
    (PermissionDenied, 403),
    (TooManyAttempts, 429),
    (Unauthenticated, 401),
)
_TITLES: Final = {
    400: "That did not work",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    422: "That did not work",
    429: "Slow down",
}


def error_page(request: Request[Any, Any, Any], status: int, message: str) -> Response[Any]:
    if isinstance(request, HTMXRequest) and request.htmx:
        # Shown in the page's notice area instead of replacing what the request targeted.
        response = render(request, "_notice.html", status, message=message, kind="error")
        response.headers.update({"HX-Retarget": "#notices", "HX-Reswap": "innerHTML"})
        return response
    title = _TITLES.get(status, "Something went wrong")
    return render(request, "error.html", status, title=title, message=message, status=status)


def not_signed_in(request: Request[Any, Any, Any], _: NotSignedIn) -> Response[Any]:
    target = "/login?next=" + quote(safe_next(request.url.path), safe="/")
    if isinstance(request, HTMXRequest) and request.htmx:
        return ClientRedirect(target)
    return Redirect(path=target, status_code=303)


def domain_error(request: Request[Any, Any, Any], error: DomainError) -> Response[Any]:
    status = next((code for kind, code in _STATUS if isinstance(error, kind)), 400)
    headers = {}
    if isinstance(error, TooManyAttempts):
        headers["Retry-After"] = str(max(1, int(error.retry_after)))
    response = error_page(request, status, error.message)
    response.headers.update(headers)
    return response


def http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    if error.status_code >= 500:
        return internal_error(request, error)
    message = "that request was not understood" if error.status_code != 413 else "too large"
    if error.status_code == 403 and "CSRF" in str(error.detail):
        message = "the form expired; reload the page and try again"
    return error_page(request, error.status_code, message)


def internal_error(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    logger.error("console error on %s %s", request.method, request.url.path, exc_info=error)
    return error_page(request, 500, "something went wrong on our side; try again")


EXCEPTION_HANDLERS: Final[ExceptionHandlersMap] = {
    NotSignedIn: not_signed_in,
    DomainError: domain_error,
    HTTPException: http_error,
    Exception: internal_error,
}

"""Every error the API answers, as one JSON shape: `{"status_code", "detail", "field"}`.

Domain and use-case errors map to their status here and nowhere else; Litestar's own errors
(bad JSON, failed validation, unknown route, body too large) are rewritten to the same shape,
naming the field when there is one. Anything unexpected is a logged 500 without details.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import ExceptionHandlersMap

from smarter.application.errors import NotConfigured, PermissionDenied, Unauthenticated
from smarter.domain.errors import Conflict, DomainError, IllegalTransition, InvalidValue, NotFound

logger = logging.getLogger("smarter.http")

INTERNAL_ERROR = "internal error"
AUTHENTICATE_HEADERS = {"WWW-Authenticate": "Token"}


class ErrorBody(msgspec.Struct, kw_only=True):
    """The body of every error response."""

    status_code: int
    detail: str
    field: str | None = None


class BadRequest(HTTPException):
    """Input the handler itself found unusable (e.g. a manifest that is not YAML)."""

    status_code = 400

    def __init__(self, detail: str, field: str | None = None, status_code: int = 400) -> None:
        super().__init__(detail=detail, status_code=status_code)
        self.field = field


_DOMAIN_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (InvalidValue, 422),
    (NotFound, 404),
    (Conflict, 409),
    (IllegalTransition, 409),
    (Unauthenticated, 401),
    (PermissionDenied, 403),
    (NotConfigured, 503),
)

_DESCRIPTIONS = {
    400: "Bad input: malformed JSON, a wrong type, an unknown field; `field` names it",
    401: "Missing, wrong or revoked token",
    403: "Only an account admin may do this",
    404: "No such object in the caller's account",
    409: "Conflicts with an existing object or with the object's state",
    413: "Request body larger than 1 MiB",
    415: "Unsupported content type",
    422: "A value breaks a rule (name, version, URL, domain...); `field` names it",
    503: "The server lacks a setting this needs (the message names it)",
}


def error_responses(*codes: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the error statuses a route can answer."""
    return {
        code: ResponseSpec(data_container=ErrorBody, description=_DESCRIPTIONS[code])
        for code in codes
    }


def error_response(
    status_code: int,
    detail: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response[ErrorBody]:
    return Response(
        ErrorBody(status_code=status_code, detail=detail, field=field),
        status_code=status_code,
        media_type=MediaType.JSON,
        headers=headers,
    )


def domain_error(_: Request[Any, Any, Any], error: DomainError) -> Response[ErrorBody]:
    status = next((code for kind, code in _DOMAIN_STATUS if isinstance(error, kind)), 400)
    field = error.field if isinstance(error, InvalidValue) else None
    headers = AUTHENTICATE_HEADERS if status == 401 else None
    return error_response(status, error.message, field, headers)


def http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[ErrorBody]:
    if error.status_code >= 500:
        return internal_error(request, error)
    if isinstance(error, ValidationException):
        detail, field = _validation_problem(error)
    else:
        detail, field = _plain_detail(error), getattr(error, "field", None)
    return error_response(error.status_code, detail, field, error.headers or None)


def internal_error(request: Request[Any, Any, Any], error: Exception) -> Response[ErrorBody]:
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return error_response(500, INTERNAL_ERROR)


def too_deep(request: Request[Any, Any, Any], _: RecursionError) -> Response[ErrorBody]:
    """msgspec refuses JSON nested deeper than it can decode with a RecursionError."""
    logger.warning("refused a deeply nested body on %s %s", request.method, request.url.path)
    return error_response(400, "request body: nested too deeply")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    DomainError: domain_error,
    HTTPException: http_error,
    RecursionError: too_deep,
    Exception: internal_error,
}


_NAMED_FIELD = re.compile(r"Object (?:contains unknown|missing required) field `([^`]*)`")


def _plain_detail(error: HTTPException) -> str:
    if error.status_code == 413:
        return "the request body is too large"
    # Litestar prefixes its details with the status, e.g. "400: JSON is malformed: ...".
    return re.sub(r"^\d{3}: ", "", str(error.detail))


def _validation_problem(error: ValidationException) -> tuple[str, str | None]:
    """The first problem Litestar found, as (message naming the field, field)."""
    problems = error.extra if isinstance(error.extra, list) else []
    if not problems or not isinstance(problems[0], dict):
        return _plain_detail(error), None
    problem: dict[str, Any] = problems[0]
    message = str(problem.get("message", "is not valid"))
    key = problem.get("key")
    if key == "data" or (isinstance(key, str) and key.startswith("data.")):
        key = key.removeprefix("data").removeprefix(".") or None
    named = _NAMED_FIELD.search(message)
    if named is not None:
        field = f"{key}.{named.group(1)}" if key else named.group(1)
        unknown = "unknown" in message
        return f"{field}: {'is not a known field' if unknown else 'is required'}", field
    if key is None and message == "'data'":
        return "a JSON request body is required", None
    if key is None:
        return f"request body: {message}", None
    return f"{key}: {message}", str(key)

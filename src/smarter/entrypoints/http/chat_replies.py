"""What the chat routes share: the answer as JSON or as a stream, and every failure as JSON
with the right status (never a 500 for an upstream problem or bad input)."""

from __future__ import annotations

import math
import re
from typing import Any, Final

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Stream

from smarter.application.chat.answering import ChatStream
from smarter.application.chat.errors import ClientNotReady, OriginRefused, RateLimited
from smarter.application.chat.formats import ChatReply
from smarter.application.errors import PermissionDenied, Unauthenticated
from smarter.application.llm import UpstreamError
from smarter.domain.errors import InvalidValue, NotFound
from smarter.entrypoints.http.errors import ErrorBody
from smarter.entrypoints.http.sse import HEADERS as SSE_HEADERS
from smarter.entrypoints.http.sse import sse_events

MAX_BODY_BYTES: Final = 1_048_576
EVENT_STREAM: Final = "text/event-stream"

_encode = msgspec.json.Encoder().encode


def accepts_stream(request: Request[Any, Any, Any]) -> bool:
    """`Accept: text/event-stream` asks `POST /llm-client/` for a stream."""
    return EVENT_STREAM in request.headers.get("accept", "")


def reply_response(
    reply: ChatReply | ChatStream, headers: dict[str, str] | None = None
) -> Response[Any]:
    """The JSON answer, or the server-sent events of a started stream."""
    if isinstance(reply, ChatStream):
        return Stream(
            sse_events(reply),
            media_type=EVENT_STREAM,
            headers={**SSE_HEADERS, "X-Request-Id": reply.request_id, **(headers or {})},
        )
    return Response(
        _encode(reply),
        media_type=MediaType.JSON,
        headers={"X-Request-Id": reply.request_id, **(headers or {})},
    )


def failure(
    error: Exception, headers: dict[str, str] | None = None, *, openai_shape: bool = False
) -> Response[Any]:
    """The JSON error for `error`; `openai_shape` adds OpenAI's `error` object for SDKs."""
    status, detail, field = _status_of(error)
    extra = dict(headers or {})
    retry_after = getattr(error, "retry_after", None)
    if status == 429 and isinstance(retry_after, int | float):
        extra["Retry-After"] = str(max(1, math.ceil(retry_after)))
    if status == 401:
        extra["WWW-Authenticate"] = "Bearer"
    body: Any = ErrorBody(status_code=status, detail=detail, field=field)
    if openai_shape:
        body = {
            "status_code": status,
            "detail": detail,
            "error": {
                "message": detail,
                "type": _OPENAI_TYPES.get(status, "api_error"),
                "param": field,
                "code": status,
            },
        }
    return Response(_encode(body), status_code=status, media_type=MediaType.JSON, headers=extra)


_OPENAI_TYPES: Final = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}


def _status_of(error: Exception) -> tuple[int, str, str | None]:
    if isinstance(error, UpstreamError):
        return error.status, error.message, None
    if isinstance(error, InvalidValue):
        return 400, error.message, error.field
    if isinstance(error, HTTPException):
        if error.status_code == 413:
            return 413, "the request body is too large", None
        return error.status_code, re.sub(r"^\d{3}: ", "", str(error.detail)), None
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status, str(getattr(error, "message", error)), None
    return 400, str(getattr(error, "message", error)), None


_STATUS: Final[tuple[tuple[type[Exception], int], ...]] = (
    (Unauthenticated, 401),
    (OriginRefused, 403),
    (PermissionDenied, 403),
    (NotFound, 404),
    (RateLimited, 429),
    (ClientNotReady, 503),
)

"""What the chat routes share: reading the body, answering, streaming, and every failure as
JSON with the right status (never a 500 for an upstream problem or bad input)."""

from __future__ import annotations

import math
import re
from typing import Any, Final

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Stream

from smarter.application.chat import (
    Chat,
    ChatRequest,
    ClientNotReady,
    RateLimited,
)
from smarter.application.errors import PermissionDenied, Unauthenticated
from smarter.application.llm import UpstreamError
from smarter.domain.errors import DomainError, InvalidValue, NotFound
from smarter.domain.llm_client import ClientMode, LLMClient
from smarter.entrypoints.http.errors import ErrorBody
from smarter.entrypoints.http.sse import HEADERS as SSE_HEADERS
from smarter.entrypoints.http.sse import sse_events

MAX_BODY_BYTES: Final = 1_048_576
EVENT_STREAM: Final = "text/event-stream"

_encode = msgspec.json.Encoder().encode
_decode_chat = msgspec.json.Decoder(ChatRequest).decode
_AT = re.compile(r" - at `\$\.?([^`]*)`$")


class OriginRefused(DomainError):
    """A browser page from an origin the client does not allow: 403."""


def decode_chat_request(body: bytes) -> ChatRequest:
    if not body.strip():
        raise InvalidValue("body", "a JSON request body with `messages` is required")
    try:
        return _decode_chat(body)
    except msgspec.ValidationError as error:
        text = str(error)
        found = _AT.search(text)
        field = found.group(1) if found else None
        message = _AT.sub("", text)
        raise InvalidValue(field or "body", message) from None
    except msgspec.DecodeError as error:
        raise InvalidValue("body", f"not valid JSON: {error}") from None
    except RecursionError:
        raise InvalidValue("body", "nested too deeply") from None


def wants_stream(request: Request[Any, Any, Any], chat_request: ChatRequest) -> bool:
    return chat_request.stream or EVENT_STREAM in request.headers.get("accept", "")


async def answer(
    chat: Chat,
    client: LLMClient,
    chat_request: ChatRequest,
    *,
    mode: ClientMode,
    stream: bool,
    api_key_id: int | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    """The JSON answer, or the started stream (upstream errors before it starts raise)."""
    if stream:
        started = await chat.stream(client, chat_request, mode=mode, api_key_id=api_key_id)
        return Stream(
            sse_events(started),
            media_type=EVENT_STREAM,
            headers={**SSE_HEADERS, "X-Request-Id": started.request_id, **(headers or {})},
        )
    reply = await chat.answer(client, chat_request, mode=mode, api_key_id=api_key_id)
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

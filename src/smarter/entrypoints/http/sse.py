"""Server-sent events in the OpenAI stream format: `data: {chunk}` ... `data: [DONE]`.

An upstream failure after the first chunk cannot change the status any more: it is sent as an
`error` event (which the openai SDK raises as an APIError) and the stream ends without
`[DONE]`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Final

import msgspec

from smarter.application.chat.answering import ChatStream
from smarter.application.llm import UpstreamError

logger = logging.getLogger("smarter.http")

DONE: Final = b"data: [DONE]\n\n"
HEADERS: Final = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

_encode = msgspec.json.Encoder().encode


def event(data: bytes) -> bytes:
    return b"data: " + data + b"\n\n"


def error_event(status: int, message: str) -> bytes:
    error = {"message": message, "type": "upstream_error", "param": None, "code": status}
    return event(_encode({"error": error}))


async def sse_events(stream: ChatStream) -> AsyncIterator[bytes]:
    failed: bytes | None = None
    try:
        async for chunk in stream:
            yield event(_encode(chunk))
    except UpstreamError as error:
        failed = error_event(error.status, error.message)
    except Exception:
        logger.exception("a chat stream failed")
        failed = error_event(500, "internal error")
    finally:
        await stream.aclose()
    yield DONE if failed is None else failed

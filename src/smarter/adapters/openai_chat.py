"""OpenAIChatModel: the ChatModel port on the openai SDK, for OpenAI and any compatible server.

The hot path stays thin: the request body is encoded once with msgspec and sent through the
SDK's client (`AsyncOpenAI.post`, which keeps the SDK's auth, base URL, headers, timeouts and
error classes but skips its per-call TypedDict transform and pydantic parsing), and the answer's
raw JSON is decoded by msgspec straight into `Completion` / `CompletionChunk`. Measured against
`chat.completions.create` and `with_raw_response.create`: see `bench/llm_transport.py`.

The SDK does not retry (`max_retries=0`): the platform answers the caller with a mapped error
(`UpstreamTimeout` 504, `UpstreamRateLimited` 429 with the provider's Retry-After,
`UpstreamFailed` 502) and never repeats a paid call behind the caller's back. No message built
here contains the provider's key or the provider's own text about credentials.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import re
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any, Final, Literal, get_args

import httpx2
import msgspec
import openai

from smarter.application.llm import (
    Completion,
    CompletionChunk,
    CompletionRequest,
    UpstreamError,
    UpstreamFailed,
    UpstreamRateLimited,
    UpstreamTimeout,
)

logger = logging.getLogger(__name__)

Transport = Literal["httpx", "aiohttp"]
TRANSPORTS: Final[tuple[str, ...]] = get_args(Transport)
DEFAULT_TRANSPORT: Final[Transport] = "aiohttp"
"""The faster of the two on loopback (bench/llm_transport.py); httpx is the SDK's own."""

_PATH = "/chat/completions"
_JSON_HEADERS: Final = {"Content-Type": "application/json"}
_STREAM_HEADERS: Final = {"Content-Type": "application/json", "Accept": "text/event-stream"}
_SECRET_LOOKING = re.compile(r"\b(sk|key|rk)-[A-Za-z0-9_*.\-]{4,}")
_MAX_DETAIL = 200

_encode = msgspec.json.Encoder().encode
_completion = msgspec.json.Decoder(Completion)
_decode_chunk = msgspec.json.Decoder(CompletionChunk)
_any = msgspec.json.Decoder()


class OpenAIChatModel:
    """One provider: its base URL (None: OpenAI's), its key, a timeout and an HTTP transport.

    `timeout` bounds a whole `complete()` call, and each wait for the next bytes of a stream
    (a long answer may stream for longer). `stream_usage` asks for the final usage chunk
    (`stream_options.include_usage`); turn it off for servers that reject `stream_options`.
    """

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        timeout: float = 60.0,
        transport: Transport = DEFAULT_TRANSPORT,
        provider: str = "openai",
        stream_usage: bool = True,
    ) -> None:
        if transport not in TRANSPORTS:
            raise ValueError(f"unknown HTTP transport '{transport}'; use one of {TRANSPORTS}")
        if timeout <= 0:
            raise ValueError("the timeout must be positive")
        limits = httpx2.Timeout(timeout, connect=min(timeout, 5.0))
        http_client = (
            openai.DefaultAioHttpClient(timeout=limits)
            if transport == "aiohttp"
            else openai.DefaultAsyncHttpxClient(timeout=limits)
        )
        self.provider = provider
        self.transport: Transport = transport
        self._timeout = timeout
        self._stream_usage = stream_usage
        self._key = api_key
        self._client = openai.AsyncOpenAI(
            api_key=api_key,
            base_url=base_url,
            timeout=limits,
            max_retries=0,
            http_client=http_client,
        )

    @property
    def base_url(self) -> str:
        return str(self._client.base_url)

    async def complete(self, request: CompletionRequest) -> Completion:
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._client.post(
                    _PATH,
                    content=_encode(_body(request)),
                    cast_to=httpx2.Response,
                    options={"headers": _JSON_HEADERS},
                )
            completion = _completion.decode(response.content)
        except Exception as error:
            raise self._mapped(error) from None
        if not completion.choices:
            raise UpstreamFailed(f"the provider '{self.provider}' answered with no choices")
        return completion

    async def stream(self, request: CompletionRequest) -> AsyncIterator[CompletionChunk]:
        body = _body(request)
        body["stream"] = True
        if self._stream_usage:
            body["stream_options"] = {"include_usage": True}
        try:
            response = await self._client.post(
                _PATH,
                content=_encode(body),
                cast_to=httpx2.Response,
                options={"headers": _STREAM_HEADERS},
                stream=True,
            )
        except Exception as error:
            raise self._mapped(error) from None
        received = False
        try:
            async for event, data in _server_sent_events(response):
                if data == "[DONE]":
                    break
                chunk = self._chunk(event, data)
                received = True
                yield chunk
        except UpstreamError:
            raise
        except Exception as error:
            raise self._mapped(error) from None
        finally:
            await response.aclose()
        if not received:
            raise UpstreamFailed(f"the provider '{self.provider}' streamed no answer")

    async def aclose(self) -> None:
        await self._client.close()

    def _chunk(self, event: str, data: str) -> CompletionChunk:
        try:
            return _decode_chunk.decode(data)
        except msgspec.ValidationError:
            payload = _any.decode(data)
            if event == "error" or (isinstance(payload, dict) and "error" in payload):
                error = payload.get("error") if isinstance(payload, dict) else None
                detail = self._redacted(_detail(error))
                raise UpstreamFailed(
                    f"the provider '{self.provider}' failed during the answer{detail}"
                ) from None
            raise

    def _mapped(self, error: BaseException) -> UpstreamError:
        """The platform's error for what the SDK, the transport or the decoder raised."""
        provider = self.provider
        if isinstance(error, UpstreamError):
            return error
        if isinstance(error, openai.APITimeoutError | httpx2.TimeoutException | TimeoutError):
            if not _refused(error):
                return UpstreamTimeout(f"the provider '{provider}' did not answer in time")
            return UpstreamFailed(f"the provider '{provider}' could not be reached")
        if isinstance(error, openai.APIStatusError):
            status = error.status_code
            if status == 429 and _code(error.body) == "insufficient_quota":
                return UpstreamFailed(
                    f"the provider '{provider}' refused the call: the platform's quota there "
                    "is used up (upstream status 429)"
                )
            if status == 429:
                return UpstreamRateLimited(_retry_after(error.response.headers))
            if status in (401, 403):
                return UpstreamFailed(
                    f"the provider '{provider}' rejected the platform's credentials "
                    f"(upstream status {status})"
                )
            if 400 <= status < 500:
                detail = self._redacted(_detail(error.body))
                return UpstreamFailed(
                    f"the provider '{provider}' rejected the request "
                    f"(upstream status {status}){detail}"
                )
            return UpstreamFailed(f"the provider '{provider}' failed (upstream status {status})")
        if isinstance(error, openai.APIConnectionError | httpx2.TransportError | OSError):
            return UpstreamFailed(f"the provider '{provider}' could not be reached")
        if isinstance(error, msgspec.DecodeError | msgspec.ValidationError | UnicodeDecodeError):
            return UpstreamFailed(
                f"the provider '{provider}' sent an answer that is not a chat completion"
            )
        # Not an outside failure we know: keep the traceback for the logs (SDK errors, whose
        # text may quote the key, were all handled above).
        logger.error("unexpected error calling the provider %s", provider, exc_info=error)
        return UpstreamFailed(f"the call to the provider '{provider}' failed")

    def _redacted(self, text: str) -> str:
        if len(self._key) >= 8:  # shorter "keys" are placeholders of local servers
            text = text.replace(self._key, "***")
        return _SECRET_LOOKING.sub("***", text)


def _body(request: CompletionRequest) -> dict[str, Any]:
    body: dict[str, Any] = {"model": request.model, "messages": request.messages}
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.max_tokens is not None:
        body["max_tokens"] = request.max_tokens
    if request.tools:
        body["tools"] = request.tools
    return body


async def _server_sent_events(response: httpx2.Response) -> AsyncIterator[tuple[str, str]]:
    """(event, data) for each server-sent event of `response` (the WHATWG rules we need)."""
    event = ""
    data: list[str] = []
    async for line in response.aiter_lines():
        if not line:
            if data:
                yield event, "\n".join(data)
            event, data = "", []
        elif line.startswith("data:"):
            data.append(line[6:] if line.startswith("data: ") else line[5:])
        elif line.startswith("event:"):
            event = line[6:].strip()
    if data:
        yield event, "\n".join(data)


def _refused(error: BaseException) -> bool:
    """Whether a "timeout" was caused by a refused or failed connection.

    The aiohttp transport reports a refused connection as a connect timeout; the socket error
    it started from is further down the exception chain.
    """
    cause = error.__cause__ or error.__context__
    for _ in range(8):
        if cause is None:
            return False
        if isinstance(cause, OSError) and not isinstance(cause, TimeoutError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _code(body: object) -> str | None:
    if isinstance(body, dict):
        code = body.get("code")
        return str(code) if code is not None else None
    return None


def _detail(body: object) -> str:
    """': <the provider's message>' (shortened), or nothing."""
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, str) or not message.strip():
        return ""
    message = " ".join(message.split())
    if len(message) > _MAX_DETAIL:
        message = message[: _MAX_DETAIL - 1] + "…"
    return f": {message}"


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from `Retry-After` (seconds or an HTTP date) or `retry-after-ms`; else None."""
    raw = headers.get("retry-after")
    if raw is not None:
        try:
            return max(0.0, float(raw))
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            when = None
        if when is not None and when.tzinfo is not None:
            return max(0.0, when.timestamp() - time.time())
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    return None

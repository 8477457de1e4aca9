"""An OpenAI-compatible server on loopback, for integration tests and benchmarks.

A raw ASGI app run by uvicorn, so that the openai SDK talks real HTTP to it. It answers at once
(it is also the upstream of the chat benchmark) and records what it received.

- `POST /v1/chat/completions`: answers "You said: <last user message>"; `"stream": true` answers
  server-sent `chat.completion.chunk` events ending with `data: [DONE]` (and a usage chunk when
  `stream_options.include_usage` is set).
- Tool calls: when the request offers tools and its last message is a user message that mentions
  "days", the answer calls the first offered tool (`date_calculator` if offered) with arguments
  read from the message: two ISO dates → `days_between`; one date and "N days" → `add_days`
  (`subtract_days` with "before", "ago", "minus" or "subtract"). When the last message is a
  tool result, the answer quotes it: "The tool answered: <content>".
- The model name chooses a behaviour: `fail-<status>` answers that status with an OpenAI error
  body (`fail-401` quotes the caller's key as OpenAI does, `fail-429` sends `Retry-After: 7`);
  `slow` waits `slow_seconds` (or `slow-<seconds>`) before answering, and stops waiting when the
  client goes away; `garbage` answers 200 with a body that is not JSON (not SSE data either);
  `fail-stream` streams one chunk and then an error event; `fail-quota` answers OpenAI's 429
  `insufficient_quota` (no credit left: retrying does not help).
- `GET /v1/models` lists a few models.
- With `api_key` set, a request without `Authorization: Bearer <api_key>` gets 401.

Use: `with OpenAITestServer() as server: ... server.base_url ... server.requests`, or
`server.start()` / `server.stop()`. Run: `python -m tests.support.openai_server --port 8001`.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import itertools
import re
import socket
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import msgspec
import uvicorn

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MODELS = ("gpt-4o-mini", "gpt-4o", "slow", "garbage", "fail-401", "fail-429", "fail-500")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_DAYS = re.compile(r"(-?\d+)\s+days?\b", re.IGNORECASE)
_BACKWARDS = ("before", "ago", "minus", "subtract", "earlier")
_FAIL = re.compile(r"fail-(\d{3})$")
_SLOW = re.compile(r"slow(?:-(\d+(?:\.\d+)?))?$")
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_exceeded",
}
_JSON = [(b"content-type", b"application/json")]
_SSE = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    """The decoded JSON body, or None."""


def text_of(message: dict[str, Any]) -> str:
    """The text of a message whose content is a string or a list of content parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict)).strip()
    return ""


def _words(text: str) -> int:
    return len(text.split())


def date_arguments(text: str) -> dict[str, Any]:
    """What a model would pass to `date_calculator` for this question."""
    dates = _DATE.findall(text)
    if len(dates) >= 2:
        return {"operation": "days_between", "date": dates[0], "other_date": dates[1]}
    days = _DAYS.search(text)
    if dates and days:
        backwards = any(word in text.lower() for word in _BACKWARDS)
        operation = "subtract_days" if backwards else "add_days"
        return {"operation": operation, "date": dates[0], "days": abs(int(days.group(1)))}
    return {"operation": "days_between"}


class OpenAIStubApp:
    """The ASGI app. `requests` keeps the last 10,000 requests it received."""

    def __init__(
        self, *, api_key: str | None = None, slow_seconds: float = 5.0, retry_after: int = 7
    ) -> None:
        self.api_key = api_key
        self.slow_seconds = slow_seconds
        self.retry_after = retry_after
        self.requests: collections.deque[RecordedRequest] = collections.deque(maxlen=10_000)
        self._ids = itertools.count(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"]
        raw = await _read_body(receive)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        body: Any = None
        if raw:
            with contextlib.suppress(msgspec.DecodeError):
                body = _decode(raw)
        self.requests.append(RecordedRequest(method, path, headers, body))

        presented = headers.get("authorization", "").removeprefix("Bearer ").strip()
        if self.api_key is not None and presented != self.api_key:
            await self._error(send, 401, _bad_key(presented))
        elif method == "GET" and path.rstrip("/") == "/v1/models":
            models = [
                {"id": m, "object": "model", "created": 0, "owned_by": "smarter-tests"}
                for m in MODELS
            ]
            await _respond(send, 200, _encode({"object": "list", "data": models}))
        elif path.rstrip("/") != "/v1/chat/completions":
            await self._error(send, 404, f"Unknown request URL: {method} {path}")
        elif method != "POST":
            await self._error(send, 405, f"Method {method} not allowed")
        elif not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            await self._error(send, 400, "The body must be JSON with 'model' and 'messages'.")
        else:
            await self._chat(body, presented, receive, send)

    async def _chat(self, body: dict[str, Any], key: str, receive: Receive, send: Send) -> None:
        model = str(body.get("model", ""))
        streaming = bool(body.get("stream"))
        failure = _FAIL.match(model)
        slow = _SLOW.match(model)
        if model == "fail-quota":  # OpenAI's answer when the account has no credit left
            quota = "You exceeded your current quota, please check your plan and billing details."
            await self._error(send, 429, quota, code="insufficient_quota", retry=False)
            return
        if failure and failure.group(1) != "200":
            status = int(failure.group(1))
            message = _bad_key(key) if status == 401 else f"Simulated failure {status}."
            await self._error(send, status, message)
            return
        if slow:
            seconds = float(slow.group(1)) if slow.group(1) else self.slow_seconds
            if await _client_left_within(receive, seconds):
                return
        if model == "garbage":
            content_type = _SSE if streaming else _JSON
            await _respond(send, 200, b"<html>upstream proxy error</html>", content_type)
            return
        answer = self._answer(body)
        if streaming:
            await self._stream(body, model, answer, send)
        else:
            await _respond(send, 200, _encode(answer))

    def _answer(self, body: dict[str, Any]) -> dict[str, Any]:
        messages = [m for m in body["messages"] if isinstance(m, dict)]
        last = messages[-1] if messages else {}
        user = next((m for m in reversed(messages) if m.get("role") == "user"), {})
        tools = [
            t["function"]["name"]
            for t in body.get("tools") or []
            if isinstance(t, dict) and isinstance(t.get("function"), dict)
        ]
        message: dict[str, Any]
        if tools and last.get("role") == "user" and "days" in text_of(last).lower():
            name = "date_calculator" if "date_calculator" in tools else tools[0]
            call = {
                "id": f"call_{next(self._ids)}",
                "type": "function",
                "function": {"name": name, "arguments": _json_text(date_arguments(text_of(last)))},
            }
            message = {"role": "assistant", "content": None, "tool_calls": [call]}
            finish = "tool_calls"
        else:
            if last.get("role") == "tool":
                text = f"The tool answered: {text_of(last)}"
            else:
                text = f"You said: {text_of(user)}"
            message = {"role": "assistant", "content": text, "refusal": None, "annotations": []}
            finish = "stop"
        prompt = sum(_words(text_of(m)) for m in messages)
        completion = _words(message.get("content") or "") + 5 * ("tool_calls" in message)
        return {
            "id": f"chatcmpl-stub{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model"),
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
            "service_tier": "default",
            "system_fingerprint": None,
        }

    async def _stream(
        self, body: dict[str, Any], model: str, answer: dict[str, Any], send: Send
    ) -> None:
        options = body.get("stream_options")
        with_usage = isinstance(options, dict) and bool(options.get("include_usage"))
        base = {k: answer[k] for k in ("id", "created", "model")}
        base["object"] = "chat.completion.chunk"
        if with_usage:
            base["usage"] = None
        message = answer["choices"][0]["message"]

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            return {**base, "choices": [choice]}

        events = [chunk({"role": "assistant", "content": ""})]
        if message.get("tool_calls"):
            calls = [{"index": i, **c} for i, c in enumerate(message["tool_calls"])]
            events.append(chunk({"tool_calls": calls}))
        else:
            events.extend(chunk({"content": piece}) for piece in _pieces(message["content"]))
        if model == "fail-stream":
            error = {"message": "The server had an error while processing your request."}
            events = [*events[:2], {"error": {**error, "type": "server_error"}}]
        else:
            events.append(chunk({}, answer["choices"][0]["finish_reason"]))
            if with_usage:
                events.append({**base, "choices": [], "usage": answer["usage"]})
        await send({"type": "http.response.start", "status": 200, "headers": _SSE})
        for event in events:
            data = b"data: " + _encode(event) + b"\n\n"
            await send({"type": "http.response.body", "body": data, "more_body": True})
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})

    async def _error(
        self, send: Send, status: int, message: str, code: str | None = None, retry: bool = True
    ) -> None:
        error = {
            "error": {
                "message": message,
                "type": _ERROR_TYPES.get(status, "server_error"),
                "param": None,
                "code": code or ("invalid_api_key" if status == 401 else None),
            }
        }
        retry_after = [(b"retry-after", str(self.retry_after).encode())]
        extra = retry_after if status == 429 and retry else []
        await _respond(send, status, _encode(error), [*_JSON, *extra])


def _json_text(value: Any) -> str:
    return _encode(value).decode()


def _bad_key(key: str) -> str:
    return (
        f"Incorrect API key provided: {key}. "
        "You can find your API key at https://platform.openai.com/account/api-keys."
    )


def _pieces(text: str, count: int = 3) -> list[str]:
    """`text` cut into at most `count` pieces that join back to it."""
    words = text.split(" ")
    size = max(1, -(-len(words) // count))
    groups = [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
    return [g if i == len(groups) - 1 else g + " " for i, g in enumerate(groups)]


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _client_left_within(receive: Receive, seconds: float) -> bool:
    """Wait `seconds`; True as soon as the client disconnects."""

    async def disconnect() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    try:
        await asyncio.wait_for(disconnect(), seconds)
    except TimeoutError:
        return False
    return True


async def _respond(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] = _JSON
) -> None:
    length = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": [*headers, *length]})
    await send({"type": "http.response.body", "body": body})


def _listening_socket(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted sockets only when proto says TCP
    # (with proto 0, every answer waits ~40 ms for a delayed ACK).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def _config(app: OpenAIStubApp) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
        timeout_keep_alive=30,
        backlog=1024,
    )


class OpenAITestServer:
    """The stub app served by uvicorn on 127.0.0.1 in a background thread."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        slow_seconds: float = 5.0,
    ) -> None:
        self.app = OpenAIStubApp(api_key=api_key, slow_seconds=slow_seconds)
        self._host, self._port = host, port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        """What the openai SDK takes as `base_url`."""
        return f"http://{self._host}:{self._port}/v1"

    @property
    def requests(self) -> collections.deque[RecordedRequest]:
        return self.app.requests

    def chat_requests(self) -> list[dict[str, Any]]:
        """The bodies of the chat-completion requests received so far."""
        return [r.body for r in self.requests if r.path.startswith("/v1/chat/completions")]

    def start(self) -> OpenAITestServer:
        sock = _listening_socket(self._host, self._port)
        self._port = sock.getsockname()[1]
        self._server = uvicorn.Server(_config(self.app))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True, name="openai-stub"
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the OpenAI test server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> OpenAITestServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="An OpenAI-compatible test server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001, help="0 picks a free port")
    parser.add_argument("--api-key", default=None, help="require this key (default: any)")
    parser.add_argument("--slow-seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    app = OpenAIStubApp(api_key=args.api_key, slow_seconds=args.slow_seconds)
    sock = _listening_socket(args.host, args.port)
    port = sock.getsockname()[1]
    print(f"OpenAI test server on http://{args.host}:{port}/v1", flush=True)
    uvicorn.Server(_config(app)).run(sockets=[sock])


if __name__ == "__main__":
    main()

"""The chat hot path: find the client behind a host, check its key and rate, answer, record.

`FindClientForHost` resolves a host to a `ClientEntry` through the cache (the database only on
a miss, one load per host at a time). `authorize` checks an API key against that client's key
digests, `Admission` applies the rate limit, and `Chat` builds the conversation (the client's
system role with the date, its model, temperature and max tokens), asks the client's provider
with the client's functions as tools, and hands every turn to the recorder, failed ones too.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any, Final, Literal, Protocol

import msgspec

from smarter.application.chat_ports import (
    ChatRecorder,
    ChatTurn,
    ClientCache,
    ClientEntry,
    RateLimiter,
)
from smarter.application.errors import Unauthenticated
from smarter.application.llm import (
    ChatModel,
    ChatModels,
    Completion,
    CompletionChunk,
    CompletionRequest,
    Message,
    UpstreamError,
)
from smarter.application.llm_clients import load_visible
from smarter.application.ports import Clock, UnitOfWork
from smarter.application.tools import ToolBox, error_text, run_with_tools
from smarter.domain.account_number import AccountNumber
from smarter.domain.accounts import Principal
from smarter.domain.errors import DomainError, NotFound
from smarter.domain.history import ChatMessage, ChatRequestRecord
from smarter.domain.host_router import HostKind, ResolvedHost
from smarter.domain.llm_client import MAX_TOKENS_LIMIT, ClientMode, LLMClient
from smarter.domain.secrets import hash_secret, same_digest

MAX_MESSAGES: Final = 500
MAX_CONTENT: Final = 200_000
SESSION_KEY_PATTERN: Final = r"^[A-Za-z0-9_\-]{1,128}$"
CLIENT_CLOSED: Final = 499
"""Recorded when the caller went away before a streamed answer ended (nginx's code)."""

# -- the request (seed 002, plus the OpenAI fields an SDK sends) --------------------------------

Content = Annotated[str, msgspec.Meta(max_length=MAX_CONTENT)]


class ChatMessageIn(msgspec.Struct, kw_only=True):
    role: Literal["system", "developer", "user", "assistant"]
    content: Content | list[dict[str, Any]]


class PromptHistoryItem(msgspec.Struct, kw_only=True):
    """One line of the chat UI's transcript: `incoming` is the assistant, `outgoing` the user."""

    message: Content
    direction: Literal["incoming", "outgoing"] = "outgoing"
    sent_time: str | None = msgspec.field(default=None, name="sentTime")
    sender: str | None = None


class ChatRequest(msgspec.Struct, kw_only=True):
    """The body of `POST /llm-client/` (seed 002) and of `POST /v1/chat/completions`.

    `model` is accepted for OpenAI SDKs and ignored: the client's owner chooses the model.
    `temperature` overrides the client's; `max_tokens` may lower the client's, never raise it.
    """

    messages: Annotated[list[ChatMessageIn], msgspec.Meta(min_length=1, max_length=MAX_MESSAGES)]
    prompt_history: Annotated[list[PromptHistoryItem], msgspec.Meta(max_length=MAX_MESSAGES)] = (
        msgspec.field(default_factory=list)
    )
    session_key: Annotated[str, msgspec.Meta(pattern=SESSION_KEY_PATTERN)] | None = None
    stream: bool = False
    model: str | None = None
    temperature: Annotated[float, msgspec.Meta(ge=0.0, le=2.0)] | None = None
    max_tokens: Annotated[int, msgspec.Meta(ge=1, le=MAX_TOKENS_LIMIT)] | None = None


# -- the answer ----------------------------------------------------------------------------------


class ChatReply(msgspec.Struct, kw_only=True):
    """A ChatCompletion plus the conversation's `session_key` and this request's id."""

    id: str
    object: str
    created: int
    model: str
    choices: list[dict[str, Any]]
    usage: dict[str, Any] | None
    session_key: str
    request_id: str


class ReplyChunk(ChatReply, kw_only=True):
    """A `chat.completion.chunk` plus the `session_key` and the request id (the same fields)."""


# -- errors the HTTP layer maps ------------------------------------------------------------------


class ClientNotReady(DomainError):
    """The client exists but does not serve chat on this host (yet): 503."""


class RateLimited(DomainError):
    def __init__(self, retry_after: float) -> None:
        super().__init__("too many requests: slow down and retry later")
        self.retry_after = retry_after


class ProviderMissing(UpstreamError):
    def __init__(self, provider: str) -> None:
        super().__init__(503, f"the provider '{provider}' is not configured on this platform")


# -- finding the client behind a host ------------------------------------------------------------


class UnitsOfWork(Protocol):
    """Opens a fresh unit of work (the host lookup runs outside any request's own)."""

    def __call__(self) -> AbstractAsyncContextManager[UnitOfWork]: ...


NOTHING_THERE: Final = ClientEntry(client=None)


def cache_key(host: ResolvedHost) -> str:
    """One key per client whatever alias of the API domain the host used."""
    if host.kind is HostKind.CLIENT:
        return f"client:{host.llm_client_name}.{host.account_number}"
    return f"custom:{host.host.rpartition(':')[0] or host.host}"


class FindClientForHost:
    """The client (and its active key digests) behind a client or custom-domain host."""

    def __init__(self, cache: ClientCache, units: UnitsOfWork) -> None:
        self._cache, self._units = cache, units
        self._loading: dict[str, asyncio.Future[ClientEntry]] = {}

    async def __call__(self, host: ResolvedHost) -> ClientEntry:
        if host.kind not in (HostKind.CLIENT, HostKind.CUSTOM_DOMAIN):
            return NOTHING_THERE
        key = cache_key(host)
        entry = await self._cache.get(key)
        if entry is not None:
            return entry
        pending = self._loading.get(key)
        if pending is not None:  # another request is loading this host: share its answer
            return await asyncio.shield(pending)
        future: asyncio.Future[ClientEntry] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            entry = await self._load(host)
            await self._cache.put(key, entry)
            future.set_result(entry)
            return entry
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waits
            raise
        finally:
            del self._loading[key]

    async def _load(self, host: ResolvedHost) -> ClientEntry:
        async with self._units() as uow:
            client = await _client_of(uow, host)
            if client is None or client.id is None:
                return NOTHING_THERE
            return ClientEntry(client=client, api_keys=await uow.api_keys.active_digests(client.id))


async def _client_of(uow: UnitOfWork, host: ResolvedHost) -> LLMClient | None:
    if host.kind is HostKind.CLIENT:
        if host.account_number is None or host.llm_client_name is None:
            return None
        return await uow.clients.find_by_host(
            AccountNumber(host.account_number), host.llm_client_name
        )
    # `<name>.<domain>`, where the name is one label (an admin's client) or two (anyone
    # else's, `example.user123`): at most two lookups, whatever the number of domains.
    name = host.host.rpartition(":")[0] or host.host
    labels = name.split(".")
    for split in (1, 2):
        if len(labels) - split < 2:
            break
        domain = await uow.domains.find_verified(".".join(labels[split:]))
        if domain is None:
            continue
        client = await uow.clients.find_by_host(domain.account_number, ".".join(labels[:split]))
        if client is None or client.custom_domain is None:
            continue
        if client.custom_domain.id == domain.id and client.custom_host == name:
            return client
    return None


def serving_client(entry: ClientEntry, host: ResolvedHost) -> tuple[LLMClient, ClientMode]:
    """The client that answers chat on `host`, and how; NotFound or ClientNotReady."""
    client = entry.client
    if client is None:
        raise NotFound(f"no LLMClient is served on host '{host.host}'")
    if not client.deployed:
        raise ClientNotReady(f"LLMClient '{client.name}' is not deployed")
    if not client.is_provisioned:
        raise ClientNotReady(f"LLMClient '{client.name}' is deployed but not ready yet")
    mode = ClientMode.DEFAULT if host.kind is HostKind.CLIENT else ClientMode.CUSTOM
    return client, mode


def authorize(entry: ClientEntry, presented: str | None) -> int | None:
    """The id of the client's key that was presented; None when the client needs no key.

    Only this client's digests are compared, each in constant time, all of them every time.
    """
    if not entry.api_keys:
        return None
    if not presented:
        raise Unauthenticated("this LLMClient requires an API key: send it in x-api-key")
    digest = hash_secret(presented)
    found: int | None = None
    for known, key_id in entry.api_keys.items():
        if same_digest(known, digest):
            found = key_id
    if found is None:
        raise Unauthenticated("the API key is wrong or revoked")
    return found


class Admission:
    """Requests per minute per API key, or per client and caller address for public clients."""

    def __init__(self, limiter: RateLimiter, per_minute: int) -> None:
        self._limiter, self._per_minute = limiter, per_minute

    async def __call__(self, client: LLMClient, api_key_id: int | None, caller: str) -> None:
        key = f"key:{api_key_id}" if api_key_id is not None else f"ip:{client.id}:{caller}"
        wait = await self._limiter.hit(key, self._per_minute, 60.0)
        if wait is not None:
            raise RateLimited(wait)


# -- answering -----------------------------------------------------------------------------------


class ChatStream:
    """A started streamed answer: iterate it for the chunks (errors after the first chunk
    surface as UpstreamError while iterating)."""

    def __init__(self, session_key: str, request_id: str, chunks: AsyncIterator[ReplyChunk]):
        self.session_key, self.request_id = session_key, request_id
        self._chunks = chunks

    def __aiter__(self) -> AsyncIterator[ReplyChunk]:
        return self._chunks

    async def aclose(self) -> None:
        close: Callable[[], Awaitable[None]] | None = getattr(self._chunks, "aclose", None)
        if close is not None:
            await close()


class _Turn:
    """What is known of one request while it runs, to be recorded at its end."""

    def __init__(self, client: LLMClient, request: ChatRequest, mode: ClientMode, key: int | None):
        self.client, self.request, self.mode, self.api_key_id = client, request, mode, key
        self.session_key = request.session_key or secrets.token_hex(16)
        self.request_id = uuid.uuid4().hex
        self.started = time.perf_counter()


class Chat:
    def __init__(
        self,
        models: ChatModels,
        recorder: ChatRecorder,
        clock: Clock,
        tools: ToolBox,
        tool_rounds: int = 3,
    ) -> None:
        self._models, self._recorder, self._clock = models, recorder, clock
        self._tools, self._rounds = tools, tool_rounds

    async def answer(
        self,
        client: LLMClient,
        request: ChatRequest,
        *,
        mode: ClientMode,
        api_key_id: int | None = None,
    ) -> ChatReply:
        turn = _Turn(client, request, mode, api_key_id)
        try:
            model = self._model_of(client)
            completion, _ = await run_with_tools(
                model, self._completion_request(turn), self._tools, self._rounds
            )
        except UpstreamError as error:
            self._record(turn, error.status, {"error": error.message})
            raise
        except Exception:
            self._record(turn, 500, {"error": "internal error"})
            raise
        reply = ChatReply(
            id=completion.id,
            object=completion.object,
            created=completion.created,
            model=completion.model,
            choices=completion.choices,
            usage=completion.usage,
            session_key=turn.session_key,
            request_id=turn.request_id,
        )
        self._record(
            turn, 200, _reply_record(completion), _answer_text(completion), completion.usage
        )
        return reply

    async def stream(
        self,
        client: LLMClient,
        request: ChatRequest,
        *,
        mode: ClientMode,
        api_key_id: int | None = None,
    ) -> ChatStream:
        """Start a streamed answer: an upstream failure before the first chunk raises here."""
        turn = _Turn(client, request, mode, api_key_id)
        try:
            model = self._model_of(client)
        except UpstreamError as error:
            self._record(turn, error.status, {"error": error.message})
            raise
        chunks = self._relay(turn, self._chunks(model, self._completion_request(turn)))
        try:
            first = await anext(chunks)
        except StopAsyncIteration:
            first = None
        return ChatStream(turn.session_key, turn.request_id, _prepend(first, chunks))

    # -- the conversation -------------------------------------------------------------------------

    def _model_of(self, client: LLMClient) -> ChatModel:
        model = self._models.get(client.provider)
        if model is None:
            raise ProviderMissing(client.provider)
        return model

    def _completion_request(self, turn: _Turn) -> CompletionRequest:
        client, request = turn.client, turn.request
        messages: list[Message] = [
            {"role": "system", "content": client.system_role_at(self._clock.now())}
        ]
        messages += _history_messages(request)
        messages += ({"role": m.role, "content": m.content} for m in request.messages)
        max_tokens = client.default_max_tokens
        if request.max_tokens is not None:
            max_tokens = min(max_tokens, request.max_tokens)
        return CompletionRequest(
            model=client.default_model,
            messages=messages,
            temperature=(
                client.default_temperature if request.temperature is None else request.temperature
            ),
            max_tokens=max_tokens,
            tools=self._tools.offered(client.functions) if client.functions else None,
        )

    # -- streaming --------------------------------------------------------------------------------

    async def _chunks(
        self, model: ChatModel, request: CompletionRequest
    ) -> AsyncIterator[CompletionChunk]:
        """The model's chunks, with the tool-call rounds run in between (their chunks are the
        platform's business, not the caller's); one summed usage chunk at the end."""
        offered = _tool_names(request.tools)
        messages = list(request.messages)
        usage: dict[str, Any] | None = None
        last: CompletionChunk | None = None
        for round_number in range(self._rounds + 1):
            final = round_number == self._rounds or not offered
            calls: dict[int, dict[str, Any]] = {}
            async for chunk in model.stream(msgspec.structs.replace(request, messages=messages)):
                last = chunk
                if not chunk.choices:
                    usage = _added(usage, chunk.usage)
                    continue
                if not final and _take_tool_calls(chunk, calls):
                    continue
                yield msgspec.structs.replace(chunk, usage=None)
            if final or not calls:
                break
            ordered = [calls[index] for index in sorted(calls)]
            messages.append({"role": "assistant", "content": None, "tool_calls": ordered})
            answers = await asyncio.gather(*(self._call(c, offered) for c in ordered))
            messages.extend(
                {"role": "tool", "tool_call_id": call["id"], "content": answer}
                for call, answer in zip(ordered, answers, strict=True)
            )
        if usage is not None and last is not None:
            yield CompletionChunk(
                id=last.id, created=last.created, model=last.model, choices=[], usage=usage
            )

    async def _call(self, call: dict[str, Any], offered: frozenset[str]) -> str:
        name = call["function"]["name"]
        if name not in offered:
            return error_text(f"the tool '{name}' was not offered")
        return await self._tools.call(name, call["function"]["arguments"])

    async def _relay(
        self, turn: _Turn, chunks: AsyncIterator[CompletionChunk]
    ) -> AsyncIterator[ReplyChunk]:
        """The chunks for the caller; the turn is recorded however the stream ends."""
        text: list[str] = []
        usage: dict[str, Any] | None = None
        status, failure = CLIENT_CLOSED, None
        try:
            async for chunk in chunks:
                if chunk.usage is not None:
                    usage = chunk.usage
                for choice in chunk.choices:
                    delta = choice.get("delta")
                    if isinstance(delta, dict) and isinstance(delta.get("content"), str):
                        text.append(delta["content"])
                yield ReplyChunk(
                    id=chunk.id,
                    object=chunk.object,
                    created=chunk.created,
                    model=chunk.model,
                    choices=chunk.choices,
                    usage=chunk.usage,
                    session_key=turn.session_key,
                    request_id=turn.request_id,
                )
            status = 200
        except UpstreamError as error:
            status, failure = error.status, error.message
            raise
        except Exception:
            status, failure = 500, "internal error"
            raise
        finally:
            answer = "".join(text)
            response: dict[str, Any] = {"content": answer, "usage": usage, "streamed": True}
            if failure is not None:
                response["error"] = failure
            self._record(turn, status, response, answer if status == 200 else None, usage)

    # -- recording --------------------------------------------------------------------------------

    def _record(
        self,
        turn: _Turn,
        status: int,
        response: dict[str, Any],
        answer: str | None = None,
        usage: dict[str, Any] | None = None,
    ) -> None:
        assert turn.client.id is not None
        now = self._clock.now()
        usage = usage or {}
        messages = [
            ChatMessage(role="user", content=_text(m.content), created_at=now)
            for m in turn.request.messages[-1:]
            if m.role == "user"
        ]
        if answer is not None:
            messages.append(ChatMessage(role="assistant", content=answer, created_at=now))
        record = ChatRequestRecord(
            llm_client_id=turn.client.id,
            request_id=turn.request_id,
            session_key=turn.session_key,
            mode=turn.mode.value,
            status_code=status,
            latency_ms=round((time.perf_counter() - turn.started) * 1000, 3),
            request=msgspec.to_builtins(turn.request),
            response=response,
            prompt_tokens=_count(usage.get("prompt_tokens")),
            completion_tokens=_count(usage.get("completion_tokens")),
            api_key_id=turn.api_key_id,
            created_at=now,
        )
        self._recorder.record(ChatTurn(record=record, messages=tuple(messages)))


# -- small helpers -------------------------------------------------------------------------------


def _history_messages(request: ChatRequest) -> list[Message]:
    """The UI's transcript as earlier turns; a trailing line that repeats the question is the
    question itself (chat UIs add it before sending) and is left out."""
    items = request.prompt_history
    last_user = next(
        (_text(m.content) for m in reversed(request.messages) if m.role == "user"), None
    )
    while items and items[-1].direction == "outgoing" and items[-1].message == last_user:
        items = items[:-1]
    return [
        {"role": "assistant" if item.direction == "incoming" else "user", "content": item.message}
        for item in items
        if item.message
    ]


def _text(content: str | list[dict[str, Any]]) -> str:
    if isinstance(content, str):
        return content
    texts = [part.get("text") for part in content if part.get("type") == "text"]
    return " ".join(t for t in texts if isinstance(t, str))


def _answer_text(completion: Completion) -> str:
    if not completion.choices:
        return ""
    message = completion.choices[0].get("message")
    content = message.get("content") if isinstance(message, dict) else None
    return content if isinstance(content, str) else ""


def _reply_record(completion: Completion) -> dict[str, Any]:
    return {
        "id": completion.id,
        "model": completion.model,
        "choices": completion.choices,
        "usage": completion.usage,
    }


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _tool_names(tools: list[dict[str, Any]] | None) -> frozenset[str]:
    return frozenset(
        tool["function"]["name"]
        for tool in tools or ()
        if isinstance(tool.get("function"), dict) and isinstance(tool["function"].get("name"), str)
    )


def _take_tool_calls(chunk: CompletionChunk, calls: dict[int, dict[str, Any]]) -> bool:
    """Collect the tool-call deltas of `chunk`; True when the chunk is about tool calls (the
    platform runs them: the caller never sees them)."""
    about_tools = False
    for choice in chunk.choices:
        delta = choice.get("delta")
        parts = delta.get("tool_calls") if isinstance(delta, dict) else None
        if isinstance(parts, list):
            about_tools = True
            for part in parts:
                if isinstance(part, dict):
                    _merge_call(calls, part)
        if choice.get("finish_reason") == "tool_calls":
            about_tools = True
    return about_tools


def _merge_call(calls: dict[int, dict[str, Any]], part: dict[str, Any]) -> None:
    index = part.get("index", 0)
    call = calls.setdefault(
        index if isinstance(index, int) else 0,
        {"id": "", "type": "function", "function": {"name": "", "arguments": ""}},
    )
    if isinstance(part.get("id"), str):
        call["id"] = part["id"]
    function = part.get("function")
    if isinstance(function, dict):
        if isinstance(function.get("name"), str):
            call["function"]["name"] += function["name"]
        if isinstance(function.get("arguments"), str):
            call["function"]["arguments"] += function["arguments"]


def _added(total: dict[str, Any] | None, more: dict[str, Any] | None) -> dict[str, Any] | None:
    if more is None:
        return total
    if total is None:
        return dict(more)
    summed = dict(total)
    for key, value in more.items():
        if _is_count(value) and _is_count(summed.get(key)):
            summed[key] += value
        else:
            summed.setdefault(key, value)
    return summed


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


async def _prepend(
    first: ReplyChunk | None, rest: AsyncIterator[ReplyChunk]
) -> AsyncIterator[ReplyChunk]:
    try:
        if first is not None:
            yield first
        async for chunk in rest:
            yield chunk
    finally:
        close = getattr(rest, "aclose", None)
        if close is not None:
            await close()


# -- the UI configuration and the sandbox --------------------------------------------------------


class ChatConfig(msgspec.Struct, kw_only=True):
    """What the chat page needs: the `app_*` settings, where to send turns, whether a key is
    required, and which face of the client this is (`mode`)."""

    name: str
    app_name: str
    app_assistant: str
    app_welcome_message: str
    app_example_prompts: list[str]
    app_placeholder: str
    app_info_url: str | None
    app_background_image_url: str | None
    app_logo_url: str | None
    app_file_attachment: bool
    url_llm_client: str
    url_chat_config: str
    default_url: str
    custom_url: str | None
    is_authentication_required: bool
    mode: str


def chat_config(
    client: LLMClient, mode: ClientMode, url_llm_client: str, url_chat_config: str
) -> ChatConfig:
    return ChatConfig(
        name=client.name,
        app_name=client.app_name,
        app_assistant=client.app_assistant,
        app_welcome_message=client.app_welcome_message,
        app_example_prompts=list(client.app_example_prompts),
        app_placeholder=client.app_placeholder,
        app_info_url=client.app_info_url,
        app_background_image_url=client.app_background_image_url,
        app_logo_url=client.app_logo_url,
        app_file_attachment=client.app_file_attachment,
        url_llm_client=url_llm_client,
        url_chat_config=url_chat_config,
        default_url=client.default_url,
        custom_url=client.custom_url,
        is_authentication_required=client.is_authentication_required,
        mode=mode.value,
    )


class LoadSandboxClient:
    """The client for its sandbox: the owner (or an admin of the account) only, deployed or not."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal, client_id: int) -> LLMClient:
        return await load_visible(self._uow, principal, client_id)

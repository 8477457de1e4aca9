"""A client's settings form, sandbox, API keys, history and usage."""

from __future__ import annotations

from typing import Annotated, Any

from dishka.integrations.litestar import FromDishka, inject
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody
from litestar.response import Template
from litestar.utils.scope.state import ScopeState

from smarter.application.api_keys import CreateAPIKey, ListAPIKeys, RevokeAPIKey
from smarter.application.chat.formats import ChatConfig, ChatRequest
from smarter.application.chat.sandbox import AnswerSandboxChat, LoadSandboxClient
from smarter.application.history import (
    GetConversation,
    HistoryQuery,
    ListChatRequests,
    ListConversations,
)
from smarter.application.llm_clients import GetLLMClient, UpdateLLMClient
from smarter.application.usage import ClientUsage
from smarter.application.views import client_view, secret_view
from smarter.domain.accounts import Principal
from smarter.domain.errors import Conflict, InvalidValue
from smarter.entrypoints.console.charts import usage_chart
from smarter.entrypoints.console.client_form import (
    FIELDS,
    SECTIONS,
    changes_from,
    form_values,
    spec_errors,
)
from smarter.entrypoints.console.pages import go, render
from smarter.entrypoints.http.chat_page import CONTENT_SECURITY_POLICY, PAGE_HEADERS, render_page
from smarter.entrypoints.http.sandbox import sandbox_config, sandbox_reply

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
HISTORY_PAGE = 25
# The chat page inside the console's own frame (and only there).
FRAMED_CHAT_HEADERS = {
    **PAGE_HEADERS,
    "Content-Security-Policy": CONTENT_SECURITY_POLICY.replace(
        "frame-ancestors 'none'", "frame-ancestors 'self'"
    ),
}


@get("/clients/{client_id:int}/settings", include_in_schema=False)
@inject
async def settings_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    client_id: FromPath[int],
    get_client: FromDishka[GetLLMClient],
) -> Template:
    client = await get_client(principal, client_id)
    return render(
        request,
        "client_settings.html",
        client=client_view(client),
        sections=SECTIONS,
        values=form_values(client.spec),
        errors={},
        tab="settings",
    )


@post("/clients/{client_id:int}/settings", include_in_schema=False)
@inject
async def save_settings(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    client_id: FromPath[int],
    data: Form,
    get_client: FromDishka[GetLLMClient],
    update: FromDishka[UpdateLLMClient],
) -> Response[Any]:
    client = await get_client(principal, client_id)
    changes, errors = changes_from(data)
    errors = {**spec_errors(client.spec, changes), **errors}
    if not errors:
        try:
            await update(principal, client_id, changes)
            return go(f"/clients/{client_id}/settings", "saved")
        except (InvalidValue, Conflict) as error:
            field = error.field if isinstance(error, InvalidValue) else "name"
            errors[field if field in FIELDS else "name"] = getattr(error, "reason", error.message)
    return render(
        request,
        "client_settings.html",
        422,
        client=client_view(client),
        sections=SECTIONS,
        values={**form_values(client.spec), **data},
        errors=errors,
        tab="settings",
    )


# -- sandbox -------------------------------------------------------------------------------


@get("/clients/{client_id:int}/sandbox", include_in_schema=False)
@inject
async def sandbox_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    client_id: FromPath[int],
    get_client: FromDishka[GetLLMClient],
) -> Template:
    client = await get_client(principal, client_id)
    return render(request, "client_sandbox.html", client=client_view(client), tab="sandbox")


@get("/clients/{client_id:int}/sandbox/chat", include_in_schema=False)
@inject
async def sandbox_chat(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    client_id: FromPath[int],
    load_client: FromDishka[LoadSandboxClient],
) -> Response[str]:
    """The chat page, talking to the two routes below with the session and a CSRF token."""
    await load_client(principal, client_id)
    base = f"/clients/{client_id}/sandbox"
    token = str(ScopeState.from_scope(request.scope).csrf_token or "")
    return render_page(
        "console", f"{base}/config", f"{base}/prompt", token, headers=FRAMED_CHAT_HEADERS
    )


@get("/clients/{client_id:int}/sandbox/config", include_in_schema=False)
@inject
async def sandbox_config_route(
    principal: NamedDependency[Principal],
    client_id: FromPath[int],
    load_client: FromDishka[LoadSandboxClient],
) -> ChatConfig:
    return sandbox_config(await load_client(principal, client_id))


@post("/clients/{client_id:int}/sandbox/prompt", status_code=200, include_in_schema=False)
@inject
async def sandbox_prompt(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    client_id: FromPath[int],
    data: JSONBody[ChatRequest],
    answer_chat: FromDishka[AnswerSandboxChat],
) -> Response[Any]:
    """The API's sandbox route, with the session instead of a token."""
    return await sandbox_reply(request, principal, client_id, data, answer_chat)


# -- API keys ------------------------------------------------------------------------------


async def _keys_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    client_id: FromPath[int],
    get_client: GetLLMClient,
    list_keys: ListAPIKeys,
    status_code: int = 200,
    **context: Any,
) -> Template:
    client = await get_client(principal, client_id)
    keys = [secret_view(key) for key in await list_keys(principal, client_id)]
    keys.sort(key=lambda key: (not key.active, -key.id))
    return render(
        request,
        "client_keys.html",
        status_code,
        client=client_view(client),
        keys=keys,
        tab="keys",
        **context,
    )


@get("/clients/{client_id:int}/keys", include_in_schema=False)
@inject
async def keys_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    client_id: FromPath[int],
    get_client: FromDishka[GetLLMClient],
    list_keys: FromDishka[ListAPIKeys],
) -> Template:
    return await _keys_page(request, principal, client_id, get_client, list_keys)


@post("/clients/{client_id:int}/keys", include_in_schema=False)
@inject
async def create_key(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    client_id: FromPath[int],
    data: Form,
    create: FromDishka[CreateAPIKey],
    get_client: FromDishka[GetLLMClient],
    list_keys: FromDishka[ListAPIKeys],
) -> Template:
    name = data.get("name", "").strip()[:128] or "console"
    created = await create(principal, client_id, name)
    return await _keys_page(
        request, principal, client_id, get_client, list_keys, 201, created=created.plaintext
    )


@post("/clients/{client_id:int}/keys/{key_id:int}/revoke", include_in_schema=False)
@inject
async def revoke_key(
    principal: NamedDependency[Principal],
    client_id: FromPath[int],
    key_id: FromPath[int],
    revoke: FromDishka[RevokeAPIKey],
) -> Response[Any]:
    await revoke(principal, client_id, key_id)
    return go(f"/clients/{client_id}/keys", "revoked")


# -- history and usage ---------------------------------------------------------------------


@get("/clients/{client_id:int}/history", include_in_schema=False)
@inject
async def history_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    client_id: FromPath[int],
    get_client: FromDishka[GetLLMClient],
    list_requests: FromDishka[ListChatRequests],
    list_conversations: FromDishka[ListConversations],
    before: int | None = None,
    chats_before: int | None = None,
) -> Template:
    client = await get_client(principal, client_id)
    requests = await list_requests(
        principal, client_id, HistoryQuery(limit=HISTORY_PAGE, before=before)
    )
    chats = await list_conversations(
        principal, client_id, HistoryQuery(limit=HISTORY_PAGE, before=chats_before)
    )
    return render(
        request,
        "client_history.html",
        client=client_view(client),
        requests=requests,
        chats=chats,
        tab="history",
    )


@get("/clients/{client_id:int}/history/conversations/{session_key:str}", include_in_schema=False)
@inject
async def conversation_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    client_id: FromPath[int],
    session_key: FromPath[str],
    get_client: FromDishka[GetLLMClient],
    get_conversation: FromDishka[GetConversation],
) -> Template:
    client = await get_client(principal, client_id)
    conversation = await get_conversation(principal, client_id, session_key)
    return render(
        request,
        "conversation.html",
        client=client_view(client),
        conversation=conversation,
        tab="history",
    )


@get("/clients/{client_id:int}/usage", include_in_schema=False)
@inject
async def usage_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    client_id: FromPath[int],
    get_client: FromDishka[GetLLMClient],
    usage: FromDishka[ClientUsage],
) -> Template:
    client = await get_client(principal, client_id)
    report = await usage(principal, client_id)
    return render(
        request,
        "client_usage.html",
        client=client_view(client),
        report=report,
        requests_chart=usage_chart(report.days, "requests"),
        tokens_chart=usage_chart(report.days, "tokens"),
        tab="usage",
    )


ROUTES = [
    settings_page,
    save_settings,
    sandbox_page,
    sandbox_chat,
    sandbox_config_route,
    sandbox_prompt,
    keys_page,
    create_key,
    revoke_key,
    history_page,
    conversation_page,
    usage_page,
]

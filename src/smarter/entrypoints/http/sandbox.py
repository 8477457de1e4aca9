"""The sandbox: `/api/v1/llm-clients/{id}/prompt/` and `/config/` on console and API hosts.

The owner (or an admin of the account) chats with a client before it is deployed, with the
console token; the body and the answer are those of `POST /llm-client/` on a client host,
streaming included, and the turns are recorded in mode "sandbox".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema
from litestar.params import JSONBody

from smarter.application.chat.errors import ProviderMissing
from smarter.application.chat.formats import ChatConfig, ChatRequest, chat_config
from smarter.application.chat.sandbox import AnswerSandboxChat, LoadSandboxClient
from smarter.application.llm import UpstreamError
from smarter.domain.accounts import Principal
from smarter.domain.llm_client import ClientMode, LLMClient
from smarter.entrypoints.http.chat_replies import (
    EVENT_STREAM,
    accepts_stream,
    failure,
    reply_response,
)
from smarter.entrypoints.http.errors import error_response, error_responses
from smarter.entrypoints.http.observed import platform_request_id
from smarter.entrypoints.http.params import ObjectId

# One server-sent event of the stream (OpenAPI describes a stream by its events).
_EVENT = Schema(
    type=OpenAPIType.OBJECT,
    required=["data"],
    properties={
        "data": Schema(
            type=OpenAPIType.STRING,
            description="A `chat.completion.chunk` as JSON; the last event's is `[DONE]`",
        ),
        "event": Schema(type=OpenAPIType.STRING),
        "id": Schema(type=OpenAPIType.STRING),
    },
)


@dataclass
class _PromptOperation(Operation):
    """The answer is JSON, or a stream of server-sent events when asked for one."""

    def __post_init__(self) -> None:
        answer = (self.responses or {}).get("200")
        if isinstance(answer, OpenAPIResponse) and answer.content is not None:
            answer.content[EVENT_STREAM] = OpenAPIMediaType(schema=_EVENT)


async def sandbox_reply(
    request: Request[Any, Any, Any],
    principal: Principal,
    client_id: int,
    data: ChatRequest,
    answer_chat: AnswerSandboxChat,
) -> Response[Any]:
    """A sandbox turn's answer (also the web console's, which signs in with a session)."""
    stream = data.stream or accepts_stream(request)
    try:
        request_id = platform_request_id(request.scope)
        reply = await answer_chat(principal, client_id, data, stream=stream, request_id=request_id)
        return reply_response(reply)
    except ProviderMissing as error:
        # The owner is asking, and can fix it: a conflict with the client's state, not an
        # outage to retry (client hosts, where nobody can, still answer 503).
        return error_response(409, f"{error.message}; change the client's provider", "provider")
    except UpstreamError as error:
        return failure(error)


def sandbox_config(client: LLMClient) -> ChatConfig:
    return chat_config(
        client,
        ClientMode.SANDBOX,
        url_llm_client=client.url_llm_client,
        url_chat_config=client.url_chat_config,
    )


class SandboxController(Controller):
    path = "/api/v1/llm-clients/{client_id:str}"
    tags = ["llm-clients"]

    @post(
        "/prompt/",
        status_code=200,
        summary="Chat with a client in its sandbox (the body of POST /llm-client/)",
        description=(
            "Answers a ChatCompletion plus `session_key` and `request_id`; with"
            ' `"stream": true` (or `Accept: text/event-stream`) server-sent chunks.'
        ),
        responses=error_responses(400, 401, 404, 409, 413),
        operation_class=_PromptOperation,
    )
    @inject
    async def prompt(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        client_id: ObjectId,
        data: JSONBody[ChatRequest],
        answer_chat: FromDishka[AnswerSandboxChat],
    ) -> Response[Any]:
        return await sandbox_reply(request, principal, client_id, data, answer_chat)

    @get(
        "/config/",
        summary="The chat page's configuration of a client in its sandbox",
        responses=error_responses(400, 401, 404),
    )
    @inject
    async def config(
        self,
        principal: NamedDependency[Principal],
        client_id: ObjectId,
        load_client: FromDishka[LoadSandboxClient],
    ) -> ChatConfig:
        return sandbox_config(await load_client(principal, client_id))

"""`/api/v1/llm-clients/{client_id}/requests/` and `/conversations/`: what a client answered.

Both lists page backwards: pass the previous page's `next_before` as `before`.
"""

from __future__ import annotations

from typing import Annotated

from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter

from smarter.application.history import (
    DEFAULT_PAGE_SIZE,
    MAX_SESSION_KEY_LENGTH,
    ConversationPage,
    GetConversation,
    HistoryQuery,
    ListChatRequests,
    ListConversations,
    RequestPage,
)
from smarter.application.ports import MAX_PAGE_SIZE
from smarter.domain.accounts import Principal
from smarter.domain.history import Conversation
from smarter.entrypoints.http.errors import error_responses
from smarter.entrypoints.http.params import MAX_ID, ObjectId, exact_bounds

Limit = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE, description="Items per page")]
Before = Annotated[
    int | None,
    QueryParameter(
        ge=1,
        le=MAX_ID,
        description="The previous page's `next_before`",
        schema_extra=exact_bounds(1, MAX_ID),
    ),
]
SessionKey = Annotated[
    str,
    PathParameter(min_length=1, max_length=MAX_SESSION_KEY_LENGTH, description="A session key"),
]


class HistoryController(Controller):
    path = "/api/v1/llm-clients/{client_id:str}"
    tags = ["history"]

    @get(
        "/requests/",
        summary="A client's chat requests, newest first",
        responses=error_responses(400, 401, 404),
    )
    @inject
    async def list_requests(
        self,
        principal: NamedDependency[Principal],
        client_id: ObjectId,
        list_requests: FromDishka[ListChatRequests],
        limit: Limit = DEFAULT_PAGE_SIZE,
        before: Before = None,
    ) -> RequestPage:
        return await list_requests(principal, client_id, HistoryQuery(limit=limit, before=before))

    @get(
        "/conversations/",
        summary="A client's conversations, last active first",
        responses=error_responses(400, 401, 404),
    )
    @inject
    async def list_conversations(
        self,
        principal: NamedDependency[Principal],
        client_id: ObjectId,
        list_conversations: FromDishka[ListConversations],
        limit: Limit = DEFAULT_PAGE_SIZE,
        before: Before = None,
    ) -> ConversationPage:
        query = HistoryQuery(limit=limit, before=before)
        return await list_conversations(principal, client_id, query)

    @get(
        "/conversations/{session_key:str}/",
        summary="One conversation with its messages, oldest first",
        responses=error_responses(400, 401, 404),
    )
    @inject
    async def get_conversation(
        self,
        principal: NamedDependency[Principal],
        client_id: ObjectId,
        session_key: SessionKey,
        get_conversation: FromDishka[GetConversation],
    ) -> Conversation:
        return await get_conversation(principal, client_id, session_key)

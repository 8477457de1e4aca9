"""What a client's owner may read back: its request history and its conversations.

Lists page backwards with a cursor: `before` is the id of the last item of the previous page,
and a page says where the next one starts (`next_before`, None on the last page). A cursor
never skips or repeats an item when new ones arrive meanwhile, unlike an offset.
"""

from __future__ import annotations

import msgspec

from smarter.application.llm_clients import load_visible
from smarter.application.ports import MAX_PAGE_SIZE, ConversationSummary, UnitOfWork
from smarter.domain.accounts import Principal
from smarter.domain.errors import InvalidValue, NotFound
from smarter.domain.history import ChatRequestRecord, Conversation

DEFAULT_PAGE_SIZE = 50
MAX_SESSION_KEY_LENGTH = 128


class HistoryQuery(msgspec.Struct, frozen=True, kw_only=True):
    limit: int = DEFAULT_PAGE_SIZE
    before: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_PAGE_SIZE:
            raise InvalidValue("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
        if self.before is not None and self.before < 1:
            raise InvalidValue("before", "must be an id (1 or more)")


class RequestPage(msgspec.Struct, kw_only=True):
    items: list[ChatRequestRecord]
    limit: int
    next_before: int | None


class ConversationPage(msgspec.Struct, kw_only=True):
    items: list[ConversationSummary]
    limit: int
    next_before: int | None


def _next_before(ids: list[int | None], limit: int) -> int | None:
    """Where the next page starts; the port was asked for one item more than the page holds."""
    return ids[limit - 1] if len(ids) > limit else None


class ListChatRequests:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(
        self, principal: Principal, client_id: int, query: HistoryQuery
    ) -> RequestPage:
        await load_visible(self._uow, principal, client_id)
        records = await self._uow.history.list(client_id, query.limit + 1, query.before)
        return RequestPage(
            items=records[: query.limit],
            limit=query.limit,
            next_before=_next_before([r.id for r in records], query.limit),
        )


class ListConversations:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(
        self, principal: Principal, client_id: int, query: HistoryQuery
    ) -> ConversationPage:
        await load_visible(self._uow, principal, client_id)
        chats = await self._uow.conversations.list(client_id, query.limit + 1, query.before)
        return ConversationPage(
            items=chats[: query.limit],
            limit=query.limit,
            next_before=_next_before([c.id for c in chats], query.limit),
        )


class GetConversation:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(
        self, principal: Principal, client_id: int, session_key: str
    ) -> Conversation:
        await load_visible(self._uow, principal, client_id)
        conversation = None
        if 0 < len(session_key) <= MAX_SESSION_KEY_LENGTH:
            conversation = await self._uow.conversations.get(client_id, session_key)
        if conversation is None:
            raise NotFound(f"no conversation '{session_key[:MAX_SESSION_KEY_LENGTH]}'")
        return conversation

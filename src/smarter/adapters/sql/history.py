"""What the chat endpoint records: request history and conversations, and their lists."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import ColumnElement, Integer, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from smarter.adapters.sql.integrity import guarded_write
from smarter.adapters.sql.rows import ChatMessageRow, ChatRequestRow, ChatRow, utc_now
from smarter.application.ports import ConversationSummary
from smarter.domain.errors import Conflict
from smarter.domain.history import ChatMessage, ChatRequestRecord, Conversation, DailyUsage


def _record(row: ChatRequestRow) -> ChatRequestRecord:
    return ChatRequestRecord(
        llm_client_id=row.llm_client_id,
        request_id=row.request_id,
        session_key=row.session_key,
        mode=row.mode,
        status_code=row.status_code,
        latency_ms=row.latency_ms,
        request=row.request,
        response=row.response,
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        api_key_id=row.api_key_id,
        created_at=row.created_at,
        id=row.id,
    )


def _older(
    at: InstrumentedAttribute[datetime],
    row_id: InstrumentedAttribute[int],
    cursor_at: datetime,
    cursor_id: int,
) -> ColumnElement[bool]:
    """Rows after the cursor in newest-first order: (at, id) < (cursor_at, cursor_id)."""
    return or_(at < cursor_at, and_(at == cursor_at, row_id < cursor_id))


class SqlRequestHistory:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def daily_usage(self, client_id: int, since: datetime) -> list[DailyUsage]:
        """One grouped query over the (llm_client_id, created_at) index."""
        at = ChatRequestRow.created_at
        dialect = self._session.get_bind().dialect.name
        # Times are stored in UTC; PostgreSQL's date() would use the session's time zone.
        day = func.date(func.timezone("UTC", at)) if dialect == "postgresql" else func.date(at)
        failed = case((ChatRequestRow.status_code >= 400, 1), else_=0)
        rows = await self._session.execute(
            select(
                day.label("day"),
                func.count(ChatRequestRow.id),
                func.sum(failed, type_=Integer),
                func.sum(ChatRequestRow.prompt_tokens, type_=Integer),
                func.sum(ChatRequestRow.completion_tokens, type_=Integer),
            )
            .where(ChatRequestRow.llm_client_id == client_id, at >= since)
            .group_by(day)
            .order_by(day)
        )
        return [
            DailyUsage(
                day=value if isinstance(value, date) else date.fromisoformat(str(value)),
                requests=requests,
                errors=errors or 0,
                prompt_tokens=prompt or 0,
                completion_tokens=completion or 0,
            )
            for value, requests, errors, prompt, completion in rows
        ]

    async def add(self, record: ChatRequestRecord) -> ChatRequestRecord:
        row = ChatRequestRow(
            llm_client_id=record.llm_client_id,
            request_id=record.request_id,
            session_key=record.session_key,
            mode=record.mode,
            status_code=record.status_code,
            latency_ms=record.latency_ms,
            request=record.request,
            response=record.response,
            prompt_tokens=record.prompt_tokens,
            completion_tokens=record.completion_tokens,
            api_key_id=record.api_key_id,
            created_at=record.created_at or utc_now(),
        )
        async with guarded_write(
            self._session,
            f"request {record.request_id} is recorded already",
            f"LLMClient {record.llm_client_id}",
        ):
            self._session.add(row)
        record.id, record.created_at = row.id, row.created_at
        return record

    async def list(
        self, client_id: int, limit: int = 50, before: int | None = None
    ) -> list[ChatRequestRecord]:
        """The client's requests, newest first; `before` (a record id) pages back in time.

        The cursor is the pair (created_at, id) of that record, so that requests recorded at
        the same instant are neither skipped nor repeated between pages.
        """
        query = select(ChatRequestRow).where(ChatRequestRow.llm_client_id == client_id)
        if before is not None:
            cursor = await self._session.get(ChatRequestRow, before)
            if cursor is None or cursor.llm_client_id != client_id:
                return []
            query = query.where(
                _older(ChatRequestRow.created_at, ChatRequestRow.id, cursor.created_at, cursor.id)
            )
        rows = await self._session.scalars(
            query.order_by(ChatRequestRow.created_at.desc(), ChatRequestRow.id.desc()).limit(limit)
        )
        return [_record(row) for row in rows]


class SqlConversations:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, client_id: int, session_key: str) -> Conversation | None:
        """The conversation with its messages, oldest first, or None."""
        chat = await self._chat(client_id, session_key)
        if chat is None:
            return None
        rows = await self._session.scalars(
            select(ChatMessageRow)
            .where(ChatMessageRow.chat_id == chat.id)
            .order_by(ChatMessageRow.id)
        )
        return Conversation(
            llm_client_id=chat.llm_client_id,
            session_key=chat.session_key,
            messages=[
                ChatMessage(role=row.role, content=row.content, created_at=row.created_at)
                for row in rows
            ],
            created_at=chat.created_at,
            updated_at=chat.updated_at,
            id=chat.id,
        )

    async def list(
        self, client_id: int, limit: int = 50, before: int | None = None
    ) -> list[ConversationSummary]:
        """The client's conversations, last active first; `before` (a conversation id) pages."""
        count = (
            select(func.count(ChatMessageRow.id))
            .where(ChatMessageRow.chat_id == ChatRow.id)
            .scalar_subquery()
        )
        query = select(ChatRow, count).where(ChatRow.llm_client_id == client_id)
        if before is not None:
            cursor = await self._session.get(ChatRow, before)
            if cursor is None or cursor.llm_client_id != client_id:
                return []
            query = query.where(
                _older(ChatRow.updated_at, ChatRow.id, cursor.updated_at, cursor.id)
            )
        rows = await self._session.execute(
            query.order_by(ChatRow.updated_at.desc(), ChatRow.id.desc()).limit(limit)
        )
        return [
            ConversationSummary(
                id=chat.id,
                session_key=chat.session_key,
                messages=messages,
                created_at=chat.created_at,
                updated_at=chat.updated_at,
            )
            for chat, messages in rows.tuples()
        ]

    async def append(
        self,
        client_id: int,
        session_key: str,
        messages: Sequence[ChatMessage],
        at: datetime | None = None,
    ) -> int:
        """Add `messages` to the conversation (created on first use); returns its id."""
        now = at or utc_now()
        chat = await self._chat(client_id, session_key)
        if chat is None:
            chat = ChatRow(
                llm_client_id=client_id, session_key=session_key, created_at=now, updated_at=now
            )
            try:
                async with guarded_write(self._session, "taken", f"LLMClient {client_id}"):
                    self._session.add(chat)
            except Conflict:  # another request started this conversation a moment ago
                chat = await self._chat(client_id, session_key)
                if chat is None:
                    raise
        chat.updated_at = now
        self._session.add_all(
            ChatMessageRow(
                chat_id=chat.id,
                role=message.role,
                content=message.content,
                created_at=message.created_at or now,
            )
            for message in messages
        )
        await self._session.flush()
        return chat.id

    async def _chat(self, client_id: int, session_key: str) -> ChatRow | None:
        return await self._session.scalar(
            select(ChatRow).where(
                ChatRow.llm_client_id == client_id, ChatRow.session_key == session_key
            )
        )

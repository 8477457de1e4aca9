"""The API keys a client may require in `x-api-key`, stored as hashes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from smarter.adapters.sql.integrity import guarded_write
from smarter.adapters.sql.rows import LLMClientAPIKeyRow
from smarter.adapters.sql.secret_rows import secret_columns, secret_fields
from smarter.adapters.sql.touched import note_client
from smarter.domain.accounts import LLMClientAPIKey
from smarter.domain.errors import NotFound
from smarter.domain.secrets import same_digest


def _key(row: LLMClientAPIKeyRow) -> LLMClientAPIKey:
    return LLMClientAPIKey(llm_client_id=row.llm_client_id, **secret_fields(row))


class SqlAPIKeys:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, key: LLMClientAPIKey) -> LLMClientAPIKey:
        row = LLMClientAPIKeyRow(llm_client_id=key.llm_client_id, **secret_columns(key))
        async with guarded_write(
            self._session, "an API key with this digest exists", f"LLMClient {key.llm_client_id}"
        ):
            self._session.add(row)
        key.id, key.created_at = row.id, row.created_at
        await note_client(self._session, key.llm_client_id)
        return key

    async def get(self, client_id: int, key_id: int) -> LLMClientAPIKey:
        row = await self._session.get(LLMClientAPIKeyRow, key_id, populate_existing=True)
        if row is None or row.llm_client_id != client_id:
            raise NotFound(f"no API key {key_id}")
        return _key(row)

    async def list(self, client_id: int) -> list[LLMClientAPIKey]:
        rows = await self._session.scalars(
            select(LLMClientAPIKeyRow)
            .where(LLMClientAPIKeyRow.llm_client_id == client_id)
            .order_by(LLMClientAPIKeyRow.id)
        )
        return [_key(row) for row in rows]

    async def save(self, key: LLMClientAPIKey) -> LLMClientAPIKey:
        if key.id is None:
            raise NotFound("the API key was never stored")
        async with guarded_write(self._session, "an API key with this digest exists"):
            row = await self._session.get(LLMClientAPIKeyRow, key.id)
            if row is None or row.llm_client_id != key.llm_client_id:
                raise NotFound(f"no API key {key.id}")
            row.name = key.name
            row.digest = key.digest
            row.display_prefix = key.display_prefix
            row.revoked_at = key.revoked_at
        await note_client(self._session, key.llm_client_id)
        return key

    async def find_active(self, client_id: int, digest: str) -> LLMClientAPIKey | None:
        """The client's unrevoked key with this digest (for the chat endpoint), or None."""
        row = await self._session.scalar(
            select(LLMClientAPIKeyRow).where(
                LLMClientAPIKeyRow.digest == digest,
                LLMClientAPIKeyRow.llm_client_id == client_id,
                LLMClientAPIKeyRow.revoked_at.is_(None),
            )
        )
        if row is None or not same_digest(row.digest, digest):
            return None
        return _key(row)

    async def active_digests(self, client_id: int) -> dict[str, int]:
        """The digests of the client's unrevoked keys, with their ids."""
        rows = await self._session.execute(
            select(LLMClientAPIKeyRow.digest, LLMClientAPIKeyRow.id).where(
                LLMClientAPIKeyRow.llm_client_id == client_id,
                LLMClientAPIKeyRow.revoked_at.is_(None),
            )
        )
        return {digest: key_id for digest, key_id in rows.tuples()}

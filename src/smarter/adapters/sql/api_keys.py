"""The API keys a client may require in `x-api-key`, stored as hashes."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from smarter.adapters.sql.integrity import guarded_write
from smarter.adapters.sql.repositories import APIKeyRows, translates_errors
from smarter.adapters.sql.rows import LLMClientAPIKeyRow
from smarter.adapters.sql.secret_rows import secret_columns, secret_fields
from smarter.adapters.sql.touched import note_client
from smarter.domain.accounts import LLMClientAPIKey
from smarter.domain.errors import NotFound
from smarter.domain.secrets import same_digest

_TAKEN = "an API key with this digest exists"


def _key(row: LLMClientAPIKeyRow) -> LLMClientAPIKey:
    return LLMClientAPIKey(llm_client_id=row.llm_client_id, **secret_fields(row))


@translates_errors
class SqlAPIKeys:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._rows = APIKeyRows(session)

    async def add(self, key: LLMClientAPIKey) -> LLMClientAPIKey:
        row = LLMClientAPIKeyRow(llm_client_id=key.llm_client_id, **secret_columns(key))
        async with guarded_write(self._session, _TAKEN, f"LLMClient {key.llm_client_id}"):
            await self._rows.add(row)
        key.id, key.created_at = row.id, row.created_at
        await note_client(self._session, key.llm_client_id)
        return key

    async def get(self, client_id: int, key_id: int) -> LLMClientAPIKey:
        row = await self._rows.get_one(
            LLMClientAPIKeyRow.id == key_id,
            LLMClientAPIKeyRow.llm_client_id == client_id,
            error_messages={"not_found": f"no API key {key_id}"},
            execution_options={"populate_existing": True},  # as stored now, even if loaded
        )
        return _key(row)

    async def list(self, client_id: int) -> list[LLMClientAPIKey]:
        rows = await self._rows.get_many(
            LLMClientAPIKeyRow.llm_client_id == client_id, order_by=LLMClientAPIKeyRow.id.asc()
        )
        return [_key(row) for row in rows]

    async def save(self, key: LLMClientAPIKey) -> LLMClientAPIKey:
        if key.id is None:
            raise NotFound("the API key was never stored")
        async with guarded_write(self._session, _TAKEN):
            row = await self._rows.get_one(
                LLMClientAPIKeyRow.id == key.id,
                LLMClientAPIKeyRow.llm_client_id == key.llm_client_id,
                error_messages={"not_found": f"no API key {key.id}"},
            )
            row.name = key.name
            row.digest = key.digest
            row.display_prefix = key.display_prefix
            row.revoked_at = key.revoked_at
        await note_client(self._session, key.llm_client_id)
        return key

    async def find_active(self, client_id: int, digest: str) -> LLMClientAPIKey | None:
        """The client's unrevoked key with this digest (for the chat endpoint), or None."""
        row = await self._rows.get_one_or_none(
            LLMClientAPIKeyRow.digest == digest,
            LLMClientAPIKeyRow.llm_client_id == client_id,
            LLMClientAPIKeyRow.revoked_at.is_(None),
        )
        if row is None or not same_digest(row.digest, digest):
            return None
        return _key(row)

    async def active_digests(self, client_id: int) -> dict[str, int]:
        """The digests of the client's unrevoked keys, with their ids."""
        rows = await self._rows.get_many(
            LLMClientAPIKeyRow.llm_client_id == client_id, LLMClientAPIKeyRow.revoked_at.is_(None)
        )
        return {row.digest: row.id for row in rows}

"""API keys a client may require on its own hosts."""

from __future__ import annotations

import msgspec

from smarter.application.llm_clients import load_visible
from smarter.application.ports import Clock, UnitOfWork
from smarter.domain.accounts import LLMClientAPIKey, Principal
from smarter.domain.secrets import new_secret


class CreatedAPIKey(msgspec.Struct, kw_only=True):
    """A key as created: the plaintext is shown this once and never again."""

    key: LLMClientAPIKey
    plaintext: str


class CreateAPIKey:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def __call__(self, principal: Principal, client_id: int, name: str) -> CreatedAPIKey:
        client = await load_visible(self._uow, principal, client_id)
        assert client.id is not None
        secret = new_secret("key")
        key = await self._uow.api_keys.add(
            LLMClientAPIKey(
                llm_client_id=client.id,
                name=name,
                digest=secret.digest,
                display_prefix=secret.display_prefix,
                created_at=self._clock.now(),
            )
        )
        await self._uow.commit()
        return CreatedAPIKey(key=key, plaintext=secret.plaintext)


class ListAPIKeys:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal, client_id: int) -> list[LLMClientAPIKey]:
        await load_visible(self._uow, principal, client_id)
        return await self._uow.api_keys.list(client_id)


class RevokeAPIKey:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def __call__(self, principal: Principal, client_id: int, key_id: int) -> LLMClientAPIKey:
        await load_visible(self._uow, principal, client_id)
        key = await self._uow.api_keys.get(client_id, key_id)
        if key.revoked_at is None:
            key.revoked_at = self._clock.now()
            key = await self._uow.api_keys.save(key)
            await self._uow.commit()
        return key

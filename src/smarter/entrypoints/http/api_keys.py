"""`/api/v1/llm-clients/{client_id}/api-keys/`: the keys a client may require (`x-api-key`)."""

from __future__ import annotations

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from smarter.application.api_keys import CreateAPIKey, ListAPIKeys, RevokeAPIKey
from smarter.application.views import SecretView, secret_view
from smarter.domain.accounts import Principal
from smarter.entrypoints.http.errors import error_responses
from smarter.entrypoints.http.params import ObjectId, SecretName


class NewAPIKey(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: SecretName


class CreatedAPIKeyView(SecretView, kw_only=True):
    """A new key: `api_key` is its plaintext, shown this once and never again."""

    api_key: str


class APIKeysController(Controller):
    path = "/api/v1/llm-clients/{client_id:str}/api-keys"
    tags = ["api-keys"]

    @get(
        "/",
        summary="List a client's API keys (prefixes only)",
        responses=error_responses(400, 401, 404),
    )
    @inject
    async def list_keys(
        self,
        principal: NamedDependency[Principal],
        client_id: ObjectId,
        list_keys: FromDishka[ListAPIKeys],
    ) -> list[SecretView]:
        return [secret_view(key) for key in await list_keys(principal, client_id)]

    @post(
        "/",
        summary="Create an API key; returns the plaintext once",
        responses=error_responses(400, 401, 404, 413),
    )
    @inject
    async def create_key(
        self,
        principal: NamedDependency[Principal],
        client_id: ObjectId,
        data: JSONBody[NewAPIKey],
        create_key: FromDishka[CreateAPIKey],
    ) -> CreatedAPIKeyView:
        created = await create_key(principal, client_id, data.name)
        return CreatedAPIKeyView(
            **msgspec.structs.asdict(secret_view(created.key)), api_key=created.plaintext
        )

    @delete(
        "/{key_id:str}/",
        status_code=200,
        summary="Revoke an API key",
        responses=error_responses(400, 401, 404),
    )
    @inject
    async def revoke_key(
        self,
        principal: NamedDependency[Principal],
        client_id: ObjectId,
        key_id: ObjectId,
        revoke_key: FromDishka[RevokeAPIKey],
    ) -> SecretView:
        return secret_view(await revoke_key(principal, client_id, key_id))

"""API keys a client may require: shown once, stored hashed, listed, revoked."""

from __future__ import annotations

import msgspec
import pytest

from smarter.application.api_keys import CreateAPIKey, ListAPIKeys, RevokeAPIKey
from smarter.application.llm_clients import GetLLMClient
from smarter.domain.errors import NotFound
from smarter.domain.secrets import DISPLAY_PREFIX_LENGTH, hash_secret
from tests.unit.application.conftest import World


async def test_a_new_key_is_returned_once_in_plaintext_and_only_its_hash_is_stored(
    world: World,
) -> None:
    client_id = await world.create_client(world.user)

    created = await CreateAPIKey(world.uow, world.clock)(world.user, client_id, "website")

    plaintext = created.plaintext
    assert plaintext.startswith("smt_key_")
    assert created.key.id is not None
    stored = world.uow.api_keys.rows[created.key.id]
    assert stored.digest != plaintext
    assert stored.digest == hash_secret(plaintext)
    assert stored.display_prefix == plaintext[:DISPLAY_PREFIX_LENGTH]
    assert (stored.llm_client_id, stored.name) == (client_id, "website")
    assert stored.created_at == world.clock.now()
    assert stored.is_active
    assert plaintext not in msgspec.json.encode(stored).decode()
    assert world.uow.commits == 2


async def test_two_keys_never_share_a_plaintext(world: World) -> None:
    client_id = await world.create_client(world.user)
    create = CreateAPIKey(world.uow, world.clock)

    first = await create(world.user, client_id, "a")
    second = await create(world.user, client_id, "b")

    assert first.plaintext != second.plaintext
    assert first.key.digest != second.key.digest


async def test_the_keys_listed_are_those_of_the_client_without_plaintext(world: World) -> None:
    client_id = await world.create_client(world.user, "mine")
    other_id = await world.create_client(world.user, "other")
    create = CreateAPIKey(world.uow, world.clock)
    mine = [await create(world.user, client_id, name) for name in ("a", "b")]
    await create(world.user, other_id, "c")

    keys = await ListAPIKeys(world.uow)(world.user, client_id)

    assert [k.name for k in keys] == ["a", "b"]
    assert {k.llm_client_id for k in keys} == {client_id}
    encoded = msgspec.json.encode(keys).decode()
    assert all(created.plaintext not in encoded for created in mine)


async def test_a_key_is_revoked_once(world: World) -> None:
    client_id = await world.create_client(world.user)
    created = await CreateAPIKey(world.uow, world.clock)(world.user, client_id, "a")
    key_id = created.key.id or 0
    revoke = RevokeAPIKey(world.uow, world.clock)

    first = await revoke(world.user, client_id, key_id)
    commits = world.uow.commits
    world.clock.advance(60)
    again = await revoke(world.user, client_id, key_id)

    assert first.revoked_at == world.uow.api_keys.rows[key_id].revoked_at
    assert not world.uow.api_keys.rows[key_id].is_active
    assert again.revoked_at == first.revoked_at
    assert world.uow.commits == commits


async def test_a_key_of_another_client_cannot_be_revoked_through_this_one(world: World) -> None:
    client_id = await world.create_client(world.user, "mine")
    other_id = await world.create_client(world.user, "other")
    created = await CreateAPIKey(world.uow, world.clock)(world.user, other_id, "a")

    with pytest.raises(NotFound):
        await RevokeAPIKey(world.uow, world.clock)(world.user, client_id, created.key.id or 0)
    assert world.uow.api_keys.rows[created.key.id or 0].is_active


async def test_authentication_is_required_exactly_while_a_key_is_active(world: World) -> None:
    client_id = await world.create_client(world.user)
    get = GetLLMClient(world.uow)
    create = CreateAPIKey(world.uow, world.clock)
    revoke = RevokeAPIKey(world.uow, world.clock)

    public = await get(world.user, client_id)
    assert (public.active_api_keys, public.is_authentication_required) == (0, False)

    first = await create(world.user, client_id, "a")
    second = await create(world.user, client_id, "b")
    both = await get(world.user, client_id)
    assert (both.active_api_keys, both.is_authentication_required) == (2, True)

    await revoke(world.user, client_id, first.key.id or 0)
    one = await get(world.user, client_id)
    assert (one.active_api_keys, one.is_authentication_required) == (1, True)

    await revoke(world.user, client_id, second.key.id or 0)
    none = await get(world.user, client_id)
    assert (none.active_api_keys, none.is_authentication_required) == (0, False)


async def test_keys_of_another_client_do_not_make_this_one_require_authentication(
    world: World,
) -> None:
    client_id = await world.create_client(world.user, "mine")
    other_id = await world.create_client(world.user, "other")
    await CreateAPIKey(world.uow, world.clock)(world.user, other_id, "a")

    client = await GetLLMClient(world.uow)(world.user, client_id)

    assert not client.is_authentication_required


async def test_a_non_admin_cannot_touch_the_keys_of_another_users_client(world: World) -> None:
    client_id = await world.create_client(world.colleague)
    created = await CreateAPIKey(world.uow, world.clock)(world.colleague, client_id, "a")

    with pytest.raises(NotFound):
        await CreateAPIKey(world.uow, world.clock)(world.user, client_id, "b")
    with pytest.raises(NotFound):
        await ListAPIKeys(world.uow)(world.user, client_id)
    with pytest.raises(NotFound):
        await RevokeAPIKey(world.uow, world.clock)(world.user, client_id, created.key.id or 0)
    assert len(world.uow.api_keys.rows) == 1
    assert world.uow.api_keys.rows[created.key.id or 0].is_active


async def test_an_admin_manages_the_keys_of_a_users_client(world: World) -> None:
    client_id = await world.create_client(world.user)

    created = await CreateAPIKey(world.uow, world.clock)(world.admin, client_id, "ops")
    keys = await ListAPIKeys(world.uow)(world.admin, client_id)
    revoked = await RevokeAPIKey(world.uow, world.clock)(
        world.admin, client_id, created.key.id or 0
    )

    assert [k.id for k in keys] == [created.key.id]
    assert not revoked.is_active


async def test_another_accounts_client_has_no_keys_to_see(world: World) -> None:
    client_id = await world.create_client(world.stranger)
    await CreateAPIKey(world.uow, world.clock)(world.stranger, client_id, "a")

    with pytest.raises(NotFound):
        await ListAPIKeys(world.uow)(world.admin, client_id)
    with pytest.raises(NotFound):
        await CreateAPIKey(world.uow, world.clock)(world.admin, client_id, "b")

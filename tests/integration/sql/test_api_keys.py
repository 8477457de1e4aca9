"""LLMClient API keys against SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from smarter.adapters.sql.unit_of_work import SqlUnitOfWork
from smarter.domain.environments import Platform
from smarter.domain.errors import Conflict, NotFound

from .factories import MOMENT, a_stored_client, an_account_with_admin, an_api_key, later


async def test_a_key_reads_back_and_belongs_to_its_client_only(
    uow: SqlUnitOfWork, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    client = await a_stored_client(uow, admin, platform)
    other = await a_stored_client(uow, admin, platform, "other")
    key = await uow.api_keys.add(an_api_key(client))
    assert client.id is not None and other.id is not None and key.id is not None

    loaded = await uow.api_keys.get(client.id, key.id)

    assert loaded == key and loaded.created_at == MOMENT and loaded.is_active
    with pytest.raises(NotFound):
        await uow.api_keys.get(other.id, key.id)
    assert await uow.api_keys.list(other.id) == []


async def test_keys_are_listed_in_creation_order_revoked_ones_included(
    uow: SqlUnitOfWork, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    client = await a_stored_client(uow, admin, platform)
    first = await uow.api_keys.add(an_api_key(client, "first"))
    second = await uow.api_keys.add(an_api_key(client, "second"))
    first.revoked_at = later(10)
    await uow.api_keys.save(first)
    assert client.id is not None

    listed = await uow.api_keys.list(client.id)

    assert [(k.id, k.name, k.revoked_at) for k in listed] == [
        (first.id, "first", later(10)),
        (second.id, "second", None),
    ]


async def test_two_keys_with_one_digest_are_a_conflict(
    uow: SqlUnitOfWork, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    client = await a_stored_client(uow, admin, platform)
    key = await uow.api_keys.add(an_api_key(client))
    twin = an_api_key(client, "twin")
    twin.digest = key.digest

    with pytest.raises(Conflict):
        await uow.api_keys.add(twin)


async def test_a_key_for_an_unknown_client_is_not_found(
    uow: SqlUnitOfWork, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    key = an_api_key(await a_stored_client(uow, admin, platform))
    key.llm_client_id = 999_999

    with pytest.raises(NotFound):
        await uow.api_keys.add(key)


async def test_an_active_key_is_found_by_its_digest_and_a_revoked_one_is_not(
    uow: SqlUnitOfWork, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    client = await a_stored_client(uow, admin, platform)
    other = await a_stored_client(uow, admin, platform, "other")
    key = await uow.api_keys.add(an_api_key(client))
    assert client.id is not None and other.id is not None

    found = await uow.api_keys.find_active(client.id, key.digest)
    assert found is not None and found.id == key.id
    assert await uow.api_keys.find_active(other.id, key.digest) is None

    key.revoked_at = later(1)
    await uow.api_keys.save(key)
    assert await uow.api_keys.find_active(client.id, key.digest) is None

"""The pure helpers of RedisClientCache (its behaviour is tested against Redis in
tests/integration/redis)."""

from __future__ import annotations

from datetime import UTC, datetime

from smarter.adapters.redis_client_cache import cacheable, split_stored
from smarter.application.chat_ports import ClientEntry
from smarter.domain.account_number import AccountNumber
from smarter.domain.environments import Platform
from smarter.domain.llm_client import LLMClient


def test_a_stored_value_splits_at_its_first_colon_only() -> None:
    assert split_stored(b"12:\x81\xa1:\xa1:") == (b"12", b"\x81\xa1:\xa1:")


def test_a_cached_entry_leaves_the_clients_unsaved_events_behind() -> None:
    client = LLMClient(
        name="helper",
        platform=Platform(),
        account_number=AccountNumber("1234-5678-9012"),
        owner_username="admin",
        owner_is_admin=True,
    )
    client.request_deployment(datetime.now(UTC))
    entry = ClientEntry(client=client)

    cached = cacheable(entry)

    assert cached.client is not None and cached.client.events == []
    assert cached.client.deployed
    assert client.events  # the caller's client is left as it was


def test_a_negative_entry_is_cached_as_it_is() -> None:
    entry = ClientEntry(client=None)
    assert cacheable(entry) is entry

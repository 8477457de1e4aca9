"""LLMClients against SQLite and PostgreSQL: round trips, uniqueness, events, pages, hosts."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import msgspec
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from smarter.adapters.sql.unit_of_work import SqlUnitOfWork
from smarter.application.ports import ClientFilter
from smarter.domain.custom_domain import CustomDomain
from smarter.domain.environments import Environment, Platform
from smarter.domain.errors import Conflict, NotFound
from smarter.domain.llm_client import LLMClient
from smarter.domain.status import DnsVerificationStatus, StatusEvent, TlsCertificateIssuanceStatus

from .factories import (
    MOMENT,
    NUMBER,
    OTHER_NUMBER,
    a_client,
    a_stored_client,
    a_user,
    an_account_with_admin,
    an_api_key,
    later,
)

NewUoW = Callable[[], AbstractAsyncContextManager[SqlUnitOfWork]]

EVERY_SPEC_FIELD = {
    "description": "Answers questions about π",
    "version": "2.1.0-beta.1+build.7",
    "annotations": {"team": "search", "smarter.sh/created-by": "cli"},
    "tags": ["support", "beta", "émoji-free"],
    "provider": "openai",
    "default_model": "gpt-4o",
    "default_system_role": "You are terse.",
    "default_temperature": 0.25,
    "default_max_tokens": 4096,
    "app_name": "Pi Bot",
    "app_assistant": "Pi",
    "app_welcome_message": "Hello!",
    "app_example_prompts": ["What is π?", "And τ?"],
    "app_placeholder": "Ask me…",
    "app_info_url": "https://example.com/info",
    "app_background_image_url": "https://cdn.example.com/bg.png",
    "app_logo_url": "https://cdn.example.com/logo.png",
    "app_file_attachment": True,
    "functions": ["get_weather", "search_docs"],
    "cors_origins": ["https://www.example.com"],
}


async def test_a_client_reads_back_with_every_field(
    uow: SqlUnitOfWork, new_uow: NewUoW, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    client = a_client(admin, platform, "pi_bot", **EVERY_SPEC_FIELD)
    client.deployed = True
    client.dns_verification_status = DnsVerificationStatus.VERIFYING
    client.tls_certificate_issuance_status = TlsCertificateIssuanceStatus.REQUESTED
    client.updated_at = later(5)
    stored = await uow.clients.add(client)
    await uow.commit()
    assert stored.id is not None

    async with new_uow() as other:
        loaded = await other.clients.get(NUMBER, stored.id)

    assert loaded.spec == client.spec
    assert msgspec.to_builtins(loaded.spec) == {"name": "pi_bot", **EVERY_SPEC_FIELD}
    assert (loaded.id, loaded.owner_id, loaded.account_number) == (stored.id, admin.id, NUMBER)
    assert (loaded.owner_username, loaded.owner_is_admin) == ("admin", True)
    assert loaded.platform == platform
    assert loaded.deployed is True
    assert loaded.dns_verification_status is DnsVerificationStatus.VERIFYING
    assert loaded.tls_certificate_issuance_status is TlsCertificateIssuanceStatus.REQUESTED
    assert (loaded.created_at, loaded.updated_at) == (MOMENT, later(5))
    assert loaded.created_at is not None and loaded.created_at.tzinfo is not None
    assert loaded.custom_domain is None and loaded.active_api_keys == 0
    assert loaded.default_host == "pi-bot.3141-5926-5359.api.local.example.com"


async def test_a_client_takes_its_platform_from_the_unit_of_work(
    uow: SqlUnitOfWork, sessions: async_sessionmaker[AsyncSession], platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    stored = await a_stored_client(uow, admin, platform)
    await uow.commit()
    assert stored.id is not None
    prod = Platform(environment=Environment.PROD)

    async with sessions() as session:
        loaded = await SqlUnitOfWork(session, prod).clients.get(NUMBER, stored.id)

    assert loaded.default_url == "https://example.3141-5926-5359.api.example.com"


async def test_a_client_of_another_account_is_not_found(
    uow: SqlUnitOfWork, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    await an_account_with_admin(uow, OTHER_NUMBER)
    stored = await a_stored_client(uow, admin, platform)
    assert stored.id is not None

    with pytest.raises(NotFound):
        await uow.clients.get(OTHER_NUMBER, stored.id)
    with pytest.raises(NotFound):
        await uow.clients.get(NUMBER, stored.id + 1000)
    assert await uow.clients.get_by_name(OTHER_NUMBER, "example") is None


async def test_a_client_owned_by_a_non_admin_carries_the_owner_from_the_users_table(
    uow: SqlUnitOfWork, platform: Platform
) -> None:
    await an_account_with_admin(uow)
    user = await a_user(uow, NUMBER, "user123", admin=False)
    stored = await a_stored_client(uow, user, platform)

    loaded = await uow.clients.get_by_name(NUMBER, "example")

    assert loaded is not None and loaded.id == stored.id
    assert (loaded.owner_id, loaded.owner_username, loaded.owner_is_admin) == (
        user.id,
        "user123",
        False,
    )
    assert loaded.rfc1034_compliant_name == "example.user123"


async def test_two_clients_with_one_name_in_an_account_are_a_conflict(
    uow: SqlUnitOfWork, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    _, other_admin = await an_account_with_admin(uow, OTHER_NUMBER)
    await a_stored_client(uow, admin, platform, "example")
    await a_stored_client(uow, other_admin, platform, "example")  # another account: fine

    with pytest.raises(Conflict, match="named 'example'"):
        await a_stored_client(uow, admin, platform, "example")


async def test_two_clients_that_map_to_one_host_are_a_conflict(
    uow: SqlUnitOfWork, new_uow: NewUoW, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    first = await a_stored_client(uow, admin, platform, "my_bot")
    await uow.commit()

    with pytest.raises(Conflict, match=rf"my-bot\.3141-5926-5359.* LLMClient {first.id}"):
        await a_stored_client(uow, admin, platform, "my-bot")
    await uow.commit()  # the unit of work is still usable

    async with new_uow() as other:
        page = await other.clients.page(NUMBER, ClientFilter())
    assert [c.name for c in page.items] == ["my_bot"]


async def test_a_non_admins_clients_collide_on_their_own_label_only(
    uow: SqlUnitOfWork, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    user = await a_user(uow, NUMBER, "bob", admin=False)
    await a_stored_client(uow, admin, platform, "Bot")  # host bot.<account>
    await a_stored_client(uow, user, platform, "bot_")  # host bot.bob.<account>: no clash

    with pytest.raises(Conflict, match=r"bot\.bob"):
        await a_stored_client(uow, user, platform, "BOT")


async def test_renaming_a_client_onto_a_taken_host_is_a_conflict(
    uow: SqlUnitOfWork, new_uow: NewUoW, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    await a_stored_client(uow, admin, platform, "first")
    second = await a_stored_client(uow, admin, platform, "second")
    await uow.commit()

    with pytest.raises(Conflict):
        await uow.clients.save(second.with_spec(msgspec.structs.replace(second.spec, name="FIRST")))
    await uow.commit()

    async with new_uow() as other:
        assert second.id is not None
        assert (await other.clients.get(NUMBER, second.id)).name == "second"


async def test_saving_stores_the_changes_and_appends_the_new_events(
    uow: SqlUnitOfWork, new_uow: NewUoW, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    client = a_client(admin, platform)
    client.request_deployment(MOMENT)
    await uow.clients.add(client)
    assert client.events == []
    client.move_dns(DnsVerificationStatus.VERIFYING, "record written", later(1))
    client.move_dns(DnsVerificationStatus.VERIFIED, "resolves", later(2))
    client.move_tls(TlsCertificateIssuanceStatus.REQUESTED, "ordered", later(3))
    client.updated_at = later(3)
    await uow.clients.save(client)
    assert client.events == []
    await uow.commit()
    assert client.id is not None

    async with new_uow() as other:
        loaded = await other.clients.get(NUMBER, client.id)
        events = await other.clients.events(client.id)

    assert loaded.deployed and loaded.updated_at == later(3)
    assert loaded.dns_verification_status is DnsVerificationStatus.VERIFIED
    assert loaded.tls_certificate_issuance_status is TlsCertificateIssuanceStatus.REQUESTED
    assert [(e.field, e.from_status, e.to_status, e.reason, e.at) for e in events] == [
        ("deployed", "false", "true", "deploy requested", MOMENT),
        ("dns_verification_status", "Not Verified", "Verifying", "record written", later(1)),
        ("dns_verification_status", "Verifying", "Verified", "resolves", later(2)),
        ("tls_certificate_issuance_status", "No Certificate", "Requested", "ordered", later(3)),
    ]
    assert all(isinstance(e, StatusEvent) for e in events)


async def test_the_events_of_a_rolled_back_save_are_gone(
    uow: SqlUnitOfWork, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    client = await a_stored_client(uow, admin, platform)
    await uow.commit()
    client.request_deployment(later(1))
    await uow.clients.save(client)
    await uow.rollback()
    assert client.id is not None

    assert await uow.clients.events(client.id) == []
    assert (await uow.clients.get(NUMBER, client.id)).deployed is False


async def test_a_page_filters_orders_by_id_and_counts_every_match(
    uow: SqlUnitOfWork, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    user = await a_user(uow, NUMBER, "bob", admin=False)
    _, stranger = await an_account_with_admin(uow, OTHER_NUMBER)
    names = ["alpha", "Beta", "gamma_bot", "delta-bot", "epsilon"]
    for index, name in enumerate(names):
        owner = user if index % 2 else admin
        client = a_client(owner, platform, name, tags=["even"] if index % 2 == 0 else ["odd"])
        client.deployed = index < 2
        await uow.clients.add(client)
    await a_stored_client(uow, stranger, platform, "alpha_bot", tags=["even"])

    async def names_of(**query: object) -> tuple[list[str], int]:
        page = await uow.clients.page(NUMBER, ClientFilter(**query))  # type: ignore[arg-type]
        return [c.name for c in page.items], page.total

    assert await names_of() == (names, 5)
    assert await names_of(owner_id=user.id) == (["Beta", "delta-bot"], 2)
    assert await names_of(name_contains="bot") == (["gamma_bot", "delta-bot"], 2)
    assert await names_of(name_contains="eta") == (["Beta"], 1)
    assert await names_of(name_contains="beta") == ([], 0)  # case-sensitive, like the fakes
    assert await names_of(name_contains="%") == ([], 0)
    assert await names_of(deployed=True) == (["alpha", "Beta"], 2)
    assert await names_of(deployed=False) == (["gamma_bot", "delta-bot", "epsilon"], 3)
    assert await names_of(tag="even") == (["alpha", "gamma_bot", "epsilon"], 3)
    assert await names_of(tag="even", deployed=False, name_contains="bot") == (["gamma_bot"], 1)
    assert await names_of(tag="none") == ([], 0)
    assert await names_of(offset=1, limit=2) == (["Beta", "gamma_bot"], 5)
    assert await names_of(offset=4, limit=2) == (["epsilon"], 5)
    assert await names_of(offset=10) == ([], 5)


async def test_a_page_shows_the_owner_domain_and_active_keys_of_each_client(
    uow: SqlUnitOfWork, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    domain = await uow.domains.add(
        CustomDomain(domain_name="bots.example.org", account_number=NUMBER)
    )
    client = a_client(admin, platform)
    client.custom_domain = domain
    await uow.clients.add(client)
    await uow.api_keys.add(an_api_key(client, "one"))
    revoked = await uow.api_keys.add(an_api_key(client, "two"))
    revoked.revoked_at = later(1)
    await uow.api_keys.save(revoked)

    [loaded] = (await uow.clients.page(NUMBER, ClientFilter())).items

    assert loaded.active_api_keys == 1 and loaded.is_authentication_required
    assert loaded.custom_domain == domain
    assert loaded.custom_host == "example.bots.example.org"


async def test_changing_tags_moves_the_client_between_tag_filters(
    uow: SqlUnitOfWork, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    client = await a_stored_client(uow, admin, platform, tags=["a", "b", "a"])
    client.tags = ["b", "c"]
    await uow.clients.save(client)

    async def tagged(tag: str) -> int:
        return (await uow.clients.page(NUMBER, ClientFilter(tag=tag))).total

    assert (await tagged("a"), await tagged("b"), await tagged("c")) == (0, 1, 1)
    assert client.id is not None
    assert (await uow.clients.get(NUMBER, client.id)).tags == ["b", "c"]


async def test_a_client_is_found_by_its_host_label(uow: SqlUnitOfWork, platform: Platform) -> None:
    _, admin = await an_account_with_admin(uow)
    user = await a_user(uow, NUMBER, "bob", admin=False)
    mine = await a_stored_client(uow, admin, platform, "My_Bot")
    bobs = await a_stored_client(uow, user, platform, "helper")

    found = await uow.clients.find_by_host(NUMBER, "my-bot")
    assert found is not None and found.id == mine.id
    found = await uow.clients.find_by_host(NUMBER, "helper.bob")
    assert found is not None and found.id == bobs.id
    assert await uow.clients.find_by_host(NUMBER, "helper") is None
    assert await uow.clients.find_by_host(OTHER_NUMBER, "my-bot") is None


async def test_deleting_a_client_removes_its_keys_and_events(
    uow: SqlUnitOfWork, new_uow: NewUoW, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    client = a_client(admin, platform)
    client.request_deployment(MOMENT)
    await uow.clients.add(client)
    key = await uow.api_keys.add(an_api_key(client))
    await uow.commit()
    assert client.id is not None and key.id is not None

    await uow.clients.delete(client)
    await uow.commit()

    async with new_uow() as other:
        with pytest.raises(NotFound):
            await other.clients.get(NUMBER, client.id)
        assert await other.clients.events(client.id) == []
        assert await other.api_keys.list(client.id) == []
        with pytest.raises(NotFound):
            await other.clients.delete(client)


async def test_a_client_cannot_use_another_accounts_domain(
    uow: SqlUnitOfWork, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    await an_account_with_admin(uow, OTHER_NUMBER)
    theirs = await uow.domains.add(
        CustomDomain(domain_name="theirs.org", account_number=OTHER_NUMBER)
    )
    client = await a_stored_client(uow, admin, platform)
    client.custom_domain = theirs

    with pytest.raises(NotFound):
        await uow.clients.save(client)


async def test_a_client_for_an_owner_of_another_account_is_not_found(
    uow: SqlUnitOfWork, platform: Platform
) -> None:
    await an_account_with_admin(uow)
    _, stranger = await an_account_with_admin(uow, OTHER_NUMBER)
    client = a_client(stranger, platform)
    client.account_number = NUMBER

    with pytest.raises(NotFound):
        await uow.clients.add(client)


async def test_a_deleted_domain_leaves_its_clients_without_a_custom_host(
    uow: SqlUnitOfWork, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    domain = await uow.domains.add(CustomDomain(domain_name="example.org", account_number=NUMBER))
    client = a_client(admin, platform)
    client.custom_domain = domain
    await uow.clients.add(client)
    assert domain.id is not None and client.id is not None
    assert await uow.domains.is_attached(domain.id)

    await uow.domains.delete(domain)

    loaded: LLMClient = await uow.clients.get(NUMBER, client.id)
    assert loaded.custom_domain is None and loaded.custom_host is None

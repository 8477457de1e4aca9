"""LLMClient use cases: create, read, list, change, clone, delete, deploy, status, domains."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from smarter.application.errors import PermissionDenied
from smarter.application.jobs import ReconcileClient
from smarter.application.llm_clients import (
    AttachCustomDomain,
    CloneLLMClient,
    CreateLLMClient,
    DeleteLLMClient,
    DeployLLMClient,
    GetClientStatus,
    GetLLMClient,
    ListLLMClients,
    UndeployLLMClient,
    UpdateLLMClient,
)
from smarter.application.ports import MAX_PAGE_SIZE, ClientFilter
from smarter.domain.errors import Conflict, InvalidValue, NotFound
from smarter.domain.llm_client import LLMClientSpec
from smarter.domain.status import (
    DnsVerificationStatus,
    StatusField,
    TlsCertificateIssuanceStatus,
)
from tests.fakes import jobs
from tests.unit.application.conftest import ACCOUNT, OTHER_ACCOUNT, World

FULL_SPEC = LLMClientSpec(
    name="example",
    description="Answers questions about examples.",
    version="2.1.0-beta.1",
    annotations={"team": "docs"},
    tags=["docs", "faq"],
    provider="openai",
    default_model="gpt-4o",
    default_system_role="You are terse.",
    default_temperature=0.2,
    default_max_tokens=256,
    app_name="Example bot",
    app_assistant="Exy",
    app_welcome_message="Hello!",
    app_example_prompts=["What is an example?"],
    app_placeholder="Ask me",
    app_info_url="https://example.org/info",
    app_background_image_url="https://example.org/bg.png",
    app_logo_url="https://example.org/logo.png",
    app_file_attachment=True,
    functions=["get_weather"],
    cors_origins=["https://www.example.org"],
)


# -- CreateLLMClient -------------------------------------------------------------------------


async def test_a_new_client_stores_every_field_of_its_spec(world: World) -> None:
    client = await CreateLLMClient(world.uow, world.clock, world.platform)(world.admin, FULL_SPEC)

    assert client.id is not None
    assert world.stored(client.id).spec == FULL_SPEC
    assert world.uow.commits == 1


async def test_a_new_client_belongs_to_its_creator_and_is_not_deployed(world: World) -> None:
    client_id = await world.create_client(world.user)

    stored = world.stored(client_id)
    assert stored.account_number == ACCOUNT
    assert (stored.owner_id, stored.owner_username, stored.owner_is_admin) == (
        world.user.user_id,
        "user123",
        False,
    )
    assert stored.created_at == stored.updated_at == world.clock.now()
    assert not stored.deployed
    assert stored.dns_verification_status is DnsVerificationStatus.NOT_VERIFIED
    assert stored.tls_certificate_issuance_status is TlsCertificateIssuanceStatus.NO_CERTIFICATE
    assert stored.platform == world.platform
    assert world.uow.outbox.committed == []


async def test_the_admins_client_is_named_by_its_name_alone(world: World) -> None:
    client = world.stored(await world.create_client(world.admin, "example"))

    assert client.rfc1034_compliant_name == "example"
    assert client.default_host == "example.3141-5926-5359.alpha.api.example.com"


async def test_a_non_admins_client_gets_the_username_label(world: World) -> None:
    client = world.stored(await world.create_client(world.user, "example"))

    assert client.rfc1034_compliant_name == "example.user123"
    assert client.default_url == "https://example.user123.3141-5926-5359.alpha.api.example.com"


async def test_a_name_taken_in_the_account_is_a_conflict(world: World) -> None:
    await world.create_client(world.user, "example")

    with pytest.raises(Conflict, match="example"):
        await world.create_client(world.colleague, "example")
    assert len(world.uow.clients.rows) == 1


async def test_a_name_taken_in_another_account_is_free(world: World) -> None:
    await world.create_client(world.stranger, "example")

    client_id = await world.create_client(world.admin, "example")

    assert world.stored(client_id).account_number == ACCOUNT


@pytest.mark.parametrize(("first", "second"), [("my_bot", "my-bot"), ("Bot", "bot")])
async def test_two_names_that_map_to_one_host_are_a_conflict(
    world: World, first: str, second: str
) -> None:
    await world.create_client(world.admin, first)

    with pytest.raises(Conflict):
        await world.create_client(world.admin, second)
    assert [c.name for c in world.uow.clients.rows.values()] == [first]


async def test_an_admins_and_a_users_similar_names_map_to_different_hosts(world: World) -> None:
    admins = world.stored(await world.create_client(world.admin, "my_bot"))
    users = world.stored(await world.create_client(world.user, "my-bot"))

    assert admins.default_host != users.default_host


# -- GetLLMClient ----------------------------------------------------------------------------


async def test_an_owner_reads_their_client(world: World) -> None:
    client_id = await world.create_client(world.user)

    client = await GetLLMClient(world.uow)(world.user, client_id)

    assert (client.id, client.name) == (client_id, "example")


async def test_an_admin_reads_any_client_of_the_account(world: World) -> None:
    client_id = await world.create_client(world.user)

    client = await GetLLMClient(world.uow)(world.admin, client_id)

    assert client.owner_id == world.user.user_id


async def test_a_non_admin_cannot_see_another_users_client(world: World) -> None:
    client_id = await world.create_client(world.colleague)

    with pytest.raises(NotFound):
        await GetLLMClient(world.uow)(world.user, client_id)


async def test_a_non_admin_cannot_see_the_admins_client(world: World) -> None:
    client_id = await world.create_client(world.admin)

    with pytest.raises(NotFound):
        await GetLLMClient(world.uow)(world.user, client_id)


async def test_another_accounts_client_is_not_found_even_by_an_admin(world: World) -> None:
    client_id = await world.create_client(world.stranger)

    with pytest.raises(NotFound) as error:
        await GetLLMClient(world.uow)(world.admin, client_id)
    assert OTHER_ACCOUNT not in error.value.message


async def test_an_unknown_client_is_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        await GetLLMClient(world.uow)(world.admin, 999)


# -- ListLLMClients --------------------------------------------------------------------------


async def _names(world: World, principal: Any, query: ClientFilter | None = None) -> list[str]:
    page = await ListLLMClients(world.uow)(principal, query or ClientFilter())
    return [c.name for c in page.items]


async def test_a_non_admin_lists_only_their_own_clients(world: World) -> None:
    await world.create_client(world.admin, "admins")
    await world.create_client(world.user, "mine")
    await world.create_client(world.colleague, "theirs")

    assert await _names(world, world.user) == ["mine"]


async def test_a_non_admin_cannot_list_another_users_clients_by_filtering(world: World) -> None:
    await world.create_client(world.user, "mine")
    await world.create_client(world.colleague, "theirs")

    query = ClientFilter(owner_id=world.colleague.user_id)

    assert await _names(world, world.user, query) == ["mine"]


async def test_an_admin_lists_every_client_of_the_account_and_no_other(world: World) -> None:
    await world.create_client(world.admin, "admins")
    await world.create_client(world.user, "mine")
    await world.create_client(world.colleague, "theirs")
    await world.create_client(world.stranger, "elsewhere")

    assert await _names(world, world.admin) == ["admins", "mine", "theirs"]


async def test_an_admin_may_list_one_users_clients(world: World) -> None:
    await world.create_client(world.user, "mine")
    await world.create_client(world.colleague, "theirs")

    query = ClientFilter(owner_id=world.colleague.user_id)

    assert await _names(world, world.admin, query) == ["theirs"]


async def test_clients_are_filtered_by_name_deployment_and_tag(world: World) -> None:
    await world.create_client(world.admin, "support-bot", tags=["support"])
    await world.create_client(world.admin, "sales-bot", tags=["sales"])
    deployed = await world.create_client(world.admin, "support-desk", tags=["support"])
    await DeployLLMClient(world.uow, world.clock)(world.admin, deployed)

    assert await _names(world, world.admin, ClientFilter(name_contains="bot")) == [
        "support-bot",
        "sales-bot",
    ]
    assert await _names(world, world.admin, ClientFilter(deployed=True)) == ["support-desk"]
    assert await _names(world, world.admin, ClientFilter(deployed=False)) == [
        "support-bot",
        "sales-bot",
    ]
    assert await _names(world, world.admin, ClientFilter(tag="support")) == [
        "support-bot",
        "support-desk",
    ]
    both = ClientFilter(tag="support", name_contains="bot")
    assert await _names(world, world.admin, both) == ["support-bot"]


async def test_clients_are_listed_a_page_at_a_time_with_the_total(world: World) -> None:
    for index in range(5):
        await world.create_client(world.admin, f"bot{index}")

    page = await ListLLMClients(world.uow)(world.admin, ClientFilter(offset=1, limit=2))

    assert [c.name for c in page.items] == ["bot1", "bot2"]
    assert (page.total, page.offset, page.limit) == (5, 1, 2)
    last = await ListLLMClients(world.uow)(world.admin, ClientFilter(offset=4, limit=2))
    assert [c.name for c in last.items] == ["bot4"]
    beyond = await ListLLMClients(world.uow)(world.admin, ClientFilter(offset=10, limit=2))
    assert (beyond.items, beyond.total) == ([], 5)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"offset": -1}, "offset"),
        ({"limit": 0}, "limit"),
        ({"limit": -5}, "limit"),
        ({"limit": MAX_PAGE_SIZE + 1}, "limit"),
    ],
)
def test_a_page_outside_the_allowed_bounds_is_invalid(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidValue) as error:
        ClientFilter(**fields)

    assert error.value.field == field


def test_the_largest_page_is_allowed() -> None:
    assert ClientFilter(limit=MAX_PAGE_SIZE).limit == MAX_PAGE_SIZE


# -- UpdateLLMClient -------------------------------------------------------------------------


async def test_a_partial_patch_keeps_the_other_fields(world: World) -> None:
    client = await CreateLLMClient(world.uow, world.clock, world.platform)(world.user, FULL_SPEC)
    assert client.id is not None
    world.clock.advance(60)

    updated = await UpdateLLMClient(world.uow, world.clock)(
        world.user, client.id, {"description": "New words.", "default_temperature": 1}
    )

    stored = world.stored(client.id)
    assert stored.spec == msgspec.structs.replace(
        FULL_SPEC, description="New words.", default_temperature=1.0
    )
    assert updated.spec == stored.spec
    assert stored.updated_at == world.clock.now()
    assert stored.created_at != stored.updated_at
    assert stored.owner_id == world.user.user_id
    assert world.uow.outbox.committed == []
    assert world.uow.commits == 2


async def test_an_empty_patch_changes_nothing_but_the_update_time(world: World) -> None:
    client = await CreateLLMClient(world.uow, world.clock, world.platform)(world.user, FULL_SPEC)
    assert client.id is not None

    await UpdateLLMClient(world.uow, world.clock)(world.user, client.id, {})

    assert world.stored(client.id).spec == FULL_SPEC


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"default_max_tokens": "many"}, "default_max_tokens"),
        ({"default_temperature": "hot"}, "default_temperature"),
        ({"tags": "one"}, "tags"),
        ({"tags": ["ok", 2]}, "tags"),
        ({"annotations": {"k": 1}}, "annotations"),
        ({"app_file_attachment": "yes"}, "app_file_attachment"),
        ({"name": None}, "name"),
    ],
)
async def test_a_value_of_the_wrong_type_is_invalid_naming_the_field(
    world: World, changes: dict[str, Any], field: str
) -> None:
    client_id = await world.create_client(world.user)

    with pytest.raises(InvalidValue) as error:
        await UpdateLLMClient(world.uow, world.clock)(world.user, client_id, changes)
    assert error.value.field == field


async def test_an_unknown_field_is_invalid_naming_the_field(world: World) -> None:
    client_id = await world.create_client(world.user)

    with pytest.raises(InvalidValue) as error:
        await UpdateLLMClient(world.uow, world.clock)(world.user, client_id, {"colour": "blue"})
    assert error.value.field == "colour"


@pytest.mark.parametrize(
    "field",
    ["deployed", "owner_id", "account_number", "dns_verification_status", "id"],
)
async def test_state_and_identity_cannot_be_patched(world: World, field: str) -> None:
    client_id = await world.create_client(world.user)

    with pytest.raises(InvalidValue) as error:
        await UpdateLLMClient(world.uow, world.clock)(world.user, client_id, {field: 1})
    assert error.value.field == field


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"default_temperature": 3.5}, "default_temperature"),
        ({"default_max_tokens": 0}, "default_max_tokens"),
        ({"version": "one"}, "version"),
        ({"name": "9lives"}, "name"),
        ({"name": ""}, "name"),
        ({"app_logo_url": "not a url"}, "app_logo_url"),
        ({"cors_origins": ["ftp://example.org"]}, "cors_origins"),
        ({"provider": "Open AI"}, "provider"),
        ({"default_model": " "}, "default_model"),
        ({"tags": [""]}, "tags"),
    ],
)
async def test_an_invalid_value_is_rejected_naming_the_field_and_nothing_changes(
    world: World, changes: dict[str, Any], field: str
) -> None:
    client_id = await world.create_client(world.user)
    before = world.stored(client_id)

    with pytest.raises(InvalidValue) as error:
        await UpdateLLMClient(world.uow, world.clock)(world.user, client_id, changes)
    assert error.value.field == field
    assert world.stored(client_id) == before


async def test_renaming_to_a_name_taken_in_the_account_is_a_conflict(world: World) -> None:
    await world.create_client(world.colleague, "taken")
    client_id = await world.create_client(world.user, "mine")

    with pytest.raises(Conflict):
        await UpdateLLMClient(world.uow, world.clock)(world.user, client_id, {"name": "taken"})
    assert world.stored(client_id).name == "mine"


async def test_renaming_to_a_name_with_a_taken_host_is_a_conflict(world: World) -> None:
    await world.create_client(world.admin, "my_bot")
    client_id = await world.create_client(world.admin, "other")

    with pytest.raises(Conflict):
        await UpdateLLMClient(world.uow, world.clock)(world.admin, client_id, {"name": "my-bot"})
    assert world.stored(client_id).name == "other"


async def test_a_client_may_be_patched_with_its_own_name(world: World) -> None:
    client_id = await world.create_client(world.user, "mine")

    client = await UpdateLLMClient(world.uow, world.clock)(world.user, client_id, {"name": "mine"})

    assert client.name == "mine"


async def test_renaming_a_deployed_client_enqueues_its_reconciliation(world: World) -> None:
    client_id = await world.deployed_client(world.user, "before")
    world.uow.outbox.committed.clear()

    client = await UpdateLLMClient(world.uow, world.clock)(world.user, client_id, {"name": "after"})

    assert client.default_host == "after.user123.3141-5926-5359.alpha.api.example.com"
    assert world.uow.outbox.committed == [ReconcileClient(client_id=client_id)]
    assert jobs(world.uow.outbox) == [f'{{"type":"ReconcileClient","client_id":{client_id}}}']


async def test_renaming_an_undeployed_client_enqueues_nothing(world: World) -> None:
    client_id = await world.create_client(world.user, "before")

    await UpdateLLMClient(world.uow, world.clock)(world.user, client_id, {"name": "after"})

    assert world.stored(client_id).name == "after"
    assert world.uow.outbox.committed == []


async def test_changing_a_deployed_clients_settings_keeps_its_host_and_enqueues_nothing(
    world: World,
) -> None:
    client_id = await world.deployed_client(world.user)
    world.uow.outbox.committed.clear()

    await UpdateLLMClient(world.uow, world.clock)(world.user, client_id, {"app_name": "New"})

    assert world.stored(client_id).app_name == "New"
    assert world.stored(client_id).deployed
    assert world.uow.outbox.committed == []


async def test_a_non_admin_cannot_change_another_users_client(world: World) -> None:
    client_id = await world.create_client(world.colleague)

    with pytest.raises(NotFound):
        await UpdateLLMClient(world.uow, world.clock)(world.user, client_id, {"app_name": "Mine"})
    assert world.stored(client_id).app_name == ""


async def test_an_admin_changes_a_users_client_without_taking_it_over(world: World) -> None:
    client_id = await world.create_client(world.user)

    client = await UpdateLLMClient(world.uow, world.clock)(
        world.admin, client_id, {"app_name": "Fixed"}
    )

    assert client.owner_id == world.user.user_id
    assert client.rfc1034_compliant_name == "example.user123"


# -- CloneLLMClient --------------------------------------------------------------------------


async def test_a_clone_is_a_copy_named_with_copy_and_not_deployed(world: World) -> None:
    source = await CreateLLMClient(world.uow, world.clock, world.platform)(world.user, FULL_SPEC)
    assert source.id is not None
    await DeployLLMClient(world.uow, world.clock)(world.user, source.id)
    await world.provision(source.id)
    world.uow.outbox.committed.clear()
    world.clock.advance(60)

    clone = await CloneLLMClient(world.uow, world.clock)(world.user, source.id)

    assert clone.id is not None and clone.id != source.id
    stored = world.stored(clone.id)
    assert stored.name == "example-copy"
    assert stored.spec == msgspec.structs.replace(FULL_SPEC, name="example-copy")
    assert not stored.deployed
    assert stored.dns_verification_status is DnsVerificationStatus.NOT_VERIFIED
    assert stored.tls_certificate_issuance_status is TlsCertificateIssuanceStatus.NO_CERTIFICATE
    assert stored.created_at == stored.updated_at == world.clock.now()
    assert world.uow.clients.events_by_client[clone.id] == []
    assert world.uow.outbox.committed == []
    assert world.stored(source.id).deployed


async def test_a_clone_may_be_given_a_name_and_a_version(world: World) -> None:
    source_id = await world.create_client(world.user)

    clone = await CloneLLMClient(world.uow, world.clock)(world.user, source_id, "twin", "2.0.0")

    assert (clone.name, clone.version) == ("twin", "2.0.0")


async def test_cloning_when_the_copy_exists_is_a_conflict(world: World) -> None:
    source_id = await world.create_client(world.user)
    clone = CloneLLMClient(world.uow, world.clock)
    await clone(world.user, source_id)

    with pytest.raises(Conflict, match="example-copy"):
        await clone(world.user, source_id)
    assert len(world.uow.clients.rows) == 2


@pytest.mark.parametrize(
    ("name", "version", "field"), [("9x", None, "name"), (None, "v2", "version")]
)
async def test_a_clone_with_an_invalid_name_or_version_is_rejected(
    world: World, name: str | None, version: str | None, field: str
) -> None:
    source_id = await world.create_client(world.user)

    with pytest.raises(InvalidValue) as error:
        await CloneLLMClient(world.uow, world.clock)(world.user, source_id, name, version)
    assert error.value.field == field
    assert len(world.uow.clients.rows) == 1


async def test_an_admin_cloning_a_users_client_owns_the_clone(world: World) -> None:
    source_id = await world.create_client(world.user)

    clone = await CloneLLMClient(world.uow, world.clock)(world.admin, source_id)

    assert (clone.owner_id, clone.owner_is_admin) == (world.admin.user_id, True)
    assert clone.rfc1034_compliant_name == "example-copy"


async def test_another_accounts_client_cannot_be_cloned(world: World) -> None:
    source_id = await world.create_client(world.stranger)

    with pytest.raises(NotFound):
        await CloneLLMClient(world.uow, world.clock)(world.admin, source_id)


# -- DeleteLLMClient -------------------------------------------------------------------------


async def test_a_deployed_client_is_hidden_undeployed_and_left_to_the_worker(
    world: World,
) -> None:
    client_id = await world.deployed_client(world.user)
    world.uow.outbox.committed.clear()

    await DeleteLLMClient(world.uow, world.clock)(world.user, client_id)

    stored = world.stored(client_id)
    assert stored.deletion_requested_at == world.clock.now() and not stored.deployed
    assert jobs(world.uow.outbox) == [f'{{"type":"ReconcileClient","client_id":{client_id}}}']
    with pytest.raises(NotFound):
        await GetLLMClient(world.uow)(world.user, client_id)


async def test_an_undeployed_client_not_yet_torn_down_is_left_to_the_worker(
    world: World,
) -> None:
    client_id = await world.deployed_client(world.user)
    await world.provision(client_id)
    await UndeployLLMClient(world.uow, world.clock)(world.user, client_id)

    await DeleteLLMClient(world.uow, world.clock)(world.user, client_id)

    assert world.stored(client_id).deletion_requested_at is not None


async def test_an_undeployed_and_torn_down_client_is_deleted(world: World) -> None:
    client_id = await world.deployed_client(world.user)
    await world.provision(client_id)
    await UndeployLLMClient(world.uow, world.clock)(world.user, client_id)
    await world.tear_down(client_id)
    commits = world.uow.commits

    await DeleteLLMClient(world.uow, world.clock)(world.user, client_id)

    assert client_id not in world.uow.clients.rows
    assert world.uow.commits == commits + 1
    with pytest.raises(NotFound):
        await GetLLMClient(world.uow)(world.user, client_id)


async def test_a_client_never_deployed_is_deleted(world: World) -> None:
    client_id = await world.create_client(world.user)

    await DeleteLLMClient(world.uow, world.clock)(world.user, client_id)

    assert world.uow.clients.rows == {}


async def test_a_non_admin_cannot_delete_another_users_client(world: World) -> None:
    client_id = await world.create_client(world.colleague)

    with pytest.raises(NotFound):
        await DeleteLLMClient(world.uow, world.clock)(world.user, client_id)
    assert client_id in world.uow.clients.rows


async def test_another_accounts_client_cannot_be_deleted(world: World) -> None:
    client_id = await world.create_client(world.stranger)

    with pytest.raises(NotFound):
        await DeleteLLMClient(world.uow, world.clock)(world.admin, client_id)
    assert client_id in world.uow.clients.rows


# -- DeployLLMClient and UndeployLLMClient ---------------------------------------------------


async def test_deploying_records_the_wish_an_event_and_one_reconcile_job(world: World) -> None:
    client_id = await world.create_client(world.user)
    world.clock.advance(30)
    commits = world.uow.commits

    client = await DeployLLMClient(world.uow, world.clock)(world.user, client_id)

    assert client.deployed
    stored = world.stored(client_id)
    assert stored.deployed
    assert stored.updated_at == world.clock.now()
    (event,) = world.uow.clients.events_by_client[client_id]
    assert event.field is StatusField.DEPLOYED
    assert (event.from_status, event.to_status) == ("false", "true")
    assert event.at == world.clock.now()
    assert event.reason
    assert world.uow.outbox.committed == [ReconcileClient(client_id=client_id)]
    assert world.uow.outbox.pending == []
    assert world.uow.commits == commits + 1


async def test_deploying_a_deployed_client_adds_no_job_and_no_event(world: World) -> None:
    client_id = await world.deployed_client(world.user)
    commits, updated_at = world.uow.commits, world.stored(client_id).updated_at
    world.clock.advance(30)

    client = await DeployLLMClient(world.uow, world.clock)(world.user, client_id)

    assert client.deployed
    assert len(world.uow.clients.events_by_client[client_id]) == 1
    assert world.uow.outbox.committed == [ReconcileClient(client_id=client_id)]
    assert world.uow.outbox.pending == []
    assert world.uow.commits == commits
    assert world.stored(client_id).updated_at == updated_at


async def test_undeploying_records_the_wish_an_event_and_one_reconcile_job(world: World) -> None:
    client_id = await world.deployed_client(world.user)
    world.uow.outbox.committed.clear()

    client = await UndeployLLMClient(world.uow, world.clock)(world.user, client_id)

    assert not client.deployed
    assert not world.stored(client_id).deployed
    last = world.uow.clients.events_by_client[client_id][-1]
    assert (last.field, last.from_status, last.to_status) == (StatusField.DEPLOYED, "true", "false")
    assert world.uow.outbox.committed == [ReconcileClient(client_id=client_id)]


async def test_undeploying_an_undeployed_client_adds_no_job_and_no_event(world: World) -> None:
    client_id = await world.create_client(world.user)
    commits = world.uow.commits

    client = await UndeployLLMClient(world.uow, world.clock)(world.user, client_id)

    assert not client.deployed
    assert world.uow.clients.events_by_client[client_id] == []
    assert world.uow.outbox.committed == []
    assert world.uow.commits == commits


@pytest.mark.parametrize("use_case", [DeployLLMClient, UndeployLLMClient])
async def test_another_accounts_client_cannot_be_deployed_or_undeployed(
    world: World, use_case: type[DeployLLMClient] | type[UndeployLLMClient]
) -> None:
    client_id = await world.deployed_client(world.stranger)
    world.uow.outbox.committed.clear()

    with pytest.raises(NotFound):
        await use_case(world.uow, world.clock)(world.admin, client_id)
    assert world.stored(client_id).deployed
    assert world.uow.outbox.committed == []


async def test_a_non_admin_cannot_deploy_another_users_client(world: World) -> None:
    client_id = await world.create_client(world.colleague)

    with pytest.raises(NotFound):
        await DeployLLMClient(world.uow, world.clock)(world.user, client_id)
    assert not world.stored(client_id).deployed


# -- GetClientStatus -------------------------------------------------------------------------


async def test_the_status_shows_the_client_and_its_event_timeline_in_order(world: World) -> None:
    client_id = await world.deployed_client(world.user)
    world.clock.advance(10)
    await world.provision(client_id)
    world.clock.advance(10)
    await UndeployLLMClient(world.uow, world.clock)(world.user, client_id)

    status = await GetClientStatus(world.uow)(world.user, client_id)

    assert status.client.id == client_id
    assert status.client.dns_verification_status is DnsVerificationStatus.VERIFIED
    assert [(e.field, e.from_status, e.to_status) for e in status.events] == [
        (StatusField.DEPLOYED, "false", "true"),
        (StatusField.DNS, "Not Verified", "Verifying"),
        (StatusField.DNS, "Verifying", "Verified"),
        (StatusField.TLS, "No Certificate", "Requested"),
        (StatusField.TLS, "Requested", "Issued"),
        (StatusField.DEPLOYED, "true", "false"),
    ]
    assert [e.at for e in status.events] == sorted(e.at for e in status.events)


async def test_a_client_never_deployed_has_an_empty_timeline(world: World) -> None:
    client_id = await world.create_client(world.user)

    status = await GetClientStatus(world.uow)(world.user, client_id)

    assert status.events == []


async def test_a_non_admin_cannot_see_another_users_status(world: World) -> None:
    client_id = await world.create_client(world.colleague)

    with pytest.raises(NotFound):
        await GetClientStatus(world.uow)(world.user, client_id)


# -- AttachCustomDomain ----------------------------------------------------------------------


async def test_a_client_is_served_under_an_attached_domain_of_the_account(world: World) -> None:
    domain_id = await world.register_domain(world.admin)
    client_id = await world.create_client(world.user)
    world.uow.outbox.committed.clear()

    client = await AttachCustomDomain(world.uow, world.clock)(world.user, client_id, domain_id)

    assert client.custom_domain is not None
    assert client.custom_domain.id == domain_id
    assert client.custom_host == "example.user123.bots.customer.com"
    stored = world.stored(client_id)
    assert stored.custom_domain is not None and stored.custom_domain.id == domain_id
    assert stored.updated_at == world.clock.now()
    assert world.uow.outbox.committed == []


async def test_attaching_a_domain_to_a_deployed_client_enqueues_its_reconciliation(
    world: World,
) -> None:
    domain_id = await world.register_domain(world.admin)
    client_id = await world.deployed_client(world.admin)
    world.uow.outbox.committed.clear()

    await AttachCustomDomain(world.uow, world.clock)(world.admin, client_id, domain_id)

    assert world.uow.outbox.committed == [ReconcileClient(client_id=client_id)]


async def test_a_domain_is_detached_with_none(world: World) -> None:
    domain_id = await world.register_domain(world.admin)
    client_id = await world.create_client(world.admin)
    attach = AttachCustomDomain(world.uow, world.clock)
    await attach(world.admin, client_id, domain_id)

    client = await attach(world.admin, client_id, None)

    assert client.custom_domain is None
    assert client.custom_host is None
    assert world.stored(client_id).custom_domain is None


async def test_another_accounts_domain_cannot_be_attached(world: World) -> None:
    theirs = await world.register_domain(world.stranger, "theirs.example.net")
    client_id = await world.create_client(world.admin)

    with pytest.raises(NotFound):
        await AttachCustomDomain(world.uow, world.clock)(world.admin, client_id, theirs)
    assert world.stored(client_id).custom_domain is None


async def test_a_domain_cannot_be_attached_to_another_users_client(world: World) -> None:
    domain_id = await world.register_domain(world.admin)
    client_id = await world.create_client(world.colleague)

    with pytest.raises(NotFound):
        await AttachCustomDomain(world.uow, world.clock)(world.user, client_id, domain_id)
    assert world.stored(client_id).custom_domain is None


async def test_a_non_admin_cannot_register_the_domain_they_would_attach(world: World) -> None:
    with pytest.raises(PermissionDenied):
        await world.register_domain(world.user)

"""Manifests: `apiVersion: smarter.sh/v1`, `kind: LLMClient` documents, applied idempotently."""

from __future__ import annotations

import copy
from typing import Any

import msgspec
import pytest

from smarter.application.llm_clients import DeployLLMClient
from smarter.application.manifests import (
    API_VERSION,
    KIND,
    METADATA_FIELDS,
    STATUS_FIELDS,
    ApplyManifest,
    GetManifest,
    manifest_of,
)
from smarter.application.specs import SPEC_FIELDS
from smarter.domain.errors import InvalidValue, NotFound
from smarter.domain.llm_client import LLMClientSpec
from tests.unit.application.conftest import World


def manifest(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "smarter.sh/v1",
        "kind": "LLMClient",
        "metadata": {
            "name": "example",
            "description": "An example.",
            "version": "1.2.3",
            "tags": ["docs"],
            "annotations": {"team": "docs"},
        },
        "spec": {"default_model": "gpt-4o", "app_name": "Example", **spec},
    }


def apply(world: World) -> ApplyManifest:
    return ApplyManifest(world.uow, world.clock, world.platform)


async def test_applying_a_manifest_creates_the_client_it_names(world: World) -> None:
    applied = await apply(world)(world.user, manifest())

    assert applied.created
    assert applied.client.id is not None
    stored = world.stored(applied.client.id)
    assert (stored.name, stored.description, stored.version) == ("example", "An example.", "1.2.3")
    assert (stored.tags, stored.annotations) == (["docs"], {"team": "docs"})
    assert (stored.default_model, stored.app_name) == ("gpt-4o", "Example")
    assert stored.owner_id == world.user.user_id
    assert stored.rfc1034_compliant_name == "example.user123"


async def test_applying_the_same_manifest_twice_yields_one_client(world: World) -> None:
    first = await apply(world)(world.user, manifest())
    second = await apply(world)(world.user, manifest())

    assert (first.created, second.created) == (True, False)
    assert second.client.id == first.client.id
    assert len(world.uow.clients.rows) == 1
    assert second.client.spec == first.client.spec


async def test_applying_a_changed_manifest_updates_the_same_client(world: World) -> None:
    first = await apply(world)(world.user, manifest())
    world.clock.advance(60)

    second = await apply(world)(world.user, manifest(app_name="Renamed", default_max_tokens=99))

    assert second.client.id == first.client.id
    stored = world.stored(first.client.id or 0)
    assert (stored.app_name, stored.default_max_tokens) == ("Renamed", 99)
    assert stored.updated_at == world.clock.now()
    assert len(world.uow.clients.rows) == 1


async def test_a_field_left_out_of_a_manifest_returns_to_its_default(world: World) -> None:
    first = await apply(world)(world.user, manifest(app_placeholder="Ask"))
    document = manifest()
    del document["metadata"]["tags"]

    await apply(world)(world.user, document)

    stored = world.stored(first.client.id or 0)
    assert stored.app_placeholder == LLMClientSpec(name="x").app_placeholder
    assert stored.tags == []


async def test_applying_a_manifest_keeps_a_deployed_client_deployed(world: World) -> None:
    first = await apply(world)(world.user, manifest())
    await DeployLLMClient(world.uow, world.clock)(world.user, first.client.id or 0)
    world.uow.outbox.committed.clear()

    second = await apply(world)(world.user, manifest(app_name="Live"))

    assert second.client.deployed
    assert world.uow.outbox.committed == []


async def test_the_status_section_is_ignored_on_apply(world: World) -> None:
    document = {**manifest(), "status": {"deployed": True, "id": 999, "ready": True}}

    applied = await apply(world)(world.user, document)

    assert not applied.client.deployed
    assert applied.client.id != 999


async def test_a_manifest_with_only_a_name_is_enough(world: World) -> None:
    document = {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": "tiny"}}

    applied = await apply(world)(world.user, document)

    assert applied.client.spec == LLMClientSpec(name="tiny")


def _without(document: dict[str, Any], *path: str) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    *parents, last = path
    target = changed
    for key in parents:
        target = target[key]
    del target[last]
    return changed


def _with(document: dict[str, Any], value: Any, *path: str) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    *parents, last = path
    target = changed
    for key in parents:
        target = target[key]
    target[last] = value
    return changed


GOOD = manifest()


@pytest.mark.parametrize(
    ("document", "field"),
    [
        (_with(GOOD, "smarter.sh/v2", "apiVersion"), "apiVersion"),
        (_without(GOOD, "apiVersion"), "apiVersion"),
        (_with(GOOD, "Plugin", "kind"), "kind"),
        (_without(GOOD, "kind"), "kind"),
        (_with(GOOD, {}, "extras"), "extras"),
        (_with(GOOD, "x", "spec", "bogus"), "spec.bogus"),
        (_with(GOOD, "x", "spec", "name"), "spec.name"),
        (_with(GOOD, "x", "spec", "deployed"), "spec.deployed"),
        (_with(GOOD, "red", "metadata", "colour"), "metadata.colour"),
        (_with(GOOD, "x", "metadata", "app_name"), "metadata.app_name"),
        (_without(GOOD, "metadata", "name"), "metadata.name"),
        (_without(GOOD, "metadata"), "metadata.name"),
        (_with(GOOD, ["name"], "metadata"), "metadata"),
        (_with(GOOD, "text", "spec"), "spec"),
        (_with(GOOD, ["model"], "spec"), "spec"),
        (["apiVersion", "kind"], "manifest"),
        (_with(GOOD, "lots", "spec", "default_max_tokens"), "default_max_tokens"),
        (_with(GOOD, 9, "spec", "default_temperature"), "default_temperature"),
        (_with(GOOD, "not-a-version", "metadata", "version"), "version"),
        (_with(GOOD, "9lives", "metadata", "name"), "name"),
        (_with(GOOD, {1: "one"}, "metadata", "annotations"), "annotations"),
    ],
)
async def test_a_bad_manifest_is_invalid_naming_the_field(
    world: World, document: Any, field: str
) -> None:
    with pytest.raises(InvalidValue) as error:
        await apply(world)(world.user, document)

    assert error.value.field == field
    assert world.uow.clients.rows == {}


async def test_a_non_admin_cannot_overwrite_another_users_client_by_manifest(
    world: World,
) -> None:
    theirs = await apply(world)(world.colleague, manifest())

    with pytest.raises(NotFound):
        await apply(world)(world.user, manifest(app_name="Hijacked"))
    assert world.stored(theirs.client.id or 0).app_name == "Example"


async def test_the_same_name_in_another_account_is_another_client(world: World) -> None:
    theirs = await apply(world)(world.stranger, manifest())

    mine = await apply(world)(world.admin, manifest(app_name="Mine"))

    assert mine.created
    assert mine.client.id != theirs.client.id
    assert world.stored(theirs.client.id or 0).app_name == "Example"


# -- manifest_of and GetManifest -------------------------------------------------------------


async def test_a_clients_manifest_has_the_envelope_the_settings_and_the_status(
    world: World,
) -> None:
    applied = await apply(world)(world.user, manifest())
    client = applied.client

    document = manifest_of(client)

    assert list(document) == ["apiVersion", "kind", "metadata", "spec", "status"]
    assert (document["apiVersion"], document["kind"]) == ("smarter.sh/v1", "LLMClient")
    assert set(document["metadata"]) == set(METADATA_FIELDS)
    assert set(document["spec"]) == SPEC_FIELDS - set(METADATA_FIELDS)
    assert document["metadata"]["name"] == "example"
    assert document["spec"]["default_model"] == "gpt-4o"
    assert document["status"]["id"] == client.id
    for name in STATUS_FIELDS:
        assert document["status"][name] == getattr(client, name)
    assert document["status"]["default_url"] == client.default_url


async def test_a_clients_manifest_applied_again_changes_nothing(world: World) -> None:
    created = await apply(world)(world.user, manifest(cors_origins=["https://a.example.org"]))
    before = world.stored(created.client.id or 0)

    again = await apply(world)(world.user, manifest_of(before))

    assert not again.created
    assert again.client.id == before.id
    assert world.stored(before.id or 0).spec == before.spec
    assert len(world.uow.clients.rows) == 1


async def test_a_clients_manifest_recreates_it_elsewhere(world: World) -> None:
    created = await apply(world)(world.user, manifest(app_logo_url="https://example.org/l.png"))
    document = msgspec.json.decode(msgspec.json.encode(manifest_of(created.client)))

    copied = await apply(world)(world.stranger, document)

    assert copied.created
    assert copied.client.account_number == world.stranger.account_number
    assert copied.client.spec == created.client.spec


async def test_the_manifest_of_a_visible_client_is_served(world: World) -> None:
    created = await apply(world)(world.user, manifest())

    document = await GetManifest(world.uow)(world.admin, created.client.id or 0)

    assert document == manifest_of(world.stored(created.client.id or 0))


async def test_the_manifest_of_another_users_or_accounts_client_is_not_found(
    world: World,
) -> None:
    colleagues = await apply(world)(world.colleague, manifest())
    strangers = await apply(world)(world.stranger, manifest())

    with pytest.raises(NotFound):
        await GetManifest(world.uow)(world.user, colleagues.client.id or 0)
    with pytest.raises(NotFound):
        await GetManifest(world.uow)(world.admin, strangers.client.id or 0)

"""What the console API and the CLI show: every computed field, and never a secret."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from smarter.application.accounts import IssueToken, ListTokens, ListUsers
from smarter.application.api_keys import CreateAPIKey
from smarter.application.llm_clients import AttachCustomDomain, GetClientStatus, GetLLMClient
from smarter.application.views import (
    COMPUTED_FIELDS,
    LLMClientView,
    client_view,
    custom_domain_view,
    secret_view,
    status_view,
    user_view,
)
from smarter.domain.custom_domain import VerificationReport
from smarter.domain.llm_client import LLMClient
from smarter.domain.secrets import hash_secret
from tests.unit.application.conftest import World

SEED_NAMES = (
    "default_host",
    "default_url",
    "custom_host",
    "custom_url",
    "sandbox_host",
    "sandbox_url",
    "manifest_url",
    "url_chat_config",
    "url_llm_client",
    "hostname",
    "url",
    "rfc1034_compliant_name",
    "base_api_domain",
    "base_default_host",
    "ready",
    "is_authentication_required",
    "dns_verification_status",
    "tls_certificate_issuance_status",
    "deployed",
    "id",
    "hashed_id",
)


def test_the_client_view_declares_every_name_scripts_rely_on() -> None:
    fields = {f.name for f in msgspec.structs.fields(LLMClientView)}

    assert set(COMPUTED_FIELDS) <= fields
    assert set(SEED_NAMES) <= fields


async def _live_client(world: World) -> LLMClient:
    """Deployed, provisioned, on a verified custom domain, behind an API key."""
    domain_id = await world.register_domain(world.admin)
    world.verify_domain(domain_id)
    client_id = await world.deployed_client(world.user)
    await world.provision(client_id)
    await AttachCustomDomain(world.uow, world.clock)(world.user, client_id, domain_id)
    await CreateAPIKey(world.uow, world.clock)(world.user, client_id, "site")
    return await GetLLMClient(world.uow)(world.user, client_id)


async def _sandbox_client(world: World) -> LLMClient:
    client_id = await world.create_client(world.user)
    return await GetLLMClient(world.uow)(world.user, client_id)


@pytest.mark.parametrize("make", [_live_client, _sandbox_client])
async def test_the_client_view_has_every_computed_field_with_the_clients_values(
    world: World, make: object
) -> None:
    client = await make(world)  # type: ignore[operator]

    view = client_view(client)

    for name in COMPUTED_FIELDS:
        assert getattr(view, name) == getattr(client, name), name
    assert view.spec == client.spec
    assert (view.id, view.account_number, view.owner_username) == (
        client.id,
        "3141-5926-5359",
        "user123",
    )
    assert view.deployed is client.deployed
    assert view.dns_verification_status == client.dns_verification_status.value
    assert view.tls_certificate_issuance_status == client.tls_certificate_issuance_status.value
    assert (view.created_at, view.updated_at) == (client.created_at, client.updated_at)


async def test_a_live_clients_view_shows_its_custom_host_and_readiness(world: World) -> None:
    view = client_view(await _live_client(world))

    assert view.custom_domain == "bots.customer.com"
    assert view.custom_domain_id is not None
    assert view.hostname == view.custom_host == "example.user123.bots.customer.com"
    assert view.url == "https://example.user123.bots.customer.com"
    assert view.default_url == "https://example.user123.3141-5926-5359.alpha.api.example.com"
    assert view.dns_verification_status == "Verified"
    assert view.tls_certificate_issuance_status == "Issued"
    assert view.ready
    assert view.is_authentication_required


async def test_a_sandbox_clients_view_points_at_the_console(world: World) -> None:
    view = client_view(await _sandbox_client(world))

    assert view.custom_domain is None and view.custom_domain_id is None
    assert view.custom_host is None and view.custom_url is None
    assert view.hostname == view.sandbox_host == "alpha.platform.example.com"
    assert view.url == view.sandbox_url
    assert (
        view.sandbox_url
        == f"https://alpha.platform.example.com/workbench/llm-clients/{view.hashed_id}/"
    )
    assert view.manifest_url == view.sandbox_url + "manifest/"
    assert view.ready
    assert not view.is_authentication_required
    assert view.dns_verification_status == "Not Verified"


async def test_the_client_view_encodes_as_json_with_the_original_field_names(world: World) -> None:
    encoded = msgspec.json.decode(msgspec.json.encode(client_view(await _live_client(world))))

    assert set(SEED_NAMES) <= set(encoded)
    assert encoded["tls_certificate_issuance_status"] == "Issued"


async def test_the_status_view_shows_urls_readiness_and_the_timeline(world: World) -> None:
    client = await _live_client(world)
    status = await GetClientStatus(world.uow)(world.user, client.id or 0)

    view = status_view(status.client, status.events)

    assert view.id == client.id
    assert (view.deployed, view.ready) == (True, True)
    assert (view.dns_verification_status, view.tls_certificate_issuance_status) == (
        "Verified",
        "Issued",
    )
    assert (view.default_url, view.custom_url, view.sandbox_url, view.url) == (
        client.default_url,
        client.custom_url,
        client.sandbox_url,
        client.url,
    )
    assert view.events == status.events
    assert len(view.events) == 5


async def test_the_user_view_shows_who_a_user_is(world: World) -> None:
    users = {u.username: u for u in await ListUsers(world.uow)(world.admin)}

    view = user_view(users["user123"])

    assert (view.id, view.username, view.is_account_admin) == (world.user.user_id, "user123", False)
    assert view.email == ""
    assert user_view(users["admin"]).is_account_admin


async def test_a_token_is_shown_by_its_prefix_never_its_digest_or_value(world: World) -> None:
    issued = await IssueToken(world.uow, world.clock)(world.user, "laptop")
    (token,) = [t for t in await ListTokens(world.uow)(world.user) if t.id == issued.token.id]

    view = secret_view(token)

    encoded = msgspec.json.encode(view).decode()
    assert token.digest not in encoded
    assert hash_secret(issued.plaintext) not in encoded
    assert issued.plaintext not in encoded
    assert "digest" not in {f.name for f in msgspec.structs.fields(view)}
    assert view.prefix == issued.plaintext[:12]
    assert (view.id, view.name, view.active) == (token.id, "laptop", True)
    assert (view.user_id, view.llm_client_id) == (world.user.user_id, None)


async def test_an_api_key_is_shown_by_its_prefix_never_its_digest_or_value(world: World) -> None:
    client_id = await world.create_client(world.user)
    created = await CreateAPIKey(world.uow, world.clock)(world.user, client_id, "site")
    created.key.revoked_at = datetime(2026, 2, 1, tzinfo=UTC)

    view = secret_view(created.key)

    encoded = msgspec.json.encode(view).decode()
    assert created.key.digest not in encoded
    assert created.plaintext not in encoded
    assert view.prefix == created.plaintext[:12]
    assert (view.llm_client_id, view.user_id) == (client_id, None)
    assert not view.active
    assert view.revoked_at == datetime(2026, 2, 1, tzinfo=UTC)


async def test_a_custom_domain_view_lists_the_ns_records_to_set(world: World) -> None:
    domain_id = await world.register_domain(world.admin)
    stored = world.stored_domain(domain_id)
    stored.aws_hosted_zone_id = "Z0123456789"
    stored.name_servers = ("ns-1.awsdns-01.org", "ns-2.awsdns-02.co.uk")
    report = VerificationReport(
        checked_at=world.clock.now(),
        name_servers_found=("ns1.registrar.example",),
        message="the NS records point elsewhere",
    )
    stored.record_failed_check(report)

    view = custom_domain_view(stored)

    assert view.ns_records_to_set == [
        "bots.customer.com. NS ns-1.awsdns-01.org.",
        "bots.customer.com. NS ns-2.awsdns-02.co.uk.",
    ]
    assert view.name_servers == ["ns-1.awsdns-01.org", "ns-2.awsdns-02.co.uk"]
    assert (view.id, view.domain_name, view.is_verified) == (domain_id, "bots.customer.com", False)
    assert view.aws_hosted_zone_id == "Z0123456789"
    assert view.marker_name == "_smarter.bots.customer.com"
    assert view.last_verification == report


async def test_a_domain_without_a_zone_yet_has_no_ns_records_to_set(world: World) -> None:
    view = custom_domain_view(world.stored_domain(await world.register_domain(world.admin)))

    assert (view.name_servers, view.ns_records_to_set) == ([], [])
    assert view.aws_hosted_zone_id is None
    assert view.last_verification is None

"""What the console API and the CLI show of each object.

A client's view is its stored fields plus every computed host, URL and status, under seed
003's own names, so scripts can rely on them. Secrets never appear here: tokens and keys show
a display prefix only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from smarter.domain.accounts import AccountToken, LLMClientAPIKey, User
from smarter.domain.custom_domain import CustomDomain, VerificationReport
from smarter.domain.llm_client import LLMClient, LLMClientSpec
from smarter.domain.status import StatusEvent

COMPUTED_FIELDS = (
    "hashed_id",
    "rfc1034_compliant_name",
    "base_api_domain",
    "base_default_host",
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
    "ready",
    "is_authentication_required",
)


class LLMClientView(LLMClientSpec, kw_only=True):
    id: int
    account_number: str
    owner_username: str
    deployed: bool
    dns_verification_status: str
    tls_certificate_issuance_status: str
    custom_domain: str | None
    custom_domain_id: int | None
    created_at: datetime | None
    updated_at: datetime | None
    hashed_id: str
    rfc1034_compliant_name: str
    base_api_domain: str
    base_default_host: str
    default_host: str
    default_url: str
    custom_host: str | None
    custom_url: str | None
    sandbox_host: str
    sandbox_url: str
    manifest_url: str
    url_chat_config: str
    url_llm_client: str
    hostname: str
    url: str
    ready: bool
    is_authentication_required: bool


def client_view(client: LLMClient) -> LLMClientView:
    assert client.id is not None
    fields: dict[str, Any] = msgspec.structs.asdict(client.spec)
    fields.update({name: getattr(client, name) for name in COMPUTED_FIELDS})
    domain = client.custom_domain
    return LLMClientView(
        **fields,
        id=client.id,
        account_number=str(client.account_number),
        owner_username=client.owner_username,
        deployed=client.deployed,
        dns_verification_status=client.dns_verification_status.value,
        tls_certificate_issuance_status=client.tls_certificate_issuance_status.value,
        custom_domain=None if domain is None else domain.domain_name,
        custom_domain_id=None if domain is None else domain.id,
        created_at=client.created_at,
        updated_at=client.updated_at,
    )


class StatusView(msgspec.Struct, kw_only=True):
    """Statuses, URLs of every mode, readiness and the event timeline of a client."""

    id: int
    deployed: bool
    ready: bool
    dns_verification_status: str
    tls_certificate_issuance_status: str
    default_url: str
    custom_url: str | None
    sandbox_url: str
    url: str
    events: list[StatusEvent]


def status_view(client: LLMClient, events: list[StatusEvent]) -> StatusView:
    assert client.id is not None
    return StatusView(
        id=client.id,
        deployed=client.deployed,
        ready=client.ready,
        dns_verification_status=client.dns_verification_status.value,
        tls_certificate_issuance_status=client.tls_certificate_issuance_status.value,
        default_url=client.default_url,
        custom_url=client.custom_url,
        sandbox_url=client.sandbox_url,
        url=client.url,
        events=events,
    )


class UserView(msgspec.Struct, kw_only=True):
    id: int
    username: str
    email: str
    is_account_admin: bool
    created_at: datetime | None


def user_view(user: User) -> UserView:
    assert user.id is not None
    return UserView(
        id=user.id,
        username=user.username,
        email=user.email,
        is_account_admin=user.is_account_admin,
        created_at=user.created_at,
    )


class SecretView(msgspec.Struct, kw_only=True):
    """A token or API key as listed: its prefix, never its value or hash."""

    id: int
    name: str
    prefix: str
    active: bool
    created_at: datetime | None
    revoked_at: datetime | None
    user_id: int | None = None
    llm_client_id: int | None = None


def secret_view(secret: AccountToken | LLMClientAPIKey) -> SecretView:
    assert secret.id is not None
    return SecretView(
        id=secret.id,
        name=secret.name,
        prefix=secret.display_prefix,
        active=secret.is_active,
        created_at=secret.created_at,
        revoked_at=secret.revoked_at,
        user_id=secret.user_id if isinstance(secret, AccountToken) else None,
        llm_client_id=secret.llm_client_id if isinstance(secret, LLMClientAPIKey) else None,
    )


class CustomDomainView(msgspec.Struct, kw_only=True):
    """A domain with the NS records the customer sets at their registrar."""

    id: int
    domain_name: str
    is_verified: bool
    aws_hosted_zone_id: str | None
    name_servers: list[str]
    ns_records_to_set: list[str]
    marker_name: str
    last_verification: VerificationReport | None


def custom_domain_view(domain: CustomDomain) -> CustomDomainView:
    assert domain.id is not None
    return CustomDomainView(
        id=domain.id,
        domain_name=domain.domain_name,
        is_verified=domain.is_verified,
        aws_hosted_zone_id=domain.aws_hosted_zone_id,
        name_servers=list(domain.name_servers),
        ns_records_to_set=[f"{domain.domain_name}. NS {ns}." for ns in domain.name_servers],
        marker_name=domain.marker_name,
        last_verification=domain.last_verification,
    )

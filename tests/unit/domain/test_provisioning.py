"""Names of provisioned objects and the renewal point of a certificate."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from smarter.domain.account_number import AccountNumber
from smarter.domain.environments import Environment, Platform
from smarter.domain.llm_client import LLMClient
from smarter.domain.provisioning import (
    CertificatePhase,
    ManagedCertificate,
    host_certificate_name,
    ingress_name,
    object_name,
    wildcard_of,
)

KUBERNETES_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
START = datetime(2026, 1, 1, tzinfo=UTC)


def a_client(owner: str, *, admin: bool) -> LLMClient:
    return LLMClient(
        name="example",
        platform=Platform(environment=Environment.ALPHA),
        account_number=AccountNumber("3141-5926-5359"),
        owner_username=owner,
        owner_is_admin=admin,
    )


def test_the_admins_clients_share_the_accounts_wildcard() -> None:
    assert wildcard_of(a_client("admin", admin=True)) == (
        "wildcard-3141-5926-5359",
        "*.3141-5926-5359.alpha.api.example.com",
    )


def test_another_owners_clients_share_the_owners_wildcard() -> None:
    assert wildcard_of(a_client("User_123", admin=False)) == (
        "wildcard-3141-5926-5359-user-123",
        "*.user-123.3141-5926-5359.alpha.api.example.com",
    )


def test_names_from_hosts_are_valid_kubernetes_names_even_when_long() -> None:
    long_host = ".".join(["a" * 63] * 3) + ".customer.com"

    names = [ingress_name(long_host), host_certificate_name(long_host), object_name("x", "y.z")]

    assert all(KUBERNETES_NAME.fullmatch(name) for name in names)
    assert ingress_name(long_host) != ingress_name(long_host.replace("a", "b", 1))
    assert ingress_name("example.bots.customer.com") == "client-example-bots-customer-com"


def test_a_certificate_is_due_for_renewal_after_two_thirds_of_its_lifetime() -> None:
    certificate = ManagedCertificate(
        name="c", hosts=("h",), phase=CertificatePhase.PENDING, requested_at=START
    )
    certificate.mark_ready(START, START + timedelta(days=90), 2 / 3)

    assert not certificate.renewal_due(START + timedelta(days=59))
    assert certificate.renewal_due(START + timedelta(days=60))
    certificate.renewing = True
    assert not certificate.renewal_due(START + timedelta(days=61))

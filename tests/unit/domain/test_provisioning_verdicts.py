"""The verdicts the domain gives on provisioning: a host's resolution, a client's DNS and TLS
statuses from its hosts and certificates, and the moves those statuses make."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from smarter.domain.account_number import AccountNumber
from smarter.domain.environments import Environment, Platform
from smarter.domain.llm_client import LLMClient
from smarter.domain.provisioning import (
    CertificatePhase,
    HostCheck,
    HostRole,
    ManagedCertificate,
    ProvisionedHost,
    dns_verdict,
    tls_verdict,
)
from smarter.domain.status import DnsVerificationStatus as Dns
from smarter.domain.status import TlsCertificateIssuanceStatus as Tls

START = datetime(2026, 1, 1, tzinfo=UTC)
TARGET = "ingress.example.com"


def a_host(name: str = "bot.1234-5678-9012.alpha.api.example.com") -> ProvisionedHost:
    return ProvisionedHost(
        host=name,
        client_id=1,
        role=HostRole.DEFAULT,
        zone_id="Z1",
        record_type="CNAME",
        target=TARGET,
        certificate_name="wildcard",
        ingress_name="client-bot",
        check=HostCheck.VERIFYING,
        verify_started_at=START,
    )


def a_certificate(name: str, phase: CertificatePhase, reason: str = "") -> ManagedCertificate:
    return ManagedCertificate(
        name=name, hosts=("*.x",), phase=phase, requested_at=START, reason=reason
    )


def a_client() -> LLMClient:
    return LLMClient(
        name="bot",
        platform=Platform(environment=Environment.ALPHA),
        account_number=AccountNumber("1234-5678-9012"),
        owner_username="admin",
        owner_is_admin=True,
        deployed=True,
    )


def test_a_host_that_resolves_to_the_target_is_verified() -> None:
    host = a_host()
    assert host.observe_resolution((TARGET,), START, 60) is HostCheck.VERIFIED
    assert host.updated_at == START


def test_a_host_keeps_verifying_within_its_window_and_fails_after_it_saying_what_it_found() -> None:
    host = a_host()
    assert host.observe_resolution(("elsewhere.test",), START + timedelta(seconds=59), 60) is (
        HostCheck.VERIFYING
    )
    assert host.observe_resolution(("elsewhere.test",), START + timedelta(seconds=60), 60) is (
        HostCheck.FAILED
    )
    assert "CNAME found: elsewhere.test" in host.reason


def test_the_dns_verdict_is_verified_only_when_every_host_is() -> None:
    one, two = a_host("a.test"), a_host("b.test")
    one.check = HostCheck.VERIFIED
    verdict = dns_verdict([one, two])
    assert verdict.status is Dns.VERIFYING and verdict.waits
    two.check = HostCheck.VERIFIED
    assert dns_verdict([one, two]).status is Dns.VERIFIED


def test_one_failed_host_fails_the_dns_verdict_with_its_reason() -> None:
    one, two = a_host("a.test"), a_host("b.test")
    two.check, two.reason = HostCheck.FAILED, "b.test did not resolve"
    verdict = dns_verdict([one, two])
    assert (verdict.status, verdict.reason, verdict.waits) == (
        Dns.FAILED,
        "b.test did not resolve",
        False,
    )


def test_the_tls_verdict_follows_the_worst_certificate() -> None:
    ready = a_certificate("a", CertificatePhase.READY)
    pending = a_certificate("b", CertificatePhase.PENDING)
    failed = a_certificate("c", CertificatePhase.FAILED, "rate limited")
    assert tls_verdict([ready], ["h"]).status is Tls.ISSUED
    assert tls_verdict([ready, pending], ["h"]).waits
    verdict = tls_verdict([ready, pending, failed], ["h"])
    assert verdict.status is Tls.FAILED and verdict.reason == "certificate c: rate limited"


def test_settling_dns_passes_through_verifying_and_records_each_step() -> None:
    client = a_client()
    client.settle_dns(Dns.VERIFIED, "resolves", START)
    assert [(e.from_status, e.to_status) for e in client.events] == [
        ("Not Verified", "Verifying"),
        ("Verifying", "Verified"),
    ]


def test_a_serving_client_keeps_its_statuses_while_a_further_host_waits() -> None:
    client = a_client()
    client.settle_dns(Dns.VERIFIED, "resolves", START)
    client.settle_tls(Tls.ISSUED, "issued", START)
    client.events.clear()
    client.settle_dns(Dns.VERIFYING, "custom host written", START, serving=True)
    client.settle_tls(Tls.REQUESTED, "custom certificate ordered", START, serving=True)
    assert client.events == []
    client.settle_tls(Tls.FAILED, "refused", START, serving=True)
    assert client.tls_certificate_issuance_status is Tls.FAILED

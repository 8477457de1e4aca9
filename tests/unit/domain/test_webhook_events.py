"""Which model changes become webhook events, read off the real domain transitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from smarter.domain.account_number import AccountNumber
from smarter.domain.custom_domain import CustomDomain, VerificationReport
from smarter.domain.environments import Environment, Platform
from smarter.domain.llm_client import LLMClient
from smarter.domain.provisioning import CertificatePhase, ManagedCertificate
from smarter.domain.status import DnsVerificationStatus as Dns
from smarter.domain.status import TlsCertificateIssuanceStatus as Tls
from smarter.domain.webhook_events import (
    WebhookEvent,
    certificate_events,
    client_events,
    domain_events,
)
from smarter.domain.webhooks import WebhookEventType as Type

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
ACCOUNT = AccountNumber("3141-5926-5359")


def deployed_client() -> LLMClient:
    client = LLMClient(
        platform=Platform(environment=Environment.ALPHA),
        account_number=ACCOUNT,
        owner_username="admin",
        owner_is_admin=True,
        name="example",
        id=6,
    )
    client.request_deployment(AT)
    client.events = []  # stored by the deploy's own save
    return client


def types(events: list[WebhookEvent]) -> list[Type]:
    return [event.type for event in events]


def test_a_client_that_becomes_verified_and_issued_is_ready_once() -> None:
    client = deployed_client()
    client.settle_dns(Dns.VERIFIED, "resolves", AT)
    client.settle_tls(Tls.ISSUED, "certificate issued", AT)

    events = client_events(client, client.events)

    assert types(events) == [Type.CLIENT_READY]
    data = events[0].data["llm_client"]
    assert data["id"] == 6
    assert data["default_url"] == "https://example.3141-5926-5359.alpha.api.example.com"
    assert data["tls_certificate_issuance_status"] == "Issued"
    client.events = []
    client.settle_tls(Tls.ISSUED, "still issued", AT)  # no change, no event
    assert client_events(client, client.events) == []


def test_steps_on_the_way_are_not_events() -> None:
    client = deployed_client()
    client.settle_dns(Dns.VERIFYING, "record written", AT)

    assert client_events(client, client.events) == []


def test_a_verification_window_that_runs_out_makes_the_client_failed() -> None:
    client = deployed_client()
    client.settle_dns(Dns.VERIFYING, "record written", AT)
    client.events = []
    client.settle_dns(Dns.FAILED, "example... did not resolve within 900 s", AT)

    events = client_events(client, client.events)

    assert types(events) == [Type.CLIENT_FAILED]
    assert events[0].data["reason"] == "example... did not resolve within 900 s"


def test_a_failed_certificate_makes_the_client_failed() -> None:
    client = deployed_client()
    client.settle_dns(Dns.VERIFIED, "resolves", AT)
    client.settle_tls(Tls.FAILED, "the CA refused", AT)

    assert types(client_events(client, client.events)) == [Type.CLIENT_FAILED]


def test_a_teardown_after_undeploy_is_undeployed_and_names_a_deletion() -> None:
    client = deployed_client()
    client.settle_dns(Dns.VERIFIED, "resolves", AT)
    client.settle_tls(Tls.ISSUED, "issued", AT)
    client.request_undeployment(AT)
    client.events = []
    client.reset_statuses("undeployed: record, certificate and Ingress removed", AT)

    events = client_events(client, client.events)
    deleted = client_events(client, client.events, deleted=True)

    assert types(events) == [Type.CLIENT_UNDEPLOYED]
    assert events[0].data["deleted"] is False
    assert deleted[0].data["deleted"] is True


def test_deploying_a_client_still_verified_and_issued_makes_it_ready_at_once() -> None:
    client = deployed_client()
    client.settle_dns(Dns.VERIFIED, "resolves", AT)
    client.settle_tls(Tls.ISSUED, "issued", AT)
    client.request_undeployment(AT)
    client.events = []
    client.request_deployment(AT)  # before the teardown ran

    assert types(client_events(client, client.events)) == [Type.CLIENT_READY]


def test_a_domain_announces_verification_and_loss() -> None:
    domain = CustomDomain(domain_name="customer.com", account_number=ACCOUNT, id=3)
    domain.mark_verified(VerificationReport(checked_at=AT, message="verified"))

    verified = domain_events(False, domain, AT)
    domain.is_verified = False
    lost = domain_events(True, domain, AT)

    assert types(verified) == [Type.DOMAIN_VERIFIED]
    assert verified[0].data["custom_domain"]["domain_name"] == "customer.com"
    assert types(lost) == [Type.DOMAIN_LOST]
    assert domain_events(False, domain, AT) == []


def certificate(phase: CertificatePhase, not_after: datetime | None = None) -> ManagedCertificate:
    return ManagedCertificate(
        name="wildcard-3141-5926-5359",
        hosts=("*.3141-5926-5359.alpha.api.example.com",),
        phase=phase,
        requested_at=AT,
        not_after=not_after,
    )


def test_certificates_are_issued_renewed_and_failed() -> None:
    pending = certificate(CertificatePhase.PENDING)
    ready = certificate(CertificatePhase.READY, AT + timedelta(days=90))
    renewing = msgspec.structs.replace(ready, renewing=True)
    renewed = certificate(CertificatePhase.READY, AT + timedelta(days=150))
    renewal_failed = msgspec.structs.replace(ready, reason="renewal failed: rate limited")

    assert types(certificate_events(pending, ready, AT)) == [Type.CERTIFICATE_ISSUED]
    assert types(certificate_events(None, ready, AT)) == [Type.CERTIFICATE_ISSUED]
    assert types(certificate_events(renewing, renewed, AT)) == [Type.CERTIFICATE_RENEWED]
    assert types(certificate_events(renewing, renewal_failed, AT)) == [Type.CERTIFICATE_FAILED]
    failed = certificate(CertificatePhase.FAILED)
    assert types(certificate_events(pending, failed, AT)) == [Type.CERTIFICATE_FAILED]
    assert certificate_events(failed, failed, AT) == []
    assert certificate_events(ready, ready, AT) == []
    assert certificate_events(ready, renewing, AT) == []


def test_an_event_body_has_type_timestamp_and_data() -> None:
    event = WebhookEvent(type=Type.DOMAIN_LOST, at=AT, data={"x": 1})

    assert msgspec.json.decode(event.body()) == {
        "type": "domain.lost",
        "timestamp": "2026-01-02T03:04:05Z",
        "data": {"x": 1},
    }

"""The DNS and TLS state machines: explicit tables, an event for each allowed change."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from smarter.domain.errors import DomainError, IllegalTransition
from smarter.domain.status import (
    DNS_TRANSITIONS,
    TLS_TRANSITIONS,
    DnsVerificationStatus,
    StatusEvent,
    StatusField,
    TlsCertificateIssuanceStatus,
    dns_transition,
    tls_transition,
)

AT = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)

DNS_ALLOWED = [
    (current, target) for current, targets in DNS_TRANSITIONS.items() for target in targets
]
DNS_FORBIDDEN = [
    pair
    for pair in itertools.product(DnsVerificationStatus, repeat=2)
    if pair[1] not in DNS_TRANSITIONS[pair[0]]
]
TLS_ALLOWED = [
    (current, target) for current, targets in TLS_TRANSITIONS.items() for target in targets
]
TLS_FORBIDDEN = [
    pair
    for pair in itertools.product(TlsCertificateIssuanceStatus, repeat=2)
    if pair[1] not in TLS_TRANSITIONS[pair[0]]
]


def test_the_status_values_are_exactly_those_of_the_original_platform() -> None:
    assert [s.value for s in DnsVerificationStatus] == [
        "Not Verified",
        "Verifying",
        "Verified",
        "Failed",
    ]
    assert [s.value for s in TlsCertificateIssuanceStatus] == [
        "No Certificate",
        "Requested",
        "Issued",
        "Failed",
    ]


def test_every_status_has_a_row_in_its_table() -> None:
    assert set(DNS_TRANSITIONS) == set(DnsVerificationStatus)
    assert set(TLS_TRANSITIONS) == set(TlsCertificateIssuanceStatus)


def test_no_status_moves_to_itself() -> None:
    assert all(current not in targets for current, targets in DNS_TRANSITIONS.items())
    assert all(current not in targets for current, targets in TLS_TRANSITIONS.items())


def test_the_tables_allow_every_provisioning_path() -> None:
    dns, tls = DnsVerificationStatus, TlsCertificateIssuanceStatus
    assert (dns.NOT_VERIFIED, dns.VERIFYING) in DNS_ALLOWED
    assert (dns.VERIFYING, dns.VERIFIED) in DNS_ALLOWED
    assert (dns.VERIFYING, dns.FAILED) in DNS_ALLOWED
    assert (tls.NO_CERTIFICATE, tls.REQUESTED) in TLS_ALLOWED
    assert (tls.REQUESTED, tls.ISSUED) in TLS_ALLOWED
    assert (tls.REQUESTED, tls.FAILED) in TLS_ALLOWED
    # Nothing is verified or issued without first being checked or requested.
    assert (dns.NOT_VERIFIED, dns.VERIFIED) in DNS_FORBIDDEN
    assert (tls.NO_CERTIFICATE, tls.ISSUED) in TLS_FORBIDDEN


@pytest.mark.parametrize(("current", "target"), DNS_ALLOWED)
def test_each_allowed_dns_transition_yields_an_event_for_the_timeline(
    current: DnsVerificationStatus, target: DnsVerificationStatus
) -> None:
    event = dns_transition(current, target, "checked the record", AT)
    assert event == StatusEvent(
        at=AT,
        field=StatusField.DNS,
        from_status=current.value,
        to_status=target.value,
        reason="checked the record",
    )


@pytest.mark.parametrize(("current", "target"), TLS_ALLOWED)
def test_each_allowed_tls_transition_yields_an_event_for_the_timeline(
    current: TlsCertificateIssuanceStatus, target: TlsCertificateIssuanceStatus
) -> None:
    event = tls_transition(current, target, "asked the CA", AT)
    assert event == StatusEvent(
        at=AT,
        field=StatusField.TLS,
        from_status=current.value,
        to_status=target.value,
        reason="asked the CA",
    )


@pytest.mark.parametrize(("current", "target"), DNS_FORBIDDEN)
def test_each_dns_transition_outside_the_table_is_illegal(
    current: DnsVerificationStatus, target: DnsVerificationStatus
) -> None:
    with pytest.raises(IllegalTransition) as caught:
        dns_transition(current, target, "no", AT)
    error = caught.value
    assert (error.machine, error.current, error.target) == (
        "dns_verification_status",
        current.value,
        target.value,
    )
    assert error.message == (
        f"dns_verification_status cannot go from '{current.value}' to '{target.value}'"
    )
    assert isinstance(error, DomainError)


@pytest.mark.parametrize(("current", "target"), TLS_FORBIDDEN)
def test_each_tls_transition_outside_the_table_is_illegal(
    current: TlsCertificateIssuanceStatus, target: TlsCertificateIssuanceStatus
) -> None:
    with pytest.raises(IllegalTransition) as caught:
        tls_transition(current, target, "no", AT)
    error = caught.value
    assert (error.machine, error.current, error.target) == (
        "tls_certificate_issuance_status",
        current.value,
        target.value,
    )


def test_the_allowed_and_forbidden_pairs_cover_every_pair_once() -> None:
    assert len(DNS_ALLOWED) + len(DNS_FORBIDDEN) == len(DnsVerificationStatus) ** 2
    assert len(TLS_ALLOWED) + len(TLS_FORBIDDEN) == len(TlsCertificateIssuanceStatus) ** 2
    assert not set(DNS_ALLOWED) & set(DNS_FORBIDDEN)
    assert not set(TLS_ALLOWED) & set(TLS_FORBIDDEN)

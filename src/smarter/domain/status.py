"""The two observed-status state machines of a client (DNS verification and TLS certificate
issuance), as explicit tables.

A change that is not in the table raises IllegalTransition; every allowed change yields a
StatusEvent for the client's timeline.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import TypeVar

import msgspec

from smarter.domain.errors import IllegalTransition


class DnsVerificationStatus(enum.StrEnum):
    NOT_VERIFIED = "Not Verified"
    VERIFYING = "Verifying"
    VERIFIED = "Verified"
    FAILED = "Failed"


class TlsCertificateIssuanceStatus(enum.StrEnum):
    NO_CERTIFICATE = "No Certificate"
    REQUESTED = "Requested"
    ISSUED = "Issued"
    FAILED = "Failed"


_DNS = DnsVerificationStatus
_TLS = TlsCertificateIssuanceStatus

DNS_TRANSITIONS: dict[DnsVerificationStatus, frozenset[DnsVerificationStatus]] = {
    _DNS.NOT_VERIFIED: frozenset({_DNS.VERIFYING}),
    # Undeploy may interrupt a verification; a window that runs out fails it.
    _DNS.VERIFYING: frozenset({_DNS.VERIFIED, _DNS.FAILED, _DNS.NOT_VERIFIED}),
    # A record that stops resolving is verified again; teardown resets.
    _DNS.VERIFIED: frozenset({_DNS.VERIFYING, _DNS.NOT_VERIFIED}),
    _DNS.FAILED: frozenset({_DNS.VERIFYING, _DNS.NOT_VERIFIED}),
}

TLS_TRANSITIONS: dict[TlsCertificateIssuanceStatus, frozenset[TlsCertificateIssuanceStatus]] = {
    _TLS.NO_CERTIFICATE: frozenset({_TLS.REQUESTED}),
    _TLS.REQUESTED: frozenset({_TLS.ISSUED, _TLS.FAILED, _TLS.NO_CERTIFICATE}),
    # Renewal requests again; teardown removes the certificate.
    _TLS.ISSUED: frozenset({_TLS.REQUESTED, _TLS.NO_CERTIFICATE}),
    _TLS.FAILED: frozenset({_TLS.REQUESTED, _TLS.NO_CERTIFICATE}),
}


_S = TypeVar("_S", DnsVerificationStatus, TlsCertificateIssuanceStatus)


class StatusField(enum.StrEnum):
    DNS = "dns_verification_status"
    TLS = "tls_certificate_issuance_status"
    DEPLOYED = "deployed"
    # A custom domain or hostname of the client became verified or unverified.
    CUSTOM_HOST = "custom_host"
    # The sweep found a host's record, Ingress or certificate changed behind the platform's
    # back, and put it back.
    DRIFT = "drift"


class StatusEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of a client's status timeline."""

    at: datetime
    field: StatusField
    from_status: str
    to_status: str
    reason: str


def dns_transition(
    current: DnsVerificationStatus, target: DnsVerificationStatus, reason: str, at: datetime
) -> StatusEvent:
    return _transition(StatusField.DNS, DNS_TRANSITIONS, current, target, reason, at)


def tls_transition(
    current: TlsCertificateIssuanceStatus,
    target: TlsCertificateIssuanceStatus,
    reason: str,
    at: datetime,
) -> StatusEvent:
    return _transition(StatusField.TLS, TLS_TRANSITIONS, current, target, reason, at)


def _transition(
    field: StatusField,
    table: Mapping[_S, frozenset[_S]],
    current: _S,
    target: _S,
    reason: str,
    at: datetime,
) -> StatusEvent:
    if target not in table[current]:
        raise IllegalTransition(field.value, current.value, target.value)
    return StatusEvent(at=at, field=field, from_status=current, to_status=target, reason=reason)

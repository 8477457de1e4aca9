"""Observed state of provisioning: what the platform made for each host, and the certificates.

The reconciler compares a client's desired hosts with these records and stores every step
here, so that a restart, a rename or an undeploy knows what exists and must be removed.
Default hosts share wildcard certificates (one per account, one per non-admin owner label),
so that deployments are not capped by a public CA's weekly limit per registered domain.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Iterable
from datetime import datetime

import msgspec

from smarter.domain.llm_client import LLMClient, dns_label
from smarter.domain.status import DnsVerificationStatus, TlsCertificateIssuanceStatus

# Kubernetes object names are DNS labels here (63 characters), which Secrets, Ingresses
# and cert-manager Certificates all accept.
MAX_OBJECT_NAME = 63
_NOT_IN_NAME = re.compile(r"[^a-z0-9-]+")


class HostRole(enum.StrEnum):
    DEFAULT = "default"  # <name>.<account>.<api domain>, in the platform's zone
    CUSTOM = "custom"  # <name>.<custom domain>, in the customer's zone
    HOSTNAME = "hostname"  # a custom hostname, whose record the customer holds


# The zone of a host whose record the customer holds (a custom hostname): none of ours.
CUSTOMER_HELD = ""


class HostCheck(enum.StrEnum):
    """DNS verification of one host; the client's status combines those of its hosts."""

    PENDING = "pending"  # record not written yet
    VERIFYING = "verifying"
    VERIFIED = "verified"
    FAILED = "failed"


class ProvisionedHost(msgspec.Struct, kw_only=True):
    """One host of a client as provisioned: its record, certificate and Ingress."""

    host: str
    client_id: int
    role: HostRole
    zone_id: str
    record_type: str  # "CNAME" or "A"
    target: str
    certificate_name: str
    ingress_name: str
    check: HostCheck = HostCheck.PENDING
    # The record change (of the platform's batches) the host waits for, until it is live.
    record_change_id: int | None = None
    verify_started_at: datetime | None = None
    reason: str = ""
    ingress_applied: bool = False
    updated_at: datetime | None = None
    checked_at: datetime | None = None  # last compared with what should be (drift)

    @property
    def has_own_record(self) -> bool:
        """Whether the platform writes (and deletes) this host's record."""
        return self.zone_id != CUSTOMER_HELD

    def observe_resolution(self, found: tuple[str, ...], at: datetime, window: float) -> HostCheck:
        """Judge what resolving the host found: verified when the target is among the
        answers, failed once `window` seconds passed since verification started (the reason
        says what was found instead), else still verifying."""
        if self.check is not HostCheck.VERIFYING:
            return self.check
        if self.target in found:
            self.check, self.reason = HostCheck.VERIFIED, f"{self.host} resolves"
        elif self.verifying_for(at) >= window:
            self.check = HostCheck.FAILED
            self.reason = (
                f"{self.host} did not resolve to {self.target} within {window:g} s "
                f"({self.record_type} found: {', '.join(found) or 'nothing'})"
            )
        self.updated_at = at
        return self.check

    def fail(self, reason: str, at: datetime) -> None:
        self.check, self.reason, self.updated_at = HostCheck.FAILED, reason, at

    def verifying_for(self, at: datetime) -> float:
        """Seconds since verification started (0 before it did)."""
        since = self.verify_started_at
        return 0.0 if since is None else (at - since).total_seconds()


class DnsVerdict(msgspec.Struct, frozen=True, kw_only=True):
    """What a client's DNS status should be, from its hosts."""

    status: DnsVerificationStatus
    reason: str

    @property
    def waits(self) -> bool:
        return self.status is DnsVerificationStatus.VERIFYING


class TlsVerdict(msgspec.Struct, frozen=True, kw_only=True):
    """What a client's TLS status should be, from its certificates."""

    status: TlsCertificateIssuanceStatus
    reason: str

    @property
    def waits(self) -> bool:
        return self.status is TlsCertificateIssuanceStatus.REQUESTED


def dns_verdict(hosts: Iterable[ProvisionedHost]) -> DnsVerdict:
    """Verified when every host resolves; failed as soon as one failed; else verifying."""
    hosts = list(hosts)
    failed = [host.reason for host in hosts if host.check is HostCheck.FAILED]
    if failed:
        return DnsVerdict(status=DnsVerificationStatus.FAILED, reason="; ".join(failed))
    if all(host.check is HostCheck.VERIFIED for host in hosts):
        names = ", ".join(host.host for host in hosts)
        return DnsVerdict(
            status=DnsVerificationStatus.VERIFIED, reason=f"{names} resolve to the target"
        )
    waiting = ", ".join(h.host for h in hosts if h.check is not HostCheck.VERIFIED)
    return DnsVerdict(status=DnsVerificationStatus.VERIFYING, reason=f"waiting for {waiting}")


def tls_verdict(certificates: Iterable[ManagedCertificate], hosts: Iterable[str]) -> TlsVerdict:
    """Failed when a certificate failed; requested while one is pending; else issued (the
    caller applied the Ingress of every host whose certificate is ready)."""
    certificates = list(certificates)
    names = ", ".join(c.name for c in certificates)
    failed = [c for c in certificates if c.phase is CertificatePhase.FAILED]
    if failed:
        reason = "; ".join(f"certificate {c.name}: {c.reason}" for c in failed)
        return TlsVerdict(status=TlsCertificateIssuanceStatus.FAILED, reason=reason)
    if any(c.phase is CertificatePhase.PENDING for c in certificates):
        return TlsVerdict(
            status=TlsCertificateIssuanceStatus.REQUESTED, reason=f"certificate {names} ordered"
        )
    reason = f"certificate {names} issued; Ingress applied for {', '.join(hosts)}"
    return TlsVerdict(status=TlsCertificateIssuanceStatus.ISSUED, reason=reason)


class CertificatePhase(enum.StrEnum):
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


class ManagedCertificate(msgspec.Struct, kw_only=True):
    """A certificate the platform ordered; `renewing` while a renewal is pending."""

    name: str
    hosts: tuple[str, ...]
    phase: CertificatePhase
    requested_at: datetime
    not_before: datetime | None = None
    not_after: datetime | None = None
    renew_after: datetime | None = None
    renewing: bool = False
    reason: str = ""

    def mark_ready(
        self, not_before: datetime | None, not_after: datetime | None, fraction: float
    ) -> None:
        self.phase, self.renewing, self.reason = CertificatePhase.READY, False, ""
        self.not_before, self.not_after = not_before, not_after
        self.renew_after = renewal_time(not_before or self.requested_at, not_after, fraction)

    def renewal_due(self, now: datetime) -> bool:
        """Ready, past the renewal point, and no renewal pending already."""
        return (
            self.phase is CertificatePhase.READY
            and not self.renewing
            and self.renew_after is not None
            and now >= self.renew_after
        )


def renewal_time(
    not_before: datetime, not_after: datetime | None, fraction: float
) -> datetime | None:
    """The moment `fraction` of the certificate's lifetime has passed."""
    if not_after is None:
        return None
    return not_before + (not_after - not_before) * fraction


def object_name(*parts: str) -> str:
    """A valid, deterministic Kubernetes object name from `parts` (hashed when too long)."""
    raw = "-".join(parts).lower().replace(".", "-").replace("*", "wildcard")
    name = re.sub(r"-{2,}", "-", _NOT_IN_NAME.sub("-", raw)).strip("-")
    if len(name) <= MAX_OBJECT_NAME:
        return name
    digest = hashlib.sha256(raw.encode()).hexdigest()[:10]
    return f"{name[: MAX_OBJECT_NAME - len(digest) - 1].rstrip('-')}-{digest}"


def ingress_name(host: str) -> str:
    return object_name("client", host)


def host_certificate_name(host: str) -> str:
    return object_name("host", host)


def wildcard_of(client: LLMClient) -> tuple[str, str]:
    """The shared certificate covering the client's default host: (name, wildcard host).

    `*.<account>.<api domain>` for the account admin's clients; `*.<owner>.<account>.<api
    domain>` for another owner's, whose hosts carry the owner's label (`<name>.<owner>`).
    """
    parent = client.default_host.split(".", 1)[1]
    parts = ["wildcard", str(client.account_number)]
    if not client.owner_is_admin:
        parts.append(dns_label(client.owner_username, "owner_username"))
    return object_name(*parts), f"*.{parent}"

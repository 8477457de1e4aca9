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
from datetime import datetime

import msgspec

from smarter.domain.llm_client import LLMClient, dns_label

# Kubernetes object names are DNS labels here (63 characters), which Secrets, Ingresses
# and cert-manager Certificates all accept.
MAX_OBJECT_NAME = 63
_NOT_IN_NAME = re.compile(r"[^a-z0-9-]+")


class HostRole(enum.StrEnum):
    DEFAULT = "default"  # <name>.<account>.<api domain>, in the platform's zone
    CUSTOM = "custom"  # <name>.<custom domain>, in the customer's zone


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
    change_id: str | None = None
    verify_started_at: datetime | None = None
    reason: str = ""
    ingress_applied: bool = False
    updated_at: datetime | None = None


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
    domain>` for another owner's, whose hosts carry the owner's label (seed 003).
    """
    parent = client.default_host.split(".", 1)[1]
    parts = ["wildcard", str(client.account_number)]
    if not client.owner_is_admin:
        parts.append(dns_label(client.owner_username, "owner_username"))
    return object_name(*parts), f"*.{parent}"

"""What every provisioning step works with: the ports of one job, the policy, the backoff."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime

import msgspec

from smarter.application.infrastructure import Certificates, Cluster, DnsResolver, DnsZones
from smarter.application.ports import Clock, UnitOfWork


class ProvisioningPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """How the platform provisions hosts (from the settings)."""

    ingress_target: str  # a host name (CNAME records) or an IPv4 address (A records)
    platform_zone: str  # the hosted zone default hosts are written into
    verification_window_seconds: float = 900.0
    first_retry_seconds: float = 5.0
    max_retry_seconds: float = 300.0
    certificate_renew_fraction: float = 2 / 3
    # How long an order claimed by a worker that died before placing it blocks a new order.
    certificate_claim_seconds: float = 60.0
    # Customers change their registrar's NS records in their own time.
    domain_verification_window_seconds: float = 7 * 24 * 3600.0
    sweep_batch: int = 500

    @property
    def record_type(self) -> str:
        try:
            ipaddress.IPv4Address(self.ingress_target)
        except ValueError:
            return "CNAME"
        return "A"

    @property
    def target(self) -> str:
        return self.ingress_target.lower().rstrip(".")


@dataclass(frozen=True)
class Provisioner:
    """The ports one job uses."""

    uow: UnitOfWork
    clock: Clock
    zones: DnsZones
    resolver: DnsResolver
    cluster: Cluster
    certificates: Certificates
    policy: ProvisioningPolicy

    def backoff(self, since: datetime | None, window: float | None = None) -> float:
        """Wait about as long again as we have waited, between the policy's bounds, and
        never past the end of `window` (so that giving up happens on time)."""
        waited = 0.0 if since is None else (self.clock.now() - since).total_seconds()
        delay = min(self.policy.max_retry_seconds, max(self.policy.first_retry_seconds, waited))
        if window is not None:
            delay = min(delay, max(window - waited, 0.0) + 0.001)
        return delay

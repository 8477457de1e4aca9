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
    # How long record changes wait for others to share their Route 53 change batch.
    dns_batch_window_seconds: float = 1.0
    # Record values per change batch (Route 53: at most 1,000, an UPSERT's counting twice).
    dns_batch_values: int = 1000
    # How often a change batch in flight, and a certificate being issued, are asked about
    # (at first: the interval grows with the wait, up to `max_poll_seconds`).
    poll_seconds: float = 2.0
    max_poll_seconds: float = 15.0
    # Custom hostnames: what their CNAME points at (default `custom.<platform zone>`), the
    # addresses an apex name's A records hold (default: the ingress target if it is one).
    custom_hostname_target: str = ""
    ingress_addresses: tuple[str, ...] = ()
    # Verified domains and hostnames are checked again this often, and unverified after
    # this many failed checks in a row.
    reverify_seconds: float = 24 * 3600.0
    reverify_failures: int = 3
    # Failed clients are tried again this long after they failed; ready clients checked for
    # drift per sweep.
    failed_retry_seconds: float = 6 * 3600.0
    drift_checks_per_sweep: int = 20

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

    @property
    def hostname_target(self) -> str:
        return (self.custom_hostname_target or f"custom.{self.platform_zone}").lower()

    @property
    def apex_addresses(self) -> tuple[str, ...]:
        if self.ingress_addresses:
            return self.ingress_addresses
        return (self.target,) if self.record_type == "A" else ()

    @property
    def challenge_zone(self) -> str:
        """Where customers' `_acme-challenge` CNAMEs point: a part of the platform's zone."""
        return f"acme.{self.platform_zone}"


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

    def poll(self, since: datetime | None) -> float:
        """When to ask again about something expected soon: `poll_seconds` at first, then a
        quarter of the wait so far, up to `max_poll_seconds`."""
        waited = 0.0 if since is None else (self.clock.now() - since).total_seconds()
        policy = self.policy
        return min(policy.max_poll_seconds, max(policy.poll_seconds, waited / 4))

    def backoff(self, since: datetime | None, window: float | None = None) -> float:
        """Wait about as long again as we have waited, between the policy's bounds, and
        never past the end of `window` (so that giving up happens on time)."""
        waited = 0.0 if since is None else (self.clock.now() - since).total_seconds()
        delay = min(self.policy.max_retry_seconds, max(self.policy.first_retry_seconds, waited))
        if window is not None:
            delay = min(delay, max(window - waited, 0.0) + 0.001)
        return delay

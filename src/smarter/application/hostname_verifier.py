"""Checking a custom hostname's records: ownership (TXT), routing (CNAME, or A at an apex) and
the delegation of certificate challenges (CNAME), through public DNS.

A pending hostname is checked with backoff for the domain verification window, and verified
when every record is in place. A verified one is checked again now and then (the sweep asks);
after `reverify_failures` failed checks in a row it is unverified: its client stops answering
on it (the reconciler removes its Ingress and certificate) and keeps its default host. Both
changes are events in the client's timeline, with what was found.
"""

from __future__ import annotations

from smarter.application.custom_hostnames import HostnameSetup
from smarter.application.dns_batches import request_record_change
from smarter.application.infrastructure import DnsRecord, InfrastructureError
from smarter.application.jobs import ReconcileClient
from smarter.application.provisioning_context import Provisioner
from smarter.domain.custom_hostname import CustomHostname, HostnameCheck, judge_records
from smarter.domain.errors import Conflict
from smarter.domain.status import StatusField


class HostnameVerifier:
    def __init__(self, p: Provisioner) -> None:
        self._p = p

    async def run(self, hostname_id: int) -> float | None:
        p = self._p
        hostname = await p.uow.hostnames.find(hostname_id)
        if hostname is None:
            return None
        check = await self._check(hostname)
        change = hostname.observe(check, p.policy.reverify_failures)
        try:
            await p.uow.hostnames.save(hostname)
        except Conflict:
            await p.uow.rollback()
            await self._taken(hostname_id)
            return None
        if change is not None:
            await self._announce(hostname, change, check)
        await p.uow.commit()
        if hostname.is_verified:
            return None  # checked again by the sweep, daily
        waited = (p.clock.now() - (hostname.created_at or p.clock.now())).total_seconds()
        if waited >= p.policy.domain_verification_window_seconds:
            return None  # given up; the sweep still checks now and then
        return p.backoff(hostname.created_at, p.policy.domain_verification_window_seconds)

    async def _check(self, hostname: CustomHostname) -> HostnameCheck:
        wanted = HostnameSetup.of(self._p.policy).records_of(hostname)
        found: dict[str, tuple[str, ...]] = {}
        for record in wanted:
            try:
                found[f"{record.name} {record.type}"] = await self._p.resolver.resolve(
                    record.name, record.type
                )
            except InfrastructureError:  # a lame or missing zone answers like no record
                found[f"{record.name} {record.type}"] = ()
        return judge_records(wanted, found, self._p.clock.now())

    async def _announce(self, hostname: CustomHostname, change: str, check: HostnameCheck) -> None:
        """Reconcile the client (its host comes or goes) and say so in its timeline."""
        p = self._p
        client = await p.uow.clients.find(hostname.client_id)
        if client is None:
            return
        if change == "verified":
            await self._ensure_target()
            reason = f"{hostname.hostname} verified: its records are in place"
        else:
            reason = (
                f"{hostname.hostname} unverified after {p.policy.reverify_failures} failed "
                f"checks: {check.message}; the default host keeps serving"
            )
        before = "unverified" if change == "verified" else "verified"
        client.note(StatusField.CUSTOM_HOST, before, change, reason, p.clock.now())
        await p.uow.clients.save_statuses(client)
        p.uow.outbox.add(ReconcileClient(client_id=hostname.client_id))

    async def _ensure_target(self) -> None:
        """The name customers' CNAMEs point at must itself lead to the ingress."""
        p = self._p
        zone = await p.zones.find_zone(p.policy.platform_zone)
        if zone is None:
            raise InfrastructureError(f"no hosted zone {p.policy.platform_zone}")
        record = DnsRecord(
            name=p.policy.hostname_target, type=p.policy.record_type, values=(p.policy.target,)
        )
        await request_record_change(p, zone.id, "UPSERT", record)

    async def _taken(self, hostname_id: int) -> None:
        """Another account verified the hostname first: this registration stays pending."""
        p = self._p
        hostname = await p.uow.hostnames.find(hostname_id)
        if hostname is not None and hostname.last_check is not None:
            hostname.is_verified = False
            hostname.last_check = HostnameCheck(
                checked_at=hostname.last_check.checked_at,
                records=hostname.last_check.records,
                message=f"{hostname.hostname} was verified by another account first",
            )
            await p.uow.hostnames.save(hostname)
            await p.uow.commit()

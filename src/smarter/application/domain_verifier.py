"""Custom domains: a zone per registration, a marker, then the proof of control; later,
re-checks.

The job creates the registration's hosted zone (caller reference unique to the registration),
stores its name servers for the customer and writes the TXT marker `_smarter.<domain>` with a
value unique to the registration. Verification asks public resolvers for the domain's NS
records and the marker: the account proved control only when the NS are exactly the zone's
name servers and the marker is this registration's. The first registration to verify wins;
the other pending registrations of the name are released and their zones deleted.

A verified domain is checked again now and then (the sweep asks, daily by default); after
`reverify_failures` failed checks in a row it is unverified: its clients' custom hosts stop
(the reconciler removes them; default hosts keep serving) and each client's timeline says why.
It is then pending again: a later check that proves control verifies it and brings them back.
"""

from __future__ import annotations

import hashlib

from smarter.application.infrastructure import DnsRecord, InfrastructureError
from smarter.application.jobs import DeleteDomainZone, ReconcileClient
from smarter.application.ports import DomainRegistration
from smarter.application.provisioning_context import Provisioner
from smarter.domain.custom_domain import CustomDomain, VerificationReport
from smarter.domain.errors import Conflict, NotFound
from smarter.domain.status import StatusField


def caller_reference(registration: DomainRegistration, platform_zone: str) -> str:
    """Unique to the registration, not only to its id: environments sharing one AWS account
    keep their own databases (ids repeat), a database may be recreated, and Route 53 refuses a
    reference used before, even for a deleted zone (moto would hand back the other's zone)."""
    domain = registration.domain
    scope = f"{platform_zone}|{domain.domain_name}|{registration.registered_at.isoformat()}"
    return f"smarter-domain-{domain.id}-{hashlib.sha256(scope.encode()).hexdigest()[:24]}"


def marker_value(domain: CustomDomain) -> str:
    return f"smarter-verification={domain.account_number}-{domain.id}"


def _names(values: tuple[str, ...]) -> set[str]:
    return {value.lower().rstrip(".") for value in values}


class DomainVerifier:
    def __init__(self, p: Provisioner) -> None:
        self._p = p

    async def run(self, domain_id: int) -> float | None:
        p = self._p
        registration = await p.uow.provisioning.registration(domain_id)
        if registration is None:
            return None
        domain = registration.domain
        if domain.is_verified:
            await self._recheck(domain)
            return None
        if domain.aws_hosted_zone_id is None and not await self._prepare(registration):
            return None
        report, proven = await self._check(domain)
        if proven:
            await self._win(domain, report)
            return None
        domain.record_failed_check(report)
        await p.uow.domains.save(domain)
        await p.uow.commit()
        waited = (p.clock.now() - registration.registered_at).total_seconds()
        window = p.policy.domain_verification_window_seconds
        if waited >= window:
            return None  # given up; the periodic sweep still checks now and then
        return p.backoff(registration.registered_at, window)

    async def _prepare(self, registration: DomainRegistration) -> bool:
        """Create the zone and the marker; False if the registration went meanwhile."""
        p, domain = self._p, registration.domain
        reference = caller_reference(registration, p.policy.platform_zone)
        zone = await p.zones.ensure_zone(domain.domain_name, reference)
        marker = DnsRecord(name=domain.marker_name, type="TXT", values=(marker_value(domain),))
        await p.zones.upsert(zone.id, [marker])
        domain.aws_hosted_zone_id, domain.name_servers = zone.id, zone.name_servers
        try:
            await p.uow.domains.save(domain)
            await p.uow.commit()
        except NotFound:
            await p.uow.rollback()
            await p.zones.delete_zone(zone.id)  # deleted while we created its zone
            return False
        return True

    async def _check(self, domain: CustomDomain) -> tuple[VerificationReport, bool]:
        """What public DNS says, and whether it proves this registration controls the name."""
        p = self._p
        problems: list[str] = []
        found_ns = await self._lookup(domain.domain_name, "NS", problems)
        found_marker = await self._lookup(domain.marker_name, "TXT", problems)
        expected = _names(domain.name_servers)
        if _names(found_ns) != expected:
            problems.append(
                f"the NS records of {domain.domain_name} are "
                f"{', '.join(sorted(_names(found_ns))) or 'missing'}; "
                f"set them to {', '.join(sorted(expected))}"
            )
        if marker_value(domain) not in found_marker:
            problems.append(f"{domain.marker_name} does not answer with this registration's marker")
        report = VerificationReport(
            checked_at=p.clock.now(),
            name_servers_found=tuple(sorted(_names(found_ns))),
            marker_found=found_marker,
            message="; ".join(problems) or "verified: the name servers and the marker match",
        )
        return report, not problems

    async def _lookup(self, name: str, rdtype: str, problems: list[str]) -> tuple[str, ...]:
        """The answers, or none: a lookup that fails (a lame or missing delegation answers
        SERVFAIL or REFUSED) is what the customer must see in the report, not a provider error
        retried in silence."""
        try:
            return await self._p.resolver.resolve(name, rdtype)
        except InfrastructureError as error:
            problems.append(str(error))
            return ()

    async def _win(self, domain: CustomDomain, report: VerificationReport) -> None:
        p = self._p
        others = [
            other
            for other in await p.uow.provisioning.registrations_named(domain.domain_name)
            if other.id != domain.id
        ]
        if any(other.is_verified for other in others):
            await self._lose(domain, report)
            return
        domain.mark_verified(report)
        try:
            await p.uow.domains.save(domain)
        except Conflict:
            await p.uow.rollback()
            await self._lose(domain, report)
            return
        for other in others:  # first to verify wins: release the pending ones
            await p.uow.domains.delete(other)
            if other.aws_hosted_zone_id:
                p.uow.outbox.add(DeleteDomainZone(zone_id=other.aws_hosted_zone_id))
        await self._tell_clients(domain, "verified", f"{domain.domain_name} verified")
        await p.uow.commit()

    async def _recheck(self, domain: CustomDomain) -> None:
        p = self._p
        report, proven = await self._check(domain)
        unverified = domain.recheck(report, proven, p.policy.reverify_failures)
        await p.uow.domains.save(domain)
        if unverified:
            reason = (
                f"{domain.domain_name} unverified after {p.policy.reverify_failures} failed "
                f"checks: {report.message}; the default host keeps serving"
            )
            await self._tell_clients(domain, "unverified", reason)
        await p.uow.commit()

    async def _tell_clients(self, domain: CustomDomain, change: str, reason: str) -> None:
        """Reconcile the domain's clients (their custom hosts come or go), with an event."""
        p = self._p
        before = "unverified" if change == "verified" else "verified"
        for client_id in await p.uow.provisioning.clients_on_domain(domain.id or 0):
            client = await p.uow.clients.find(client_id)
            if client is not None:
                client.note(StatusField.CUSTOM_HOST, before, change, reason, p.clock.now())
                await p.uow.clients.save_statuses(client)
            p.uow.outbox.add(ReconcileClient(client_id=client_id))

    async def _lose(self, domain: CustomDomain, report: VerificationReport) -> None:
        lost = VerificationReport(
            checked_at=report.checked_at,
            name_servers_found=report.name_servers_found,
            marker_found=report.marker_found,
            message=f"{domain.domain_name} was verified by another account first",
        )
        domain.record_failed_check(lost)
        await self._p.uow.domains.save(domain)
        await self._p.uow.commit()

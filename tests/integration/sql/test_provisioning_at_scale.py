"""The repositories behind batching, custom hostnames and re-checks, on SQLite and PostgreSQL:
record changes waiting for their batch, hostname registrations, and what the sweep selects
(domains and hostnames due for a check, ready clients for drift, Failed clients to retry)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from smarter.adapters.sql.unit_of_work import SqlUnitOfWork
from smarter.application.dns_changes import DnsChange, DnsChangeState
from smarter.application.infrastructure import DnsRecord
from smarter.domain.custom_domain import CustomDomain, VerificationReport
from smarter.domain.custom_hostname import CustomHostname, judge_records
from smarter.domain.environments import Platform
from smarter.domain.errors import Conflict, NotFound
from smarter.domain.provisioning import HostCheck, HostRole, ProvisionedHost
from smarter.domain.status import DnsVerificationStatus as Dns
from smarter.domain.status import TlsCertificateIssuanceStatus as Tls

from .factories import MOMENT, NUMBER, OTHER_NUMBER, a_stored_client, an_account_with_admin, later

NewUoW = Callable[[], AbstractAsyncContextManager[SqlUnitOfWork]]


def a_change(name: str, zone: str = "Z1", action: str = "UPSERT") -> DnsChange:
    return DnsChange(
        zone_id=zone,
        action="DELETE" if action == "DELETE" else "UPSERT",
        record=DnsRecord(name=name, type="CNAME", values=("ingress.example.com",)),
        requested_at=MOMENT,
        client_id=None,
    )


async def test_record_changes_wait_in_order_go_out_in_a_batch_and_settle(
    uow: SqlUnitOfWork, new_uow: NewUoW
) -> None:
    first = await uow.dns_changes.add(a_change("a.example.com"))
    second = await uow.dns_changes.add(a_change("b.example.com"))
    await uow.dns_changes.add(a_change("c.example.com", zone="Z2"))
    await uow.commit()

    async with new_uow() as worker:
        pending = await worker.dns_changes.pending("Z1", 10)
        assert [c.record.name for c in pending] == ["a.example.com", "b.example.com"]
        assert await worker.dns_changes.zones_with_pending(10) == ["Z1", "Z2"]
        await worker.dns_changes.mark_submitted([first.id or 0, second.id or 0], "C1")
        await worker.commit()
    async with new_uow() as worker:
        assert [c.batch for c in await worker.dns_changes.submitted("Z1")] == ["C1", "C1"]
        settled = await worker.dns_changes.settle_batch("C1", later(5))
        await worker.dns_changes.settle(first.id or 0, later(6), error="refused")
        await worker.commit()
    assert len(settled) == 2
    async with new_uow() as other:
        got = await other.dns_changes.get(first.id or 0)
        assert got is not None and got.state is DnsChangeState.FAILED and got.error == "refused"
        assert await other.dns_changes.zones_with_pending(10) == ["Z2"]
        assert await other.dns_changes.forget_settled(later(7)) == 2
        await other.commit()
        assert await other.dns_changes.get(first.id or 0) is None


async def test_a_hostname_goes_to_a_client_of_its_account_and_verified_names_are_unique(
    uow: SqlUnitOfWork, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    _, other_admin = await an_account_with_admin(uow, OTHER_NUMBER)
    mine = await a_stored_client(uow, admin, platform)
    theirs = await a_stored_client(uow, other_admin, platform, "theirs")
    await uow.commit()
    name = "chat.customer.com"

    with pytest.raises(NotFound):
        await uow.hostnames.add(
            CustomHostname(hostname=name, account_number=NUMBER, client_id=theirs.id or 0)
        )
    registered = await uow.hostnames.add(
        CustomHostname(hostname=name, account_number=NUMBER, client_id=mine.id or 0)
    )
    pending = await uow.hostnames.add(
        CustomHostname(hostname=name, account_number=OTHER_NUMBER, client_id=theirs.id or 0)
    )
    await uow.commit()
    wanted = registered.required_records("custom.example.com", (), "acme.example.com")
    found = {f"{r.name} {r.type}": r.values for r in wanted}
    assert registered.observe(judge_records(wanted, found, MOMENT), 3) == "verified"
    await uow.hostnames.save(registered)
    await uow.commit()

    verified = await uow.hostnames.find_verified(name)
    assert verified is not None and verified.id == registered.id
    assert verified.last_check is not None and verified.last_check.passed
    assert [h.id for h in await uow.hostnames.of_client(mine.id or 0)] == [registered.id]
    assert [h.hostname for h in await uow.hostnames.list(NUMBER)] == [name]
    pending.observe(judge_records(wanted, found, MOMENT), 3)
    with pytest.raises(Conflict):
        await uow.hostnames.save(pending)
    await uow.rollback()
    # Never checked first, then the longest ago.
    assert await uow.hostnames.due_for_check(later(10), 10) == [pending.id, registered.id]
    assert await uow.hostnames.due_for_check(MOMENT, 10) == [pending.id]


async def test_the_sweep_finds_domains_to_recheck_clients_to_check_for_drift_and_failed_ones(
    uow: SqlUnitOfWork, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    ready = await a_stored_client(uow, admin, platform, "ready")
    failed = await a_stored_client(uow, admin, platform, "failed")
    for client in (ready, failed):
        client.request_deployment(MOMENT)
        await uow.clients.save(client)
    ready.settle_dns(Dns.VERIFIED, "resolves", MOMENT)
    ready.settle_tls(Tls.ISSUED, "issued", MOMENT)
    failed.settle_dns(Dns.FAILED, "did not resolve", MOMENT)
    for client in (ready, failed):
        await uow.clients.save_statuses(client)
    await uow.provisioning.save_host(
        ProvisionedHost(
            host="ready.3141-5926-5359.api.local.example.com",
            client_id=ready.id or 0,
            role=HostRole.DEFAULT,
            zone_id="Z1",
            record_type="CNAME",
            target="ingress.example.com",
            certificate_name="wildcard",
            ingress_name="client-ready",
            check=HostCheck.VERIFIED,
            ingress_applied=True,
            updated_at=MOMENT,
        )
    )
    domain = await uow.domains.add(
        CustomDomain(domain_name="bots.example.org", account_number=NUMBER)
    )
    domain.mark_verified(VerificationReport(checked_at=MOMENT, message="verified"))
    await uow.domains.save(domain)
    await uow.commit()

    assert await uow.provisioning.clients_to_check_for_drift(10) == [ready.id]
    assert await uow.provisioning.failed_clients(later(1), 10) == [failed.id]
    assert await uow.provisioning.failed_clients(MOMENT, 10) == []  # failed just now
    assert await uow.provisioning.domains_to_recheck(later(1), 10) == [domain.id]
    assert await uow.provisioning.domains_to_recheck(MOMENT, 10) == []
    assert (await uow.domains.get(NUMBER, domain.id or 0)).failures == 0

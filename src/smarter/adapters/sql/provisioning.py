"""Observed state of provisioning (hosts, certificates) and the worker's lookups, in SQL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, false, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from smarter.adapters.sql.custom_domains import domain_of
from smarter.adapters.sql.integrity import guarded_write
from smarter.adapters.sql.repositories import (
    CustomDomainRows,
    ManagedCertificateRows,
    ProvisionedHostRows,
    translates_errors,
)
from smarter.adapters.sql.rows import (
    CustomDomainRow,
    CustomHostnameRow,
    LLMClientRow,
    ManagedCertificateRow,
    ProvisionedHostRow,
    StatusEventRow,
    utc_now,
)
from smarter.adapters.sql.webhooks import certificate_accounts, publish
from smarter.application.ports import DomainRegistration
from smarter.domain.custom_domain import CustomDomain
from smarter.domain.errors import Conflict
from smarter.domain.provisioning import (
    CertificatePhase,
    HostCheck,
    HostRole,
    ManagedCertificate,
    ProvisionedHost,
)
from smarter.domain.status import DnsVerificationStatus, TlsCertificateIssuanceStatus
from smarter.domain.webhook_events import certificate_events

_HOST_FIELDS = (
    "zone_id",
    "record_type",
    "target",
    "certificate_name",
    "ingress_name",
    "record_change_id",
    "verify_started_at",
    "reason",
    "ingress_applied",
    "checked_at",
)
_CERTIFICATE_FIELDS = ("requested_at", "not_before", "not_after", "renew_after", "renewing")


def _host(row: ProvisionedHostRow) -> ProvisionedHost:
    return ProvisionedHost(
        host=row.host,
        client_id=row.llm_client_id,
        role=HostRole(row.role),
        check=HostCheck(row.check),
        updated_at=row.updated_at,
        **{name: getattr(row, name) for name in _HOST_FIELDS},
    )


def _certificate_row(certificate: ManagedCertificate) -> ManagedCertificateRow:
    return ManagedCertificateRow(
        name=certificate.name,
        hosts=list(certificate.hosts),
        phase=certificate.phase.value,
        reason=certificate.reason,
        **{name: getattr(certificate, name) for name in _CERTIFICATE_FIELDS},
    )


def _certificate(row: ManagedCertificateRow) -> ManagedCertificate:
    return ManagedCertificate(
        name=row.name,
        hosts=tuple(row.hosts),
        phase=CertificatePhase(row.phase),
        reason=row.reason,
        **{name: getattr(row, name) for name in _CERTIFICATE_FIELDS},
    )


@translates_errors
class SqlProvisioningRecords:
    """Rows through advanced-alchemy's repositories; the sweep's lookups select ids and names
    only (a repository loads whole rows, a client's with its JSON spec), and a certificate is
    claimed by one conditional UPDATE (compare-and-set), which a repository cannot express."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._hosts = ProvisionedHostRows(session)
        self._certificates = ManagedCertificateRows(session)
        self._domains = CustomDomainRows(session)

    # -- hosts -------------------------------------------------------------------------------

    async def hosts_of(self, client_id: int) -> list[ProvisionedHost]:
        rows = await self._hosts.get_many(
            ProvisionedHostRow.llm_client_id == client_id, order_by=ProvisionedHostRow.host.asc()
        )
        return [_host(row) for row in rows]

    async def save_host(self, host: ProvisionedHost) -> None:
        """Insert or replace the record of `host.host`."""
        row = ProvisionedHostRow(
            host=host.host,
            llm_client_id=host.client_id,
            role=host.role.value,
            check=host.check.value,
            updated_at=host.updated_at or utc_now(),
            **{name: getattr(host, name) for name in _HOST_FIELDS},
        )
        await self._hosts.upsert(row, match_fields=["host"])

    async def delete_host(self, host: str) -> None:
        await self._hosts.delete_where(ProvisionedHostRow.host == host, sanity_check=False)

    # -- certificates ------------------------------------------------------------------------

    async def certificate(self, name: str) -> ManagedCertificate | None:
        row = await self._certificate_row(name)
        return None if row is None else _certificate(row)

    async def save_certificate(self, certificate: ManagedCertificate) -> None:
        before = await self.certificate(certificate.name)
        await self._certificates.upsert(_certificate_row(certificate), match_fields=["name"])
        if events := certificate_events(before, certificate, utc_now()):
            for account in await certificate_accounts(self._session, certificate.name):
                await publish(self._session, account, events)

    async def claim_certificate(
        self, certificate: ManagedCertificate, stale_before: datetime
    ) -> bool:
        """Insert the pending order, or turn a settled (or stale) one into ours, atomically:
        a concurrent claim loses on the unique name or on the re-checked WHERE clause."""
        row = ManagedCertificateRow
        if await self._certificate_row(certificate.name) is None:
            try:
                async with guarded_write(self._session, "claimed by another worker"):
                    await self._certificates.add(_certificate_row(certificate))
            except Conflict:
                return False
            return True
        claimed = await self._session.execute(
            update(row)
            .where(
                row.name == certificate.name,
                or_(row.phase != CertificatePhase.PENDING.value, row.requested_at <= stale_before),
            )
            .values(
                hosts=list(certificate.hosts),
                phase=certificate.phase.value,
                reason=certificate.reason,
                **{name: getattr(certificate, name) for name in _CERTIFICATE_FIELDS},
            )
        )
        return bool(getattr(claimed, "rowcount", 0))

    async def delete_certificate(self, name: str) -> None:
        await self._certificates.delete_where(
            ManagedCertificateRow.name == name, sanity_check=False
        )

    async def certificate_users(self, name: str) -> list[int]:
        ids = await self._session.scalars(
            select(ProvisionedHostRow.llm_client_id)
            .where(ProvisionedHostRow.certificate_name == name)
            .distinct()
            .order_by(ProvisionedHostRow.llm_client_id)
        )
        return list(ids)

    async def clients_waiting_for(self, certificate: str) -> list[int]:
        ids = await self._session.scalars(
            select(ProvisionedHostRow.llm_client_id)
            .where(
                ProvisionedHostRow.certificate_name == certificate,
                ProvisionedHostRow.ingress_applied == false(),
            )
            .distinct()
            .order_by(ProvisionedHostRow.llm_client_id)
        )
        return list(ids)

    async def _certificate_row(self, name: str) -> ManagedCertificateRow | None:
        return await self._certificates.get_one_or_none(
            ManagedCertificateRow.name == name,
            execution_options={"populate_existing": True},  # as stored now, even if loaded
        )

    # -- what the sweep looks for ------------------------------------------------------------

    async def lagging_clients(self, limit: int) -> list[int]:
        """Wanted and not ready (unless failed), or not wanted and not gone, or being deleted.

        Ready includes every host: one still verifying, without its Ingress or whose
        certificate is gone, or a verified custom domain without its host, lags too."""
        client, host = LLMClientRow, ProvisionedHostRow
        dns, tls = client.dns_verification_status, client.tls_certificate_issuance_status
        has_hosts = exists().where(host.llm_client_id == client.id)
        certificate_gone = ~exists().where(ManagedCertificateRow.name == host.certificate_name)
        unfinished_host = exists().where(
            host.llm_client_id == client.id,
            or_(
                host.check == HostCheck.VERIFYING.value,
                (host.check == HostCheck.VERIFIED.value) & (host.ingress_applied == false()),
                # released by a teardown racing this client's deploy: order it again
                (host.ingress_applied == true()) & certificate_gone,
            ),
        )
        custom_host_missing = exists().where(
            CustomDomainRow.id == client.custom_domain_id,
            CustomDomainRow.is_verified == true(),
        ) & ~exists().where(host.llm_client_id == client.id, host.role == HostRole.CUSTOM.value)
        hostname, verified_hostname = CustomHostnameRow, CustomHostnameRow.is_verified == true()
        hostname_missing = exists().where(
            hostname.llm_client_id == client.id,
            verified_hostname,
            ~exists().where(host.host == hostname.hostname),
        )
        hostname_stale = exists().where(
            host.llm_client_id == client.id,
            host.role == HostRole.HOSTNAME.value,
            ~exists().where(
                hostname.hostname == host.host,
                hostname.llm_client_id == client.id,
                verified_hostname,
            ),
        )
        deploying = (
            (client.deployed == true())
            & (dns != DnsVerificationStatus.FAILED.value)
            & (tls != TlsCertificateIssuanceStatus.FAILED.value)
            & or_(
                dns != DnsVerificationStatus.VERIFIED.value,
                tls != TlsCertificateIssuanceStatus.ISSUED.value,
                unfinished_host,
                custom_host_missing,
                hostname_missing,
                hostname_stale,
            )
        )
        tearing_down = (client.deployed == false()) & or_(
            dns != DnsVerificationStatus.NOT_VERIFIED.value,
            tls != TlsCertificateIssuanceStatus.NO_CERTIFICATE.value,
            has_hosts,
        )
        ids = await self._session.scalars(
            select(client.id)
            .where(or_(client.deletion_requested_at.is_not(None), deploying, tearing_down))
            .order_by(client.id)
            .limit(limit)
        )
        return list(ids)

    async def certificates_to_renew(self, now: datetime, limit: int) -> list[str]:
        row = ManagedCertificateRow
        names = await self._session.scalars(
            select(row.name)
            .where(
                or_(
                    row.renewing == true(),
                    (row.phase == CertificatePhase.READY.value) & (row.renew_after <= now),
                )
            )
            .order_by(row.name)
            .limit(limit)
        )
        return list(names)

    async def unused_certificates(self, limit: int) -> list[str]:
        used = exists().where(ProvisionedHostRow.certificate_name == ManagedCertificateRow.name)
        names = await self._session.scalars(
            select(ManagedCertificateRow.name)
            .where(~used)
            .order_by(ManagedCertificateRow.name)
            .limit(limit)
        )
        return list(names)

    # -- custom domains across accounts ------------------------------------------------------

    async def registration(self, domain_id: int) -> DomainRegistration | None:
        row = await self._domains.get_one_or_none(
            CustomDomainRow.id == domain_id,
            load=[joinedload(CustomDomainRow.account)],
            execution_options={"populate_existing": True},  # as stored now, even if loaded
        )
        if row is None:
            return None
        domain = domain_of(row, row.account.account_number)
        return DomainRegistration(domain=domain, registered_at=row.created_at)

    async def registrations_named(self, domain_name: str) -> list[CustomDomain]:
        rows = await self._domains.get_many(
            CustomDomainRow.domain_name == domain_name,
            load=[joinedload(CustomDomainRow.account)],
            order_by=CustomDomainRow.id.asc(),
        )
        return [domain_of(row, row.account.account_number) for row in rows]

    async def unverified_domains(self, limit: int) -> list[int]:
        ids = await self._session.scalars(
            select(CustomDomainRow.id)
            .where(CustomDomainRow.is_verified == false())
            .order_by(CustomDomainRow.id)
            .limit(limit)
        )
        return list(ids)

    async def domains_to_recheck(self, checked_before: datetime, limit: int) -> list[int]:
        row = CustomDomainRow
        ids = await self._session.scalars(
            select(row.id)
            .where(
                row.is_verified == true(),
                or_(row.checked_at.is_(None), row.checked_at < checked_before),
            )
            .order_by(row.checked_at.nulls_first(), row.id)
            .limit(limit)
        )
        return list(ids)

    async def clients_to_check_for_drift(self, limit: int) -> list[int]:
        client, host = LLMClientRow, ProvisionedHostRow
        last_checked = func.min(func.coalesce(host.checked_at, host.updated_at))
        ids = await self._session.scalars(
            select(client.id)
            .join(host, host.llm_client_id == client.id)
            .where(
                client.deployed == true(),
                client.dns_verification_status == DnsVerificationStatus.VERIFIED.value,
                client.tls_certificate_issuance_status == TlsCertificateIssuanceStatus.ISSUED.value,
                host.ingress_applied == true(),
            )
            .group_by(client.id)
            .order_by(last_checked, client.id)
            .limit(limit)
        )
        return list(ids)

    async def failed_clients(self, failed_before: datetime, limit: int) -> list[int]:
        client, event = LLMClientRow, StatusEventRow
        failed = or_(
            client.dns_verification_status == DnsVerificationStatus.FAILED.value,
            client.tls_certificate_issuance_status == TlsCertificateIssuanceStatus.FAILED.value,
        )
        recent = exists().where(event.llm_client_id == client.id, event.at >= failed_before)
        ids = await self._session.scalars(
            select(client.id)
            .where(client.deployed == true(), failed, ~recent)
            .order_by(client.id)
            .limit(limit)
        )
        return list(ids)

    async def clients_on_domain(self, domain_id: int) -> list[int]:
        ids = await self._session.scalars(
            select(LLMClientRow.id)
            .where(LLMClientRow.custom_domain_id == domain_id)
            .order_by(LLMClientRow.id)
        )
        return list(ids)

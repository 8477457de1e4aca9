"""LLMClient use cases: create, read, change, clone, delete, deploy and undeploy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from smarter.application.access import ensure_visible
from smarter.application.jobs import ReconcileClient
from smarter.application.ports import ClientFilter, ClientPage, Clock, UnitOfWork
from smarter.application.specs import patched
from smarter.domain.accounts import Principal
from smarter.domain.environments import Platform
from smarter.domain.errors import Conflict
from smarter.domain.llm_client import LLMClient, LLMClientSpec
from smarter.domain.status import (
    DnsVerificationStatus,
    StatusEvent,
    TlsCertificateIssuanceStatus,
)


class ClientStatus(msgspec.Struct, kw_only=True):
    client: LLMClient
    events: list[StatusEvent]


async def load_visible(uow: UnitOfWork, principal: Principal, client_id: int) -> LLMClient:
    """The client if the caller may see it; NotFound otherwise, whoever owns it."""
    client = await uow.clients.get(principal.account_number, client_id)
    return ensure_visible(principal, client)


async def ensure_name_free(uow: UnitOfWork, principal: Principal, name: str) -> None:
    """Names are unique per account; say so before the database would."""
    if await uow.clients.get_by_name(principal.account_number, name):
        raise Conflict(f"an LLMClient named '{name}' exists in this account")


class CreateLLMClient:
    def __init__(self, uow: UnitOfWork, clock: Clock, platform: Platform) -> None:
        self._uow, self._clock, self._platform = uow, clock, platform

    async def __call__(self, principal: Principal, spec: LLMClientSpec) -> LLMClient:
        await ensure_name_free(self._uow, principal, spec.name)
        now = self._clock.now()
        client = LLMClient(
            **msgspec.structs.asdict(spec),
            platform=self._platform,
            account_number=principal.account_number,
            owner_id=principal.user_id,
            owner_username=principal.username,
            owner_is_admin=principal.is_account_admin,
            created_at=now,
            updated_at=now,
        )
        client = await self._uow.clients.add(client)
        await self._uow.commit()
        return client


class GetLLMClient:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal, client_id: int) -> LLMClient:
        return await load_visible(self._uow, principal, client_id)


class ListLLMClients:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal, query: ClientFilter) -> ClientPage:
        if not principal.is_account_admin:
            query = msgspec.structs.replace(query, owner_id=principal.user_id)
        return await self._uow.clients.page(principal.account_number, query)


class UpdateLLMClient:
    """Change some of the customer's settings; unnamed fields keep their value."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def __call__(
        self, principal: Principal, client_id: int, changes: Mapping[str, Any]
    ) -> LLMClient:
        client = await load_visible(self._uow, principal, client_id)
        spec = patched(client.spec, changes)
        if spec.name != client.name:
            await ensure_name_free(self._uow, principal, spec.name)
        updated = client.with_spec(spec)
        updated.updated_at = self._clock.now()
        if updated.deployed and updated.default_host != client.default_host:
            # A renamed deployed client needs its hosts provisioned again.
            self._uow.outbox.add(ReconcileClient(client_id=client_id))
        updated = await self._uow.clients.save(updated)
        await self._uow.commit()
        return updated


class CloneLLMClient:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def __call__(
        self,
        principal: Principal,
        client_id: int,
        new_name: str | None = None,
        new_version: str | None = None,
    ) -> LLMClient:
        source = await load_visible(self._uow, principal, client_id)
        owner = (principal.user_id, principal.username, principal.is_account_admin)
        clone = source.clone(new_name, new_version, owner)
        await ensure_name_free(self._uow, principal, clone.name)
        clone.created_at = clone.updated_at = self._clock.now()
        clone = await self._uow.clients.add(clone)
        await self._uow.commit()
        return clone


class DeleteLLMClient:
    """Delete a client. One that holds provisioned hosts is hidden and stops serving at once;
    the worker tears its hosts down and then deletes the row."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def __call__(self, principal: Principal, client_id: int) -> None:
        client = await load_visible(self._uow, principal, client_id)
        if (
            client.deployed
            or not _torn_down(client)
            or await self._uow.provisioning.hosts_of(client_id)
        ):
            client.request_deletion(self._clock.now())
            self._uow.outbox.add(ReconcileClient(client_id=client_id))
            await self._uow.clients.save(client)
        else:
            await self._uow.clients.delete(client)
        await self._uow.commit()


def _failed(client: LLMClient) -> bool:
    return (
        client.dns_verification_status is DnsVerificationStatus.FAILED
        or client.tls_certificate_issuance_status is TlsCertificateIssuanceStatus.FAILED
    )


def _torn_down(client: LLMClient) -> bool:
    return (
        client.dns_verification_status is DnsVerificationStatus.NOT_VERIFIED
        and client.tls_certificate_issuance_status is TlsCertificateIssuanceStatus.NO_CERTIFICATE
    )


class DeployLLMClient:
    """Record the wish to be deployed; the worker does the provisioning."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def __call__(self, principal: Principal, client_id: int) -> LLMClient:
        return await _set_desired(self._uow, self._clock, principal, client_id, deployed=True)


class UndeployLLMClient:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def __call__(self, principal: Principal, client_id: int) -> LLMClient:
        return await _set_desired(self._uow, self._clock, principal, client_id, deployed=False)


async def _set_desired(
    uow: UnitOfWork, clock: Clock, principal: Principal, client_id: int, *, deployed: bool
) -> LLMClient:
    client = await load_visible(uow, principal, client_id)
    now = clock.now()
    changed = client.request_deployment(now) if deployed else client.request_undeployment(now)
    if deployed and not changed and _failed(client):
        uow.outbox.add(ReconcileClient(client_id=client_id))  # deploying again retries
        await uow.commit()
    if changed:
        client.updated_at = now
        uow.outbox.add(ReconcileClient(client_id=client_id))
        client = await uow.clients.save(client)
        await uow.commit()
    return client


class GetClientStatus:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal, client_id: int) -> ClientStatus:
        client = await load_visible(self._uow, principal, client_id)
        return ClientStatus(client=client, events=await self._uow.clients.events(client_id))


class AttachCustomDomain:
    """Serve a client under one of the account's custom domains (or none)."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def __call__(
        self, principal: Principal, client_id: int, domain_id: int | None
    ) -> LLMClient:
        client = await load_visible(self._uow, principal, client_id)
        domain = (
            None
            if domain_id is None
            else await self._uow.domains.get(principal.account_number, domain_id)
        )
        client.custom_domain = domain
        client.updated_at = self._clock.now()
        if client.deployed:
            self._uow.outbox.add(ReconcileClient(client_id=client_id))
        client = await self._uow.clients.save(client)
        await self._uow.commit()
        return client

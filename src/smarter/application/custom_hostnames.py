"""Custom hostnames: register one for a client, list, read, check again, delete.

The records to set come with every answer (`HostnameSetup.records_of`), and after a check,
what DNS answered at each name, so that a customer sees their mistake.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from smarter.application.jobs import ReconcileClient, VerifyCustomHostname
from smarter.application.llm_clients import load_visible
from smarter.application.ports import UnitOfWork
from smarter.application.provisioning_context import ProvisioningPolicy
from smarter.domain.accounts import Principal
from smarter.domain.custom_hostname import CustomHostname, RequiredRecord
from smarter.domain.environments import Platform
from smarter.domain.errors import InvalidValue


class HostnameSetup(msgspec.Struct, frozen=True, kw_only=True):
    """What the records customers set point at (from the provisioning policy)."""

    target: str
    addresses: tuple[str, ...]
    challenge_zone: str

    @classmethod
    def of(cls, policy: ProvisioningPolicy) -> HostnameSetup:
        return cls(
            target=policy.hostname_target,
            addresses=policy.apex_addresses,
            challenge_zone=policy.challenge_zone,
        )

    def records_of(self, hostname: CustomHostname) -> tuple[RequiredRecord, ...]:
        """The records to set, with what the last check found at each (if it looked)."""
        wanted = hostname.required_records(self.target, self.addresses, self.challenge_zone)
        checked = (
            {(r.name, r.type): r for r in hostname.last_check.records}
            if (hostname.last_check)
            else {}
        )
        return tuple(checked.get((r.name, r.type), r) for r in wanted)


class RegisterCustomHostname:
    """Attach a hostname to a client; the worker checks its records until they are set."""

    def __init__(self, uow: UnitOfWork, platform: Platform, policy: ProvisioningPolicy) -> None:
        self._uow, self._root, self._setup = uow, platform.root_domain, HostnameSetup.of(policy)

    async def __call__(self, principal: Principal, hostname: str, client_id: int) -> CustomHostname:
        await load_visible(self._uow, principal, client_id)
        registration = CustomHostname(
            hostname=hostname, account_number=principal.account_number, client_id=client_id
        )
        name = registration.hostname
        if name == self._root or name.endswith(f".{self._root}"):
            raise InvalidValue("hostname", f"{self._root} is the platform's own domain")
        if registration.is_apex and not self._setup.addresses:
            raise InvalidValue(
                "hostname",
                f"{name} is an apex name, which cannot hold a CNAME, and this platform has no "
                "ingress addresses for A records (SMARTER_INGRESS_ADDRESSES); use a subdomain",
            )
        registration = await self._uow.hostnames.add(registration)
        assert registration.id is not None
        self._uow.outbox.add(VerifyCustomHostname(hostname_id=registration.id))
        await self._uow.commit()
        return registration


class ListCustomHostnames:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal) -> list[CustomHostname]:
        """The account's hostnames; a user who is not an admin sees those of their clients."""
        found = await self._uow.hostnames.list(principal.account_number)
        if principal.is_account_admin:
            return found
        account = principal.account_number
        owners = {
            client_id: (await self._uow.clients.get(account, client_id)).owner_id
            for client_id in {hostname.client_id for hostname in found}
        }
        return [h for h in found if owners[h.client_id] == principal.user_id]


class GetCustomHostname:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal, hostname_id: int) -> CustomHostname:
        hostname = await self._uow.hostnames.get(principal.account_number, hostname_id)
        await load_visible(self._uow, principal, hostname.client_id)
        return hostname


class RequestHostnameVerification:
    """Ask the worker to check the hostname's records again now."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal, hostname_id: int) -> CustomHostname:
        hostname = await GetCustomHostname(self._uow)(principal, hostname_id)
        self._uow.outbox.add(VerifyCustomHostname(hostname_id=hostname_id))
        await self._uow.commit()
        return hostname


class DeleteCustomHostname:
    """Stop serving the client on the hostname; the worker removes its Ingress and certificate."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal, hostname_id: int) -> None:
        hostname = await GetCustomHostname(self._uow)(principal, hostname_id)
        await self._uow.hostnames.delete(hostname)
        self._uow.outbox.add(ReconcileClient(client_id=hostname.client_id))
        await self._uow.commit()


class CustomHostnameView(msgspec.Struct, kw_only=True):
    """A hostname with the records to set and what the last check found at each."""

    id: int
    hostname: str
    llm_client_id: int
    is_verified: bool
    verified_at: datetime | None
    records_to_set: list[RequiredRecord]
    last_check_message: str | None
    checked_at: datetime | None
    failed_checks_in_a_row: int


def custom_hostname_view(hostname: CustomHostname, setup: HostnameSetup) -> CustomHostnameView:
    assert hostname.id is not None
    check = hostname.last_check
    return CustomHostnameView(
        id=hostname.id,
        hostname=hostname.hostname,
        llm_client_id=hostname.client_id,
        is_verified=hostname.is_verified,
        verified_at=hostname.verified_at,
        records_to_set=list(setup.records_of(hostname)),
        last_check_message=None if check is None else check.message,
        checked_at=None if check is None else check.checked_at,
        failed_checks_in_a_row=hostname.failures,
    )

"""Custom domains: register, list, read, verify and delete (admins change them)."""

from __future__ import annotations

from smarter.application.access import require_admin
from smarter.application.jobs import DeleteDomainZone, VerifyCustomDomain
from smarter.application.ports import UnitOfWork
from smarter.domain.accounts import Principal
from smarter.domain.custom_domain import CustomDomain
from smarter.domain.environments import Platform
from smarter.domain.errors import Conflict, InvalidValue


class RegisterCustomDomain:
    """Register a domain; the worker creates its zone and the verification marker."""

    def __init__(self, uow: UnitOfWork, platform: Platform) -> None:
        self._uow, self._root = uow, platform.root_domain

    async def __call__(self, principal: Principal, domain_name: str) -> CustomDomain:
        require_admin(principal, "register custom domains")
        domain = CustomDomain(domain_name=domain_name, account_number=principal.account_number)
        if domain.domain_name == self._root or domain.domain_name.endswith(f".{self._root}"):
            raise InvalidValue("domain_name", f"{self._root} is the platform's own domain")
        domain = await self._uow.domains.add(domain)
        assert domain.id is not None
        self._uow.outbox.add(VerifyCustomDomain(domain_id=domain.id))
        await self._uow.commit()
        return domain


class ListCustomDomains:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal) -> list[CustomDomain]:
        return await self._uow.domains.list(principal.account_number)


class GetCustomDomain:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal, domain_id: int) -> CustomDomain:
        return await self._uow.domains.get(principal.account_number, domain_id)


class RequestDomainVerification:
    """Ask the worker to check the domain's delegation again now."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal, domain_id: int) -> CustomDomain:
        require_admin(principal, "verify custom domains")
        domain = await self._uow.domains.get(principal.account_number, domain_id)
        self._uow.outbox.add(VerifyCustomDomain(domain_id=domain_id))
        await self._uow.commit()
        return domain


class DeleteCustomDomain:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal, domain_id: int) -> None:
        require_admin(principal, "delete custom domains")
        domain = await self._uow.domains.get(principal.account_number, domain_id)
        if await self._uow.domains.is_attached(domain_id):
            raise Conflict(f"{domain.domain_name} is attached to an LLMClient; detach it first")
        await self._uow.domains.delete(domain)
        if domain.aws_hosted_zone_id:  # the zone goes with its records and the marker
            self._uow.outbox.add(DeleteDomainZone(zone_id=domain.aws_hosted_zone_id))
        await self._uow.commit()

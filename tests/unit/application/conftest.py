"""One small world of fakes per test: two accounts, their admins and two non-admin users."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from smarter.application.accounts import CreateAccount, CreateUser, NewUser
from smarter.application.custom_domains import RegisterCustomDomain
from smarter.application.llm_clients import CreateLLMClient, DeployLLMClient
from smarter.domain.account_number import AccountNumber
from smarter.domain.accounts import Principal
from smarter.domain.custom_domain import CustomDomain
from smarter.domain.environments import Environment, Platform
from smarter.domain.llm_client import LLMClient, LLMClientSpec
from smarter.domain.status import DnsVerificationStatus, TlsCertificateIssuanceStatus
from tests.fakes import FakeClock, FakeUnitOfWork, principal_of

ACCOUNT = AccountNumber("3141-5926-5359")
OTHER_ACCOUNT = AccountNumber("2718-2818-2845")
PLATFORM = Platform(environment=Environment.ALPHA)


@dataclass
class World:
    uow: FakeUnitOfWork
    clock: FakeClock
    platform: Platform
    admin: Principal  # the first admin of ACCOUNT
    user: Principal  # `user123`, not an admin, of ACCOUNT
    colleague: Principal  # `colleague`, not an admin, of ACCOUNT
    stranger: Principal  # the first admin of OTHER_ACCOUNT
    tokens: dict[str, str]  # plaintext tokens by username, as issued

    async def create_client(self, owner: Principal, name: str = "example", **fields: Any) -> int:
        spec = LLMClientSpec(name=name, **fields)
        client = await CreateLLMClient(self.uow, self.clock, self.platform)(owner, spec)
        assert client.id is not None
        return client.id

    async def deployed_client(self, owner: Principal, name: str = "example") -> int:
        client_id = await self.create_client(owner, name)
        await DeployLLMClient(self.uow, self.clock)(owner, client_id)
        return client_id

    async def register_domain(self, owner: Principal, name: str = "bots.customer.com") -> int:
        domain = await RegisterCustomDomain(self.uow, self.platform)(owner, name)
        assert domain.id is not None
        return domain.id

    def stored(self, client_id: int) -> LLMClient:
        """The client as the repository holds it."""
        return self.uow.clients.rows[client_id]

    def stored_domain(self, domain_id: int) -> CustomDomain:
        return self.uow.domains.rows[domain_id]

    async def provision(self, client_id: int) -> None:
        """What the worker would do: DNS verified and the certificate issued."""
        client = await self.uow.clients.get(self.stored(client_id).account_number, client_id)
        at = self.clock.now()
        client.move_dns(DnsVerificationStatus.VERIFYING, "record written", at)
        client.move_dns(DnsVerificationStatus.VERIFIED, "host resolves", at)
        client.move_tls(TlsCertificateIssuanceStatus.REQUESTED, "certificate ordered", at)
        client.move_tls(TlsCertificateIssuanceStatus.ISSUED, "certificate issued", at)
        await self.uow.clients.save(client)

    async def tear_down(self, client_id: int) -> None:
        """What the worker would do after an undeploy."""
        client = await self.uow.clients.get(self.stored(client_id).account_number, client_id)
        client.reset_statuses("torn down", self.clock.now())
        await self.uow.clients.save(client)

    def verify_domain(self, domain_id: int) -> None:
        self.uow.domains.rows[domain_id].is_verified = True


@pytest.fixture
async def world() -> World:
    uow, clock = FakeUnitOfWork(), FakeClock()
    create_account = CreateAccount(uow, clock)
    mine = await create_account(name="Mine", number=ACCOUNT)
    theirs = await create_account(name="Theirs", number=OTHER_ACCOUNT)
    admin = principal_of(mine.admin, mine.token.token.id or 0)
    create_user = CreateUser(uow, clock)
    user, user_token = await create_user(admin, NewUser(username="user123"))
    colleague, colleague_token = await create_user(admin, NewUser(username="colleague"))
    uow.commits = 0
    uow.outbox.committed.clear()
    return World(
        uow=uow,
        clock=clock,
        platform=PLATFORM,
        admin=admin,
        user=principal_of(user, user_token.token.id or 0),
        colleague=principal_of(colleague, colleague_token.token.id or 0),
        stranger=principal_of(theirs.admin, theirs.token.token.id or 0),
        tokens={
            "admin": mine.token.plaintext,
            "user123": user_token.plaintext,
            "colleague": colleague_token.plaintext,
        },
    )

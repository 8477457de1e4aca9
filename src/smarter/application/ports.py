"""The ports the use cases need; adapters implement them, tests fake them.

Repositories hand out domain objects and raise the domain's NotFound and Conflict. They share
one unit of work: nothing is stored until `commit()`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import msgspec

from smarter.domain.account_number import AccountNumber
from smarter.domain.accounts import Account, AccountToken, LLMClientAPIKey, Principal, User
from smarter.domain.custom_domain import CustomDomain
from smarter.domain.errors import InvalidValue
from smarter.domain.llm_client import LLMClient
from smarter.domain.status import StatusEvent

MAX_PAGE_SIZE = 200


class Clock(Protocol):
    def now(self) -> datetime: ...


class ClientFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which of an account's clients to list; `owner_id` narrows to one user's."""

    owner_id: int | None = None
    name_contains: str | None = None
    deployed: bool | None = None
    tag: str | None = None
    offset: int = 0
    limit: int = 50

    def __post_init__(self) -> None:
        # Repositories pass these to SQL as they are: a negative OFFSET is a database error.
        if self.offset < 0:
            raise InvalidValue("offset", "must be 0 or more")
        if not 1 <= self.limit <= MAX_PAGE_SIZE:
            raise InvalidValue("limit", f"must be between 1 and {MAX_PAGE_SIZE}")


class ClientPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[LLMClient]
    total: int
    offset: int
    limit: int


class Accounts(Protocol):
    async def add(self, account: Account) -> Account: ...
    async def get(self, number: AccountNumber) -> Account: ...


class Users(Protocol):
    async def add(self, user: User) -> User: ...
    async def get(self, account: AccountNumber, user_id: int) -> User: ...
    async def list(self, account: AccountNumber) -> list[User]: ...


class AccountTokens(Protocol):
    async def add(self, token: AccountToken) -> AccountToken: ...
    async def get(self, account: AccountNumber, token_id: int) -> AccountToken: ...
    async def list(self, account: AccountNumber, user_id: int | None) -> list[AccountToken]: ...
    async def save(self, token: AccountToken) -> AccountToken: ...
    async def principal_for(self, digest: str) -> Principal | None:
        """The user behind an active token with this digest, or None."""
        ...


class LLMClients(Protocol):
    async def add(self, client: LLMClient) -> LLMClient:
        """Store a new client; Conflict when its name or default host is taken."""
        ...

    async def get(self, account: AccountNumber, client_id: int) -> LLMClient: ...
    async def get_by_name(self, account: AccountNumber, name: str) -> LLMClient | None: ...
    async def page(self, account: AccountNumber, query: ClientFilter) -> ClientPage: ...
    async def save(self, client: LLMClient) -> LLMClient:
        """Store the client's changes and its new events (then clears `client.events`)."""
        ...

    async def delete(self, client: LLMClient) -> None: ...
    async def events(self, client_id: int) -> list[StatusEvent]: ...


class APIKeys(Protocol):
    async def add(self, key: LLMClientAPIKey) -> LLMClientAPIKey: ...
    async def get(self, client_id: int, key_id: int) -> LLMClientAPIKey: ...
    async def list(self, client_id: int) -> list[LLMClientAPIKey]: ...
    async def save(self, key: LLMClientAPIKey) -> LLMClientAPIKey: ...


class CustomDomains(Protocol):
    async def add(self, domain: CustomDomain) -> CustomDomain:
        """Register; Conflict if this account has it already or another account verified it."""
        ...

    async def get(self, account: AccountNumber, domain_id: int) -> CustomDomain: ...
    async def list(self, account: AccountNumber) -> list[CustomDomain]: ...
    async def save(self, domain: CustomDomain) -> CustomDomain: ...
    async def delete(self, domain: CustomDomain) -> None: ...
    async def is_attached(self, domain_id: int) -> bool: ...


class Job(msgspec.Struct, frozen=True, tag=True):
    """Work for the background worker, written in the same transaction as its cause."""


class ReconcileClient(Job, frozen=True):
    client_id: int


class VerifyCustomDomain(Job, frozen=True):
    domain_id: int


class Outbox(Protocol):
    def add(self, job: Job) -> None: ...


class UnitOfWork(Protocol):
    # Read-only members: an implementation's attributes may then hold its own repository
    # classes (a settable protocol attribute demands exactly the port's type, so neither the
    # fakes nor an adapter with concrete attribute types would conform).
    @property
    def accounts(self) -> Accounts: ...
    @property
    def users(self) -> Users: ...
    @property
    def tokens(self) -> AccountTokens: ...
    @property
    def clients(self) -> LLMClients: ...
    @property
    def api_keys(self) -> APIKeys: ...
    @property
    def domains(self) -> CustomDomains: ...
    @property
    def outbox(self) -> Outbox: ...

    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...

"""The ports the use cases need; adapters implement them, tests fake them.

Repositories hand out domain objects and raise the domain's NotFound and Conflict. They share
one unit of work: nothing is stored until `commit()`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import msgspec

from smarter.application.dns_changes import DnsChange
from smarter.application.jobs import Job
from smarter.application.webhook_ports import Webhooks
from smarter.domain.account_number import AccountNumber
from smarter.domain.accounts import (
    Account,
    AccountToken,
    Invitation,
    LLMClientAPIKey,
    Principal,
    User,
)
from smarter.domain.custom_domain import CustomDomain
from smarter.domain.custom_hostname import CustomHostname
from smarter.domain.errors import InvalidValue
from smarter.domain.history import ChatRequestRecord, Conversation, DailyUsage
from smarter.domain.llm_client import LLMClient
from smarter.domain.provisioning import ManagedCertificate, ProvisionedHost
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
    async def find(self, account: AccountNumber, username: str) -> User | None: ...
    async def save(self, user: User) -> User:
        """Store the user's email, admin flag and active flag."""
        ...

    async def password_hash(self, user_id: int) -> str | None: ...
    async def set_password_hash(self, user_id: int, password_hash: str) -> None: ...


class Invitations(Protocol):
    async def add(self, invitation: Invitation) -> Invitation: ...
    async def find(self, digest: str) -> Invitation | None:
        """The invitation with this digest, used or not, or None."""
        ...

    async def save(self, invitation: Invitation) -> Invitation: ...


class PasswordHasher(Protocol):
    """A memory-hard password hash; slow on purpose, so adapters run it off the event loop."""

    async def hash(self, password: str) -> str: ...
    async def verify(self, password_hash: str, password: str) -> bool: ...
    def needs_rehash(self, password_hash: str) -> bool: ...


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
    async def find(self, client_id: int) -> LLMClient | None:
        """Any account's client, also one being deleted (the worker's lookup)."""
        ...

    async def save_statuses(self, client: LLMClient) -> None:
        """Store only the observed statuses and the new events: the worker's write, which
        never overwrites what the customer changed meanwhile (clears `client.events`)."""
        ...

    async def find_by_host(self, account: AccountNumber, host_label: str) -> LLMClient | None:
        """The client of `account` whose rfc1034_compliant_name is `host_label` (the chat
        endpoint's lookup on a cache miss)."""
        ...


class APIKeys(Protocol):
    async def add(self, key: LLMClientAPIKey) -> LLMClientAPIKey: ...
    async def get(self, client_id: int, key_id: int) -> LLMClientAPIKey: ...
    async def list(self, client_id: int) -> list[LLMClientAPIKey]: ...
    async def save(self, key: LLMClientAPIKey) -> LLMClientAPIKey: ...
    async def active_digests(self, client_id: int) -> dict[str, int]:
        """The digests of the client's unrevoked keys, with their ids."""
        ...


class CustomDomains(Protocol):
    async def add(self, domain: CustomDomain) -> CustomDomain:
        """Register; Conflict if this account has it already or another account verified it."""
        ...

    async def get(self, account: AccountNumber, domain_id: int) -> CustomDomain: ...
    async def list(self, account: AccountNumber) -> list[CustomDomain]: ...
    async def save(self, domain: CustomDomain) -> CustomDomain: ...
    async def delete(self, domain: CustomDomain) -> None: ...
    async def is_attached(self, domain_id: int) -> bool: ...
    async def find_verified(self, domain_name: str) -> CustomDomain | None:
        """The verified registration of `domain_name`, whichever account holds it."""
        ...


class CustomHostnames(Protocol):
    async def add(self, hostname: CustomHostname) -> CustomHostname:
        """Register; Conflict if this account has it already or another account verified it;
        NotFound when its client is not one of the account's."""
        ...

    async def get(self, account: AccountNumber, hostname_id: int) -> CustomHostname: ...
    async def save(self, hostname: CustomHostname) -> CustomHostname: ...
    async def delete(self, hostname: CustomHostname) -> None: ...
    async def find(self, hostname_id: int) -> CustomHostname | None:
        """Any account's registration (the worker's lookup)."""
        ...

    async def find_verified(self, name: str) -> CustomHostname | None: ...
    async def of_client(self, client_id: int) -> list[CustomHostname]: ...
    async def due_for_check(self, checked_before: datetime, limit: int) -> list[int]:
        """Pending registrations, and verified ones last checked before `checked_before`."""
        ...

    # Last: a method named `list` hides the builtin from the annotations after it.
    async def list(self, account: AccountNumber) -> list[CustomHostname]: ...


class RequestHistory(Protocol):
    async def daily_usage(self, client_id: int, since: datetime) -> list[DailyUsage]:
        """Requests, errors and tokens per UTC day from `since` on; days without requests
        are left out."""
        ...

    async def list(
        self, client_id: int, limit: int, before: int | None = None
    ) -> list[ChatRequestRecord]:
        """The client's requests, newest first; `before` (a record id) pages back in time."""
        ...


class ConversationSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A conversation without its messages, as the history lists show it."""

    id: int
    session_key: str
    messages: int
    created_at: datetime
    updated_at: datetime


class Conversations(Protocol):
    async def list(
        self, client_id: int, limit: int, before: int | None = None
    ) -> list[ConversationSummary]:
        """The client's conversations, last active first; `before` (a conversation id) pages."""
        ...

    async def get(self, client_id: int, session_key: str) -> Conversation | None: ...


class DomainRegistration(msgspec.Struct, kw_only=True):
    """A custom domain as the worker sees it, whichever account holds it."""

    domain: CustomDomain
    registered_at: datetime


class ProvisioningRecords(Protocol):
    """Observed state of provisioning, and the worker's cross-account lookups."""

    async def hosts_of(self, client_id: int) -> list[ProvisionedHost]: ...
    async def save_host(self, host: ProvisionedHost) -> None:
        """Insert or replace the record of `host.host`."""
        ...

    async def delete_host(self, host: str) -> None: ...
    async def certificate(self, name: str) -> ManagedCertificate | None: ...
    async def save_certificate(self, certificate: ManagedCertificate) -> None: ...
    async def claim_certificate(
        self, certificate: ManagedCertificate, stale_before: datetime
    ) -> bool:
        """Record that this worker orders `certificate` (pending, requested now): True unless
        another worker's order of that name is pending and was claimed after `stale_before`.
        Atomic, so that two workers never order one certificate twice."""
        ...

    async def delete_certificate(self, name: str) -> None: ...
    async def certificate_users(self, name: str) -> list[int]:
        """The ids of the clients whose provisioned hosts use certificate `name`."""
        ...

    async def clients_waiting_for(self, certificate: str) -> list[int]:
        """The ids of the clients with a host on `certificate` whose Ingress is not applied."""
        ...

    async def lagging_clients(self, limit: int) -> list[int]:
        """Clients whose observed state lags their desired state (not those that failed)."""
        ...

    async def certificates_to_renew(self, now: datetime, limit: int) -> list[str]:
        """Ready certificates past their renewal point, and those with a renewal pending."""
        ...

    async def unused_certificates(self, limit: int) -> list[str]: ...
    async def registration(self, domain_id: int) -> DomainRegistration | None: ...
    async def registrations_named(self, domain_name: str) -> list[CustomDomain]: ...
    async def unverified_domains(self, limit: int) -> list[int]: ...
    async def domains_to_recheck(self, checked_before: datetime, limit: int) -> list[int]:
        """Verified domains last checked before `checked_before` (or never since verified)."""
        ...

    async def clients_to_check_for_drift(self, limit: int) -> list[int]:
        """Ready clients, those whose hosts were compared with what should be longest ago
        first."""
        ...

    async def failed_clients(self, failed_before: datetime, limit: int) -> list[int]:
        """Deployed clients that failed (DNS or TLS) and have no event since `failed_before`."""
        ...

    async def clients_on_domain(self, domain_id: int) -> list[int]: ...


class DnsChanges(Protocol):
    """Record changes waiting for (or sent in) a Route 53 change batch."""

    async def add(self, change: DnsChange) -> DnsChange: ...
    async def get(self, change_id: int) -> DnsChange | None: ...
    async def pending(self, zone_id: str, limit: int) -> list[DnsChange]:
        """The zone's pending changes, oldest first."""
        ...

    async def submitted(self, zone_id: str) -> list[DnsChange]:
        """The zone's changes in batches that are not live yet."""
        ...

    async def mark_submitted(self, change_ids: list[int], batch: str) -> None: ...
    async def settle_batch(self, batch: str, at: datetime) -> list[DnsChange]:
        """Mark the changes of `batch` done; they are returned."""
        ...

    async def settle(self, change_id: int, at: datetime, *, error: str = "") -> None:
        """Mark one change done, or failed when `error` says why."""
        ...

    async def zones_with_pending(self, limit: int) -> list[str]:
        """Zones with changes pending or submitted (the sweep's safety net)."""
        ...

    async def forget_settled(self, before: datetime) -> int:
        """Delete the changes settled before `before`; how many."""
        ...


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
    def invitations(self) -> Invitations: ...
    @property
    def clients(self) -> LLMClients: ...
    @property
    def api_keys(self) -> APIKeys: ...
    @property
    def domains(self) -> CustomDomains: ...
    @property
    def hostnames(self) -> CustomHostnames: ...
    @property
    def outbox(self) -> Outbox: ...
    @property
    def provisioning(self) -> ProvisioningRecords: ...
    @property
    def dns_changes(self) -> DnsChanges: ...
    @property
    def history(self) -> RequestHistory: ...
    @property
    def conversations(self) -> Conversations: ...
    @property
    def webhooks(self) -> Webhooks: ...

    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...

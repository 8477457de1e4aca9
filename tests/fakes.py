"""Hand-written fakes of the application's ports: dicts and lists, nothing clever."""

from __future__ import annotations

import builtins
import copy
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from smarter.application.chat_ports import ChatTurn, ClientEntry
from smarter.application.dns_changes import DnsChange, DnsChangeState
from smarter.application.jobs import Job
from smarter.application.llm import ChatModel, Completion, CompletionChunk, CompletionRequest
from smarter.application.ports import (
    ClientFilter,
    ClientPage,
    ConversationSummary,
    DomainRegistration,
)
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
from smarter.domain.errors import Conflict, NotFound
from smarter.domain.history import ChatMessage, ChatRequestRecord, Conversation, DailyUsage
from smarter.domain.llm_client import LLMClient
from smarter.domain.provisioning import (
    CertificatePhase,
    HostCheck,
    HostRole,
    ManagedCertificate,
    ProvisionedHost,
)
from smarter.domain.secrets import same_digest
from smarter.domain.status import (
    DnsVerificationStatus,
    StatusEvent,
    TlsCertificateIssuanceStatus,
)
from tests.fake_webhooks import FakeWebhooks


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


class _Ids:
    def __init__(self) -> None:
        self.last = 0

    def next(self) -> int:
        self.last += 1
        return self.last


class FakeAccounts:
    def __init__(self) -> None:
        self.rows: dict[str, Account] = {}
        self._ids = _Ids()

    async def add(self, account: Account) -> Account:
        if account.account_number in self.rows:
            raise Conflict(f"account {account.account_number} exists")
        account.id = self._ids.next()
        self.rows[account.account_number] = copy.deepcopy(account)
        return account

    async def get(self, number: AccountNumber) -> Account:
        if number not in self.rows:
            raise NotFound(f"no account {number}")
        return copy.deepcopy(self.rows[number])


class FakeUsers:
    def __init__(self) -> None:
        self.rows: dict[int, User] = {}
        self.password_hashes: dict[int, str] = {}
        self._ids = _Ids()

    async def add(self, user: User) -> User:
        if any(
            u.account_number == user.account_number and u.username == user.username
            for u in self.rows.values()
        ):
            raise Conflict(f"user {user.username} exists")
        user.id = self._ids.next()
        self.rows[user.id] = copy.deepcopy(user)
        return user

    async def get(self, account: AccountNumber, user_id: int) -> User:
        user = self.rows.get(user_id)
        if user is None or user.account_number != account:
            raise NotFound(f"no user {user_id}")
        return copy.deepcopy(user)

    async def list(self, account: AccountNumber) -> list[User]:
        return [copy.deepcopy(u) for u in self.rows.values() if u.account_number == account]

    async def find(self, account: AccountNumber, username: str) -> User | None:
        for user in self.rows.values():
            if user.account_number == account and user.username == username:
                return copy.deepcopy(user)
        return None

    async def save(self, user: User) -> User:
        if user.id not in self.rows:
            raise NotFound(f"no user {user.id}")
        stored = self.rows[user.id]
        stored.email, stored.is_account_admin, stored.is_active = (
            user.email,
            user.is_account_admin,
            user.is_active,
        )
        return user

    async def password_hash(self, user_id: int) -> str | None:
        return self.password_hashes.get(user_id)

    async def set_password_hash(self, user_id: int, password_hash: str) -> None:
        if user_id not in self.rows:
            raise NotFound(f"no user {user_id}")
        self.password_hashes[user_id] = password_hash
        self.rows[user_id].has_password = True


class FakeInvitations:
    def __init__(self, users: FakeUsers) -> None:
        self.rows: dict[int, Invitation] = {}
        self._users = users
        self._ids = _Ids()

    async def add(self, invitation: Invitation) -> Invitation:
        invitation.id = self._ids.next()
        self.rows[invitation.id] = copy.deepcopy(invitation)
        return invitation

    async def find(self, digest: str) -> Invitation | None:
        for invitation in self.rows.values():
            if same_digest(invitation.digest, digest):
                return copy.deepcopy(invitation)
        return None

    async def save(self, invitation: Invitation) -> Invitation:
        assert invitation.id is not None
        self.rows[invitation.id] = copy.deepcopy(invitation)
        return invitation


class FakePasswordHasher:
    """Not a real hash: the password reversed, tagged with the hasher's version."""

    def __init__(self, version: str = "v2") -> None:
        self.version = version

    async def hash(self, password: str) -> str:
        return f"{self.version}${password[::-1]}"

    async def verify(self, password_hash: str, password: str) -> bool:
        return password_hash.partition("$")[2] == password[::-1]

    def needs_rehash(self, password_hash: str) -> bool:
        return not password_hash.startswith(f"{self.version}$")


class FakeTokens:
    def __init__(self, users: FakeUsers) -> None:
        self.rows: dict[int, AccountToken] = {}
        self._users = users
        self._ids = _Ids()

    async def add(self, token: AccountToken) -> AccountToken:
        token.id = self._ids.next()
        self.rows[token.id] = copy.deepcopy(token)
        return token

    async def get(self, account: AccountNumber, token_id: int) -> AccountToken:
        token = self.rows.get(token_id)
        if token is None or self._users.rows[token.user_id].account_number != account:
            raise NotFound(f"no token {token_id}")
        return copy.deepcopy(token)

    async def list(self, account: AccountNumber, user_id: int | None) -> list[AccountToken]:
        return [
            copy.deepcopy(t)
            for t in self.rows.values()
            if self._users.rows[t.user_id].account_number == account
            and (user_id is None or t.user_id == user_id)
        ]

    async def save(self, token: AccountToken) -> AccountToken:
        assert token.id is not None
        self.rows[token.id] = copy.deepcopy(token)
        return token

    async def principal_for(self, digest: str) -> Principal | None:
        for token in self.rows.values():
            if token.is_active and same_digest(token.digest, digest):
                user = self._users.rows[token.user_id]
                if not user.is_active:
                    return None
                assert user.id is not None and token.id is not None
                return Principal(
                    user_id=user.id,
                    username=user.username,
                    account_number=user.account_number,
                    is_account_admin=user.is_account_admin,
                    token_id=token.id,
                )
        return None


class FakeClients:
    def __init__(self, api_keys: FakeAPIKeys) -> None:
        self.rows: dict[int, LLMClient] = {}
        self.events_by_client: dict[int, list[StatusEvent]] = {}
        self._api_keys = api_keys
        self._ids = _Ids()

    def _check_unique(self, client: LLMClient) -> None:
        for other in self.rows.values():
            if other.id == client.id or other.account_number != client.account_number:
                continue
            if other.name == client.name or other.default_host == client.default_host:
                raise Conflict(f"{client.default_host} is taken by LLMClient {other.id}")

    def _stored(self, client: LLMClient) -> LLMClient:
        assert client.id is not None
        self.events_by_client.setdefault(client.id, []).extend(client.events)
        client.events = []
        self.rows[client.id] = copy.deepcopy(client)
        return client

    def _loaded(self, client: LLMClient) -> LLMClient:
        loaded = copy.deepcopy(client)
        loaded.active_api_keys = sum(
            1 for k in self._api_keys.rows.values() if k.llm_client_id == loaded.id and k.is_active
        )
        return loaded

    async def add(self, client: LLMClient) -> LLMClient:
        self._check_unique(client)
        client.id = self._ids.next()
        return self._stored(client)

    async def get(self, account: AccountNumber, client_id: int) -> LLMClient:
        client = self.rows.get(client_id)
        if client is None or client.account_number != account or client.deletion_requested_at:
            raise NotFound(f"no LLMClient {client_id}")
        return self._loaded(client)

    async def get_by_name(self, account: AccountNumber, name: str) -> LLMClient | None:
        for client in self.rows.values():
            if client.account_number == account and client.name == name:
                if client.deletion_requested_at:
                    return None
                return self._loaded(client)
        return None

    async def page(self, account: AccountNumber, query: ClientFilter) -> ClientPage:
        matches = [
            self._loaded(c)
            for c in sorted(self.rows.values(), key=lambda c: c.id or 0)
            if c.account_number == account
            and c.deletion_requested_at is None
            and (query.owner_id is None or c.owner_id == query.owner_id)
            and (query.name_contains is None or query.name_contains in c.name)
            and (query.deployed is None or c.deployed is query.deployed)
            and (query.tag is None or query.tag in c.tags)
        ]
        items = matches[query.offset : query.offset + query.limit]
        return ClientPage(items=items, total=len(matches), offset=query.offset, limit=query.limit)

    async def save(self, client: LLMClient) -> LLMClient:
        self._check_unique(client)
        return self._stored(client)

    async def delete(self, client: LLMClient) -> None:
        assert client.id is not None
        del self.rows[client.id]

    async def events(self, client_id: int) -> list[StatusEvent]:
        return list(self.events_by_client.get(client_id, []))

    async def find(self, client_id: int) -> LLMClient | None:
        client = self.rows.get(client_id)
        return None if client is None else self._loaded(client)

    async def save_statuses(self, client: LLMClient) -> None:
        assert client.id is not None
        stored = self.rows[client.id]
        stored.dns_verification_status = client.dns_verification_status
        stored.tls_certificate_issuance_status = client.tls_certificate_issuance_status
        self.events_by_client.setdefault(client.id, []).extend(client.events)
        client.events = []

    async def find_by_host(self, account: AccountNumber, host_label: str) -> LLMClient | None:
        for client in self.rows.values():
            if client.account_number == account and client.rfc1034_compliant_name == host_label:
                return self._loaded(client)
        return None


class FakeAPIKeys:
    def __init__(self) -> None:
        self.rows: dict[int, LLMClientAPIKey] = {}
        self._ids = _Ids()

    async def add(self, key: LLMClientAPIKey) -> LLMClientAPIKey:
        key.id = self._ids.next()
        self.rows[key.id] = copy.deepcopy(key)
        return key

    async def get(self, client_id: int, key_id: int) -> LLMClientAPIKey:
        key = self.rows.get(key_id)
        if key is None or key.llm_client_id != client_id:
            raise NotFound(f"no API key {key_id}")
        return copy.deepcopy(key)

    async def list(self, client_id: int) -> list[LLMClientAPIKey]:
        return [copy.deepcopy(k) for k in self.rows.values() if k.llm_client_id == client_id]

    async def save(self, key: LLMClientAPIKey) -> LLMClientAPIKey:
        assert key.id is not None
        self.rows[key.id] = copy.deepcopy(key)
        return key

    async def active_digests(self, client_id: int) -> dict[str, int]:
        return {
            k.digest: k.id
            for k in self.rows.values()
            if k.llm_client_id == client_id and k.is_active and k.id is not None
        }


class FakeDomains:
    def __init__(self, clients: FakeClients) -> None:
        self.rows: dict[int, CustomDomain] = {}
        self._clients = clients
        self._ids = _Ids()

    async def add(self, domain: CustomDomain) -> CustomDomain:
        for other in self.rows.values():
            same_name = other.domain_name == domain.domain_name
            if same_name and (other.account_number == domain.account_number or other.is_verified):
                raise Conflict(f"{domain.domain_name} is already registered")
        domain.id = self._ids.next()
        self.rows[domain.id] = copy.deepcopy(domain)
        return domain

    async def get(self, account: AccountNumber, domain_id: int) -> CustomDomain:
        domain = self.rows.get(domain_id)
        if domain is None or domain.account_number != account:
            raise NotFound(f"no custom domain {domain_id}")
        return copy.deepcopy(domain)

    async def list(self, account: AccountNumber) -> list[CustomDomain]:
        return [copy.deepcopy(d) for d in self.rows.values() if d.account_number == account]

    async def save(self, domain: CustomDomain) -> CustomDomain:
        assert domain.id is not None
        if domain.id not in self.rows:
            raise NotFound(f"no custom domain {domain.id}")
        self.rows[domain.id] = copy.deepcopy(domain)
        for client in self._clients.rows.values():  # clients read their domain as it is now
            if client.custom_domain is not None and client.custom_domain.id == domain.id:
                client.custom_domain = copy.deepcopy(domain)
        return domain

    async def delete(self, domain: CustomDomain) -> None:
        assert domain.id is not None
        del self.rows[domain.id]

    async def is_attached(self, domain_id: int) -> bool:
        return any(
            c.custom_domain is not None and c.custom_domain.id == domain_id
            for c in self._clients.rows.values()
        )

    async def find_verified(self, domain_name: str) -> CustomDomain | None:
        for domain in self.rows.values():
            if domain.is_verified and domain.domain_name == domain_name:
                return copy.deepcopy(domain)
        return None


class FakeHostnames:
    """Hostname registrations in a dict; the client's account is checked on add."""

    def __init__(self, clients: FakeClients) -> None:
        self.rows: dict[int, CustomHostname] = {}
        self._clients = clients
        self._ids = _Ids()

    async def add(self, hostname: CustomHostname) -> CustomHostname:
        client = self._clients.rows.get(hostname.client_id)
        if client is None or client.account_number != hostname.account_number:
            raise NotFound(f"no LLMClient {hostname.client_id}")
        if any(
            h.hostname == hostname.hostname
            and (h.is_verified or h.account_number == hostname.account_number)
            for h in self.rows.values()
        ):
            raise Conflict(f"{hostname.hostname} is already registered")
        hostname.id = self._ids.next()
        self.rows[hostname.id] = copy.deepcopy(hostname)
        return hostname

    async def get(self, account: AccountNumber, hostname_id: int) -> CustomHostname:
        found = self.rows.get(hostname_id)
        if found is None or found.account_number != account:
            raise NotFound(f"no custom hostname {hostname_id}")
        return copy.deepcopy(found)

    async def save(self, hostname: CustomHostname) -> CustomHostname:
        if hostname.is_verified and any(
            h.hostname == hostname.hostname and h.is_verified and h.id != hostname.id
            for h in self.rows.values()
        ):
            raise Conflict(f"{hostname.hostname} is verified by another account")
        self.rows[hostname.id or 0] = copy.deepcopy(hostname)
        return hostname

    async def delete(self, hostname: CustomHostname) -> None:
        if self.rows.pop(hostname.id or 0, None) is None:
            raise NotFound(f"no custom hostname {hostname.id}")

    async def find(self, hostname_id: int) -> CustomHostname | None:
        return copy.deepcopy(self.rows.get(hostname_id))

    async def find_verified(self, name: str) -> CustomHostname | None:
        found = (h for h in self.rows.values() if h.hostname == name and h.is_verified)
        return copy.deepcopy(next(found, None))

    async def of_client(self, client_id: int) -> list[CustomHostname]:
        found = (h for h in self.rows.values() if h.client_id == client_id)
        return [copy.deepcopy(h) for h in sorted(found, key=lambda h: h.id or 0)]

    async def due_for_check(self, checked_before: datetime, limit: int) -> list[int]:
        def due(h: CustomHostname) -> bool:
            checked = h.last_check.checked_at if h.last_check else None
            return not h.is_verified or checked is None or checked < checked_before

        return sorted(i for i, h in self.rows.items() if due(h))[:limit]

    def verified_of(self, client_id: int) -> set[str]:
        return {
            h.hostname for h in self.rows.values() if h.client_id == client_id and h.is_verified
        }

    async def list(self, account: AccountNumber) -> list[CustomHostname]:
        found = (h for h in self.rows.values() if h.account_number == account)
        return [copy.deepcopy(h) for h in sorted(found, key=lambda h: h.id or 0)]


class FakeOutbox:
    def __init__(self) -> None:
        self.pending: list[Job] = []
        self.committed: list[Job] = []

    def add(self, job: Job) -> None:
        self.pending.append(job)


class FakeRequestHistory:
    def __init__(self) -> None:
        self.rows: dict[int, ChatRequestRecord] = {}
        self._ids = _Ids()

    async def add(self, record: ChatRequestRecord) -> ChatRequestRecord:
        if any(r.request_id == record.request_id for r in self.rows.values()):
            raise Conflict(f"request {record.request_id} is recorded already")
        record.id = self._ids.next()
        record.created_at = record.created_at or datetime.now(UTC)
        self.rows[record.id] = copy.deepcopy(record)
        return record

    async def list(
        self, client_id: int, limit: int = 50, before: int | None = None
    ) -> list[ChatRequestRecord]:
        def order(r: ChatRequestRecord) -> tuple[datetime, int]:
            assert r.created_at is not None and r.id is not None
            return r.created_at, r.id

        mine = sorted((r for r in self.rows.values() if r.llm_client_id == client_id), key=order)
        if before is not None:
            cursor = self.rows.get(before)
            if cursor is None or cursor.llm_client_id != client_id:
                return []
            mine = [r for r in mine if order(r) < order(cursor)]
        return [copy.deepcopy(r) for r in reversed(mine)][:limit]

    async def daily_usage(
        self, client_id: int, since: datetime
    ) -> builtins.list[DailyUsage]:  # `list` is a method here
        days: dict[Any, DailyUsage] = {}
        for r in self.rows.values():
            if r.llm_client_id != client_id or r.created_at is None or r.created_at < since:
                continue
            day = r.created_at.astimezone(UTC).date()
            old = days.get(day, DailyUsage(day=day))
            days[day] = DailyUsage(
                day=day,
                requests=old.requests + 1,
                errors=old.errors + (r.status_code >= 400),
                prompt_tokens=old.prompt_tokens + r.prompt_tokens,
                completion_tokens=old.completion_tokens + r.completion_tokens,
            )
        return [days[day] for day in sorted(days)]


class FakeConversations:
    def __init__(self) -> None:
        self.rows: dict[int, Conversation] = {}
        self._ids = _Ids()

    async def append(
        self,
        client_id: int,
        session_key: str,
        messages: list[ChatMessage],
        at: datetime | None = None,
    ) -> int:
        now = at or datetime.now(UTC)
        chat = await self._find(client_id, session_key)
        if chat is None:
            chat = Conversation(
                llm_client_id=client_id,
                session_key=session_key,
                created_at=now,
                id=self._ids.next(),
            )
            assert chat.id is not None
            self.rows[chat.id] = chat
        chat.updated_at = now
        chat.messages += [
            msgspec.structs.replace(m, created_at=m.created_at or now) for m in messages
        ]
        assert chat.id is not None
        return chat.id

    async def get(self, client_id: int, session_key: str) -> Conversation | None:
        chat = await self._find(client_id, session_key)
        return copy.deepcopy(chat)

    async def list(
        self, client_id: int, limit: int = 50, before: int | None = None
    ) -> list[ConversationSummary]:
        def order(c: Conversation) -> tuple[datetime, int]:
            assert c.updated_at is not None and c.id is not None
            return c.updated_at, c.id

        mine = sorted((c for c in self.rows.values() if c.llm_client_id == client_id), key=order)
        if before is not None:
            cursor = self.rows.get(before)
            if cursor is None or cursor.llm_client_id != client_id:
                return []
            mine = [c for c in mine if order(c) < order(cursor)]
        return [
            ConversationSummary(
                id=c.id or 0,
                session_key=c.session_key,
                messages=len(c.messages),
                created_at=c.created_at or c.updated_at or datetime.now(UTC),
                updated_at=c.updated_at or datetime.now(UTC),
            )
            for c in reversed(mine)
        ][:limit]

    async def _find(self, client_id: int, session_key: str) -> Conversation | None:
        for chat in self.rows.values():
            if chat.llm_client_id == client_id and chat.session_key == session_key:
                return chat
        return None


class FakeProvisioningRecords:
    """Observed state in dicts; the cross-account lookups read the fake repositories."""

    def __init__(
        self, clients: FakeClients, domains: FakeDomains, hostnames: FakeHostnames
    ) -> None:
        self._hostnames = hostnames
        self.hosts: dict[str, ProvisionedHost] = {}
        self.certificates: dict[str, ManagedCertificate] = {}
        self.registered_at: dict[int, datetime] = {}
        self.clock: FakeClock | None = None  # registration times default to its now
        self._clients, self._domains = clients, domains

    async def hosts_of(self, client_id: int) -> list[ProvisionedHost]:
        found = (h for h in self.hosts.values() if h.client_id == client_id)
        return [copy.deepcopy(h) for h in sorted(found, key=lambda h: h.host)]

    async def save_host(self, host: ProvisionedHost) -> None:
        self.hosts[host.host] = copy.deepcopy(host)

    async def delete_host(self, host: str) -> None:
        self.hosts.pop(host, None)

    async def certificate(self, name: str) -> ManagedCertificate | None:
        return copy.deepcopy(self.certificates.get(name))

    async def save_certificate(self, certificate: ManagedCertificate) -> None:
        self.certificates[certificate.name] = copy.deepcopy(certificate)

    async def delete_certificate(self, name: str) -> None:
        self.certificates.pop(name, None)

    async def claim_certificate(
        self, certificate: ManagedCertificate, stale_before: datetime
    ) -> bool:
        held = self.certificates.get(certificate.name)
        if held and held.phase is CertificatePhase.PENDING and held.requested_at > stale_before:
            return False
        self.certificates[certificate.name] = copy.deepcopy(certificate)
        return True

    async def certificate_users(self, name: str) -> list[int]:
        return sorted({h.client_id for h in self.hosts.values() if h.certificate_name == name})

    async def clients_waiting_for(self, certificate: str) -> list[int]:
        return sorted(
            {
                h.client_id
                for h in self.hosts.values()
                if h.certificate_name == certificate and not h.ingress_applied
            }
        )

    async def lagging_clients(self, limit: int) -> list[int]:
        lagging = [
            client_id
            for client_id, client in sorted(self._clients.rows.items())
            if _lags(
                client,
                [h for h in self.hosts.values() if h.client_id == client_id],
                set(self.certificates),
                {
                    h.hostname
                    for h in self._hostnames.rows.values()
                    if h.client_id == client_id and h.is_verified
                },
            )
        ]
        return lagging[:limit]

    async def certificates_to_renew(self, now: datetime, limit: int) -> list[str]:
        due = [c.name for c in self.certificates.values() if c.renewing or c.renewal_due(now)]
        return sorted(due)[:limit]

    async def unused_certificates(self, limit: int) -> list[str]:
        used = {h.certificate_name for h in self.hosts.values()}
        return sorted(name for name in self.certificates if name not in used)[:limit]

    async def registration(self, domain_id: int) -> DomainRegistration | None:
        domain = self._domains.rows.get(domain_id)
        if domain is None:
            return None
        if domain_id not in self.registered_at:
            self.registered_at[domain_id] = self.clock.now() if self.clock else datetime.now(UTC)
        return DomainRegistration(
            domain=copy.deepcopy(domain), registered_at=self.registered_at[domain_id]
        )

    async def registrations_named(self, domain_name: str) -> list[CustomDomain]:
        found = (d for d in self._domains.rows.values() if d.domain_name == domain_name)
        return [copy.deepcopy(d) for d in sorted(found, key=lambda d: d.id or 0)]

    async def unverified_domains(self, limit: int) -> list[int]:
        return sorted(i for i, d in self._domains.rows.items() if not d.is_verified)[:limit]

    async def domains_to_recheck(self, checked_before: datetime, limit: int) -> list[int]:
        def due(domain: CustomDomain) -> bool:
            report = domain.last_verification
            return domain.is_verified and (report is None or report.checked_at < checked_before)

        return sorted(i for i, d in self._domains.rows.items() if due(d))[:limit]

    async def clients_to_check_for_drift(self, limit: int) -> list[int]:
        def last_checked(client_id: int) -> datetime:
            hosts = [h for h in self.hosts.values() if h.client_id == client_id]
            return min(
                h.checked_at or h.updated_at or datetime.min.replace(tzinfo=UTC) for h in hosts
            )

        ready = [
            client_id
            for client_id, client in self._clients.rows.items()
            if client.is_provisioned
            and any(h.client_id == client_id and h.ingress_applied for h in self.hosts.values())
        ]
        return sorted(ready, key=lambda i: (last_checked(i), i))[:limit]

    async def failed_clients(self, failed_before: datetime, limit: int) -> list[int]:
        def failed(client: LLMClient) -> bool:
            return client.deployed and (
                client.dns_verification_status is DnsVerificationStatus.FAILED
                or client.tls_certificate_issuance_status is TlsCertificateIssuanceStatus.FAILED
            )

        def quiet(client_id: int) -> bool:
            events = self._clients.events_by_client.get(client_id, [])
            return all(event.at < failed_before for event in events)

        ids = [i for i, c in self._clients.rows.items() if failed(c) and quiet(i)]
        return sorted(ids)[:limit]

    async def clients_on_domain(self, domain_id: int) -> list[int]:
        return sorted(
            i
            for i, c in self._clients.rows.items()
            if c.custom_domain is not None and c.custom_domain.id == domain_id
        )


def _lags(
    client: LLMClient,
    hosts: list[ProvisionedHost],
    certificates: set[str],
    verified_hostnames: set[str],
) -> bool:
    """The same rule as the SQL query: wanted and not ready, or not wanted and not gone."""
    dns, tls = client.dns_verification_status, client.tls_certificate_issuance_status
    if client.deletion_requested_at is not None:
        return True
    if client.deployed:
        failed = dns is DnsVerificationStatus.FAILED or tls is TlsCertificateIssuanceStatus.FAILED
        unfinished = any(
            h.check is HostCheck.VERIFYING
            or (h.check is HostCheck.VERIFIED and not h.ingress_applied)
            or (h.ingress_applied and h.certificate_name not in certificates)
            for h in hosts
        )
        domain = client.custom_domain
        custom_missing = (
            domain is not None
            and domain.is_verified
            and not any(h.role is HostRole.CUSTOM for h in hosts)
        )
        provisioned_hostnames = {h.host for h in hosts if h.role is HostRole.HOSTNAME}
        hostnames_differ = provisioned_hostnames != verified_hostnames
        return not failed and (
            not client.is_provisioned or unfinished or custom_missing or hostnames_differ
        )
    return (
        bool(hosts)
        or dns is not DnsVerificationStatus.NOT_VERIFIED
        or tls is not TlsCertificateIssuanceStatus.NO_CERTIFICATE
    )


class FakeDnsChanges:
    """Record changes in a dict by id."""

    def __init__(self) -> None:
        self.rows: dict[int, DnsChange] = {}
        self.settled_at: dict[int, datetime] = {}
        self._ids = _Ids()

    async def add(self, change: DnsChange) -> DnsChange:
        change.id = self._ids.next()
        self.rows[change.id] = copy.deepcopy(change)
        return change

    async def get(self, change_id: int) -> DnsChange | None:
        return copy.deepcopy(self.rows.get(change_id))

    async def pending(self, zone_id: str, limit: int) -> list[DnsChange]:
        return self._where(zone_id, DnsChangeState.PENDING)[:limit]

    async def submitted(self, zone_id: str) -> list[DnsChange]:
        return self._where(zone_id, DnsChangeState.SUBMITTED)

    async def mark_submitted(self, change_ids: list[int], batch: str) -> None:
        for change_id in change_ids:
            self.rows[change_id].state, self.rows[change_id].batch = DnsChangeState.SUBMITTED, batch

    async def settle_batch(self, batch: str, at: datetime) -> list[DnsChange]:
        settled = [
            c
            for c in self.rows.values()
            if c.batch == batch and c.state is DnsChangeState.SUBMITTED
        ]
        for change in settled:
            change.state = DnsChangeState.DONE
            self.settled_at[change.id or 0] = at
        return copy.deepcopy(settled)

    async def settle(self, change_id: int, at: datetime, *, error: str = "") -> None:
        change = self.rows[change_id]
        change.state = DnsChangeState.FAILED if error else DnsChangeState.DONE
        change.error = error
        self.settled_at[change_id] = at

    async def zones_with_pending(self, limit: int) -> list[str]:
        open_ = (DnsChangeState.PENDING, DnsChangeState.SUBMITTED)
        return sorted({c.zone_id for c in self.rows.values() if c.state in open_})[:limit]

    async def forget_settled(self, before: datetime) -> int:
        old = [i for i, at in self.settled_at.items() if at < before]
        for change_id in old:
            self.rows.pop(change_id, None)
            del self.settled_at[change_id]
        return len(old)

    def _where(self, zone_id: str, state: DnsChangeState) -> list[DnsChange]:
        found = [c for c in self.rows.values() if c.zone_id == zone_id and c.state is state]
        return [copy.deepcopy(c) for c in sorted(found, key=lambda c: c.id or 0)]


class FakeUnitOfWork:
    """Changes are visible at once (the fakes keep no transaction); commits are counted."""

    def __init__(self) -> None:
        self.accounts = FakeAccounts()
        self.users = FakeUsers()
        self.tokens = FakeTokens(self.users)
        self.invitations = FakeInvitations(self.users)
        self.api_keys = FakeAPIKeys()
        self.clients = FakeClients(self.api_keys)
        self.domains = FakeDomains(self.clients)
        self.hostnames = FakeHostnames(self.clients)
        self.outbox = FakeOutbox()
        self.provisioning = FakeProvisioningRecords(self.clients, self.domains, self.hostnames)
        self.dns_changes = FakeDnsChanges()
        self.history = FakeRequestHistory()
        self.conversations = FakeConversations()
        self.webhooks = FakeWebhooks()
        self.commits = 0
        # Like SqlUnitOfWork's: e.g. a ClientCache's invalidate, for tests that chat.
        self.after_commit: Callable[[frozenset[AccountNumber]], Awaitable[None]] | None = None

    async def commit(self) -> None:
        self.commits += 1
        self.outbox.committed += self.outbox.pending
        self.outbox.pending = []
        if self.after_commit is not None:  # the fakes do not track changes: every account
            await self.after_commit(frozenset(AccountNumber(n) for n in self.accounts.rows))

    async def rollback(self) -> None:
        self.outbox.pending = []


def principal_of(user: User, token_id: int = 1) -> Principal:
    assert user.id is not None
    return Principal(
        user_id=user.id,
        username=user.username,
        account_number=user.account_number,
        is_account_admin=user.is_account_admin,
        token_id=token_id,
    )


def jobs(outbox: FakeOutbox) -> list[str]:
    return [msgspec.json.encode(job).decode() for job in outbox.committed]


# -- the chat hot path's ports ---------------------------------------------------------------------


class FakeClientCache:
    """A dict; `invalidations` lists the account sets it was told about."""

    def __init__(self) -> None:
        self.entries: dict[str, ClientEntry] = {}
        self.invalidations: list[frozenset[AccountNumber]] = []

    async def get(self, host: str) -> ClientEntry | None:
        return self.entries.get(host)

    async def put(self, host: str, entry: ClientEntry) -> None:
        self.entries[host] = entry

    async def invalidate(self, accounts: Iterable[AccountNumber]) -> None:
        gone = frozenset(accounts)
        self.invalidations.append(gone)
        self.entries = {
            h: e
            for h, e in self.entries.items()
            if e.account_number is not None and e.account_number not in gone
        }


class FakeRateLimiter:
    """Counts hits per key; answers `wait` once a key passes its limit."""

    def __init__(self, wait: float = 30.0) -> None:
        self.hits: dict[str, int] = {}
        self.wait = wait

    async def hit(self, key: str, limit: int, window_seconds: float) -> float | None:
        self.hits[key] = self.hits.get(key, 0) + 1
        return self.wait if self.hits[key] > limit else None


class FakeChatRecorder:
    def __init__(self) -> None:
        self.turns: list[ChatTurn] = []

    def record(self, turn: ChatTurn) -> None:
        self.turns.append(turn)

    async def drain(self) -> None:
        pass


class ScriptedChatModel:
    """Answers from a script: each call takes the next Completion (or raises the next error);
    `stream` cuts the same answers into chunks. `requests` keeps what it was asked."""

    def __init__(self, *answers: Completion | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[CompletionRequest] = []

    def _next(self, request: CompletionRequest) -> Completion:
        self.requests.append(request)
        answer = self.answers.pop(0) if self.answers else said(request)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def complete(self, request: CompletionRequest) -> Completion:
        return self._next(request)

    async def stream(self, request: CompletionRequest) -> AsyncIterator[CompletionChunk]:
        answer = self._next(request)
        message = answer.choices[0]["message"]

        def chunk(delta: dict[str, Any], finish: str | None = None) -> CompletionChunk:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            return CompletionChunk(
                id=answer.id, created=answer.created, model=answer.model, choices=[choice]
            )

        yield chunk({"role": "assistant", "content": ""})
        if message.get("tool_calls"):
            calls = [{"index": i, **c} for i, c in enumerate(message["tool_calls"])]
            yield chunk({"tool_calls": calls})
            yield chunk({}, "tool_calls")
        else:
            for word in (message.get("content") or "").split(" "):
                yield chunk({"content": word + " "})
            yield chunk({}, "stop")
        if answer.usage is not None:
            yield CompletionChunk(
                id=answer.id,
                created=answer.created,
                model=answer.model,
                choices=[],
                usage=answer.usage,
            )


def completion(
    content: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    prompt_tokens: int = 3,
    completion_tokens: int = 2,
) -> Completion:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return Completion(
        id="chatcmpl-fake",
        created=1_700_000_000,
        model="fake-model",
        choices=[{"index": 0, "message": message, "finish_reason": "stop"}],
        usage={
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    )


def said(request: CompletionRequest) -> Completion:
    last = request.messages[-1].get("content")
    return completion(f"You said: {last}")


class FakeChatModels:
    def __init__(self, **models: ChatModel) -> None:
        self.models = models

    def get(self, provider: str) -> ChatModel | None:
        return self.models.get(provider)

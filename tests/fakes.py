"""Hand-written fakes of the application's ports: dicts and lists, nothing clever."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import msgspec

from smarter.application.ports import ClientFilter, ClientPage, Job
from smarter.domain.account_number import AccountNumber
from smarter.domain.accounts import Account, AccountToken, LLMClientAPIKey, Principal, User
from smarter.domain.custom_domain import CustomDomain
from smarter.domain.errors import Conflict, NotFound
from smarter.domain.llm_client import LLMClient
from smarter.domain.secrets import same_digest
from smarter.domain.status import StatusEvent


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
        if client is None or client.account_number != account:
            raise NotFound(f"no LLMClient {client_id}")
        return self._loaded(client)

    async def get_by_name(self, account: AccountNumber, name: str) -> LLMClient | None:
        for client in self.rows.values():
            if client.account_number == account and client.name == name:
                return self._loaded(client)
        return None

    async def page(self, account: AccountNumber, query: ClientFilter) -> ClientPage:
        matches = [
            self._loaded(c)
            for c in sorted(self.rows.values(), key=lambda c: c.id or 0)
            if c.account_number == account
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
        self.rows[domain.id] = copy.deepcopy(domain)
        return domain

    async def delete(self, domain: CustomDomain) -> None:
        assert domain.id is not None
        del self.rows[domain.id]

    async def is_attached(self, domain_id: int) -> bool:
        return any(
            c.custom_domain is not None and c.custom_domain.id == domain_id
            for c in self._clients.rows.values()
        )


class FakeOutbox:
    def __init__(self) -> None:
        self.pending: list[Job] = []
        self.committed: list[Job] = []

    def add(self, job: Job) -> None:
        self.pending.append(job)


class FakeUnitOfWork:
    """Changes are visible at once (the fakes keep no transaction); commits are counted."""

    def __init__(self) -> None:
        self.accounts = FakeAccounts()
        self.users = FakeUsers()
        self.tokens = FakeTokens(self.users)
        self.api_keys = FakeAPIKeys()
        self.clients = FakeClients(self.api_keys)
        self.domains = FakeDomains(self.clients)
        self.outbox = FakeOutbox()
        self.commits = 0

    async def commit(self) -> None:
        self.commits += 1
        self.outbox.committed += self.outbox.pending
        self.outbox.pending = []

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

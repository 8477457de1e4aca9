"""LLMClients: the customer's spec as a JSON document, identity and state as columns."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
from sqlalchemy import Boolean, Select, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from smarter.adapters.sql.accounts import account_id_of
from smarter.adapters.sql.custom_domains import domain_of
from smarter.adapters.sql.integrity import guarded_write
from smarter.adapters.sql.rows import (
    AccountRow,
    CustomDomainRow,
    LLMClientAPIKeyRow,
    LLMClientRow,
    StatusEventRow,
    UserRow,
    llm_client_tags,
    utc_now,
)
from smarter.adapters.sql.touched import note_account
from smarter.adapters.sql.webhooks import publish
from smarter.application.ports import ClientFilter, ClientPage
from smarter.domain.account_number import AccountNumber
from smarter.domain.environments import Platform
from smarter.domain.errors import NotFound
from smarter.domain.llm_client import LLMClient, LLMClientSpec
from smarter.domain.status import (
    DnsVerificationStatus,
    StatusEvent,
    StatusField,
    TlsCertificateIssuanceStatus,
)
from smarter.domain.webhook_events import client_events

# The spec fields that are columns of their own; the rest of the spec is the `spec` document.
SPEC_COLUMNS = ("name", "version", "provider", "default_model")


class _ContainsText(FunctionElement[bool]):
    """`needle` occurs in `haystack`, case-sensitively, on every dialect (LIKE is not)."""

    type = Boolean()
    name = "contains_text"
    inherit_cache = True


@compiles(_ContainsText)
def _strpos(element: _ContainsText, compiler: SQLCompiler, **kw: Any) -> str:
    haystack, needle = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(strpos({haystack}, {needle}) > 0)"


@compiles(_ContainsText, "sqlite")
def _instr(element: _ContainsText, compiler: SQLCompiler, **kw: Any) -> str:
    haystack, needle = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(instr({haystack}, {needle}) > 0)"


def _spec_document(client: LLMClient) -> dict[str, Any]:
    document: dict[str, Any] = msgspec.to_builtins(client.spec)
    for name in SPEC_COLUMNS:
        del document[name]
    return document


def _event(row: StatusEventRow) -> StatusEvent:
    return StatusEvent(
        at=row.at,
        field=StatusField(row.field),
        from_status=row.from_status,
        to_status=row.to_status,
        reason=row.reason,
    )


class SqlLLMClients:
    def __init__(self, session: AsyncSession, platform: Platform) -> None:
        self._session = session
        self._platform = platform

    # -- the port ---------------------------------------------------------------------------

    async def add(self, client: LLMClient) -> LLMClient:
        """Store a new client; Conflict when its name or default host is taken."""
        account_id = await account_id_of(self._session, client.account_number)
        owner_id = await self._owner_id(client, account_id)
        now = utc_now()
        row = LLMClientRow(
            account_id=account_id,
            owner_id=owner_id,
            custom_domain_id=await self._custom_domain_id(client, account_id),
            created_at=client.created_at or now,
            updated_at=client.updated_at or now,
        )
        self._write(row, client)
        async with guarded_write(self._session, lambda: self._collision(client, account_id)):
            self._session.add(row)
        client.id, client.owner_id = row.id, owner_id
        client.created_at, client.updated_at = row.created_at, row.updated_at
        note_account(self._session, client.account_number)
        await self._store_tags(row.id, client.tags, previous=())
        self._store_events(client)
        return client

    async def get(self, account: AccountNumber, client_id: int) -> LLMClient:
        client = await self._one(
            self._query().where(LLMClientRow.id == client_id, AccountRow.account_number == account)
        )
        if client is None:
            raise NotFound(f"no LLMClient {client_id}")
        return client

    async def get_by_name(self, account: AccountNumber, name: str) -> LLMClient | None:
        return await self._one(
            self._query().where(AccountRow.account_number == account, LLMClientRow.name == name)
        )

    async def page(self, account: AccountNumber, query: ClientFilter) -> ClientPage:
        conditions = self._conditions(account, query)
        total = await self._session.scalar(
            select(func.count())
            .select_from(LLMClientRow)
            .join(AccountRow, AccountRow.id == LLMClientRow.account_id)
            .where(*conditions)
        )
        rows = await self._session.execute(
            self._query()
            .where(*conditions)
            .order_by(LLMClientRow.id)
            .offset(query.offset)
            .limit(query.limit)
        )
        return ClientPage(
            items=[self._client(*row) for row in rows],
            total=total or 0,
            offset=query.offset,
            limit=query.limit,
        )

    async def save(self, client: LLMClient) -> LLMClient:
        """Store the client's changes and its new events (then clears `client.events`)."""
        row = await self._session.scalar(
            select(LLMClientRow)
            .join(AccountRow, AccountRow.id == LLMClientRow.account_id)
            .where(
                LLMClientRow.id == client.id,
                AccountRow.account_number == client.account_number,
            )
            .execution_options(populate_existing=True)
        )
        if row is None:
            raise NotFound(f"no LLMClient {client.id}")
        account_id = row.account_id
        previous_tags = list(row.spec.get("tags", []))
        owner_id = await self._owner_id(client, account_id, unchanged=row.owner_id)
        custom_domain_id = await self._custom_domain_id(
            client, account_id, unchanged=row.custom_domain_id
        )
        async with guarded_write(self._session, lambda: self._collision(client, account_id)):
            self._write(row, client)
            row.owner_id = owner_id
            row.custom_domain_id = custom_domain_id
            row.updated_at = client.updated_at or utc_now()
        client.updated_at = row.updated_at
        note_account(self._session, client.account_number)
        await self._store_tags(row.id, client.tags, previous=previous_tags)
        await publish(self._session, client.account_number, client_events(client, client.events))
        self._store_events(client)
        return client

    async def delete(self, client: LLMClient) -> None:
        """Delete the client with its keys, tags, events, history and conversations."""
        events = client_events(client, client.events, deleted=True)
        result = await self._session.execute(
            delete(LLMClientRow).where(LLMClientRow.id == client.id)
        )
        if getattr(result, "rowcount", 0) == 0:
            raise NotFound(f"no LLMClient {client.id}")
        note_account(self._session, client.account_number)
        await publish(self._session, client.account_number, events)

    async def events(self, client_id: int) -> list[StatusEvent]:
        """The client's status timeline, oldest first."""
        rows = await self._session.scalars(
            select(StatusEventRow)
            .where(StatusEventRow.llm_client_id == client_id)
            .order_by(StatusEventRow.id)
        )
        return [_event(row) for row in rows]

    # -- lookups for the host router ---------------------------------------------------------

    async def find_by_host(self, account: AccountNumber, host_label: str) -> LLMClient | None:
        """The client of `account` whose rfc1034_compliant_name is `host_label` (indexed)."""
        return await self._one(
            self._query().where(
                AccountRow.account_number == account, LLMClientRow.host_label == host_label
            )
        )

    # -- mapping -----------------------------------------------------------------------------

    async def save_statuses(self, client: LLMClient) -> None:
        """Store only the observed statuses and the new events (the worker's write)."""
        await self._session.execute(
            update(LLMClientRow)
            .where(LLMClientRow.id == client.id)
            .values(
                dns_verification_status=client.dns_verification_status.value,
                tls_certificate_issuance_status=client.tls_certificate_issuance_status.value,
            )
        )
        await publish(self._session, client.account_number, client_events(client, client.events))
        self._store_events(client)
        note_account(self._session, client.account_number)

    async def find(self, client_id: int) -> LLMClient | None:
        """Any account's client, also one being deleted (the worker's lookup)."""
        return await self._one(
            self._query(include_deleting=True).where(LLMClientRow.id == client_id)
        )

    @staticmethod
    def _query(*, include_deleting: bool = False) -> Select[Any]:
        active_keys = (
            select(func.count(LLMClientAPIKeyRow.id))
            .where(
                LLMClientAPIKeyRow.llm_client_id == LLMClientRow.id,
                LLMClientAPIKeyRow.revoked_at.is_(None),
            )
            .correlate(LLMClientRow)
            .scalar_subquery()
        )
        query = (
            select(
                LLMClientRow,
                AccountRow.account_number,
                UserRow.username,
                UserRow.is_account_admin,
                active_keys,
                CustomDomainRow,
            )
            .join(AccountRow, AccountRow.id == LLMClientRow.account_id)
            .join(UserRow, UserRow.id == LLMClientRow.owner_id)
            .outerjoin(CustomDomainRow, CustomDomainRow.id == LLMClientRow.custom_domain_id)
            # Rows this session holds already are refreshed: the database's cascades (a
            # deleted domain, a revoked key) must show within one unit of work too.
            .execution_options(populate_existing=True)
        )
        # A client being deleted is gone for everyone but the worker.
        return (
            query if include_deleting else query.where(LLMClientRow.deletion_requested_at.is_(None))
        )

    async def _one(self, query: Select[Any]) -> LLMClient | None:
        found = (await self._session.execute(query)).first()
        return None if found is None else self._client(*found)

    def _client(
        self,
        row: LLMClientRow,
        account_number: str,
        owner_username: str,
        owner_is_admin: bool,
        active_api_keys: int,
        domain: CustomDomainRow | None,
    ) -> LLMClient:
        document = {**row.spec, **{name: getattr(row, name) for name in SPEC_COLUMNS}}
        spec = msgspec.convert(document, LLMClientSpec)
        return LLMClient(
            **msgspec.structs.asdict(spec),
            platform=self._platform,
            account_number=AccountNumber(account_number),
            owner_username=owner_username,
            owner_is_admin=owner_is_admin,
            id=row.id,
            owner_id=row.owner_id,
            deployed=row.deployed,
            dns_verification_status=DnsVerificationStatus(row.dns_verification_status),
            tls_certificate_issuance_status=TlsCertificateIssuanceStatus(
                row.tls_certificate_issuance_status
            ),
            custom_domain=None if domain is None else domain_of(domain, account_number),
            active_api_keys=active_api_keys,
            created_at=row.created_at,
            updated_at=row.updated_at,
            deletion_requested_at=row.deletion_requested_at,
        )

    @staticmethod
    def _write(row: LLMClientRow, client: LLMClient) -> None:
        row.name = client.name
        row.host_label = client.rfc1034_compliant_name
        row.version = client.version
        row.provider = client.provider
        row.default_model = client.default_model
        row.deployed = client.deployed
        row.dns_verification_status = client.dns_verification_status.value
        row.tls_certificate_issuance_status = client.tls_certificate_issuance_status.value
        row.spec = _spec_document(client)
        row.deletion_requested_at = client.deletion_requested_at

    @staticmethod
    def _conditions(account: AccountNumber, query: ClientFilter) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [
            AccountRow.account_number == account,
            LLMClientRow.deletion_requested_at.is_(None),
        ]
        if query.owner_id is not None:
            conditions.append(LLMClientRow.owner_id == query.owner_id)
        if query.name_contains:
            conditions.append(_ContainsText(LLMClientRow.name, query.name_contains))
        if query.deployed is not None:
            conditions.append(LLMClientRow.deployed == query.deployed)
        if query.tag is not None:
            tagged = select(llm_client_tags.c.llm_client_id).where(
                llm_client_tags.c.tag == query.tag
            )
            conditions.append(LLMClientRow.id.in_(tagged))
        return conditions

    # -- checks and side tables --------------------------------------------------------------

    async def _owner_id(
        self, client: LLMClient, account_id: int, unchanged: int | None = None
    ) -> int:
        """The owner's id, after checking it is a user of the client's account."""
        if client.owner_id is None:
            raise NotFound("the LLMClient has no owner")
        if client.owner_id != unchanged:
            found = await self._session.scalar(
                select(UserRow.id).where(
                    UserRow.id == client.owner_id, UserRow.account_id == account_id
                )
            )
            if found is None:
                raise NotFound(f"no user {client.owner_id}")
        return client.owner_id

    async def _custom_domain_id(
        self, client: LLMClient, account_id: int, unchanged: int | None = None
    ) -> int | None:
        """The attached domain's id, after checking it belongs to the client's account."""
        domain = client.custom_domain
        if domain is None:
            return None
        if domain.id is None or domain.id != unchanged:
            found = await self._session.scalar(
                select(CustomDomainRow.id).where(
                    CustomDomainRow.id == domain.id, CustomDomainRow.account_id == account_id
                )
            )
            if found is None:
                raise NotFound(f"no custom domain {domain.id}")
        return domain.id

    async def _collision(self, client: LLMClient, account_id: int) -> str:
        """Which client holds the name or host that `client` wanted (after a unique violation)."""
        label = client.rfc1034_compliant_name
        query = select(LLMClientRow.id, LLMClientRow.name).where(
            LLMClientRow.account_id == account_id,
            or_(LLMClientRow.name == client.name, LLMClientRow.host_label == label),
        )
        if client.id is not None:
            query = query.where(LLMClientRow.id != client.id)
        other = (await self._session.execute(query.limit(1))).first()
        if other is None:
            return f"LLMClient '{client.name}' conflicts with another LLMClient of this account"
        if other.name == client.name:
            return f"an LLMClient named '{client.name}' exists in this account"
        return f"{client.default_host} is taken by LLMClient {other.id} ('{other.name}')"

    async def _store_tags(
        self, client_id: int, tags: Iterable[str], previous: Iterable[str]
    ) -> None:
        wanted, had = set(tags), set(previous)
        if stale := had - wanted:
            await self._session.execute(
                delete(llm_client_tags).where(
                    llm_client_tags.c.llm_client_id == client_id,
                    llm_client_tags.c.tag.in_(sorted(stale)),
                )
            )
        if new := wanted - had:
            await self._session.execute(
                insert(llm_client_tags),
                [{"llm_client_id": client_id, "tag": tag} for tag in sorted(new)],
            )

    def _store_events(self, client: LLMClient) -> None:
        assert client.id is not None
        self._session.add_all(
            StatusEventRow(
                llm_client_id=client.id,
                at=event.at,
                field=event.field.value,
                from_status=str(event.from_status),
                to_status=str(event.to_status),
                reason=event.reason,
            )
            for event in client.events
        )
        client.events = []

"""Webhook endpoints, deliveries and attempts in SQL, and `publish`: the events of a change,
written as deliveries in the change's own transaction.

The repositories that store what events are read from (client statuses, a domain's
verification, a certificate's phase) call `publish`, so every path that makes such a change
announces it, and a rolled-back change announces nothing.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from smarter.adapters.sql.accounts import account_id_of
from smarter.adapters.sql.rows import (
    AccountRow,
    LLMClientRow,
    ProvisionedHostRow,
    WebhookAttemptRow,
    WebhookDeliveryRow,
    WebhookEndpointRow,
    utc_now,
)
from smarter.application.webhook_ports import DeliveryFilter
from smarter.domain.account_number import AccountNumber
from smarter.domain.errors import NotFound
from smarter.domain.webhook_events import WebhookEvent
from smarter.domain.webhooks import (
    DeliveryAttempt,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
    new_message_id,
)


async def publish(session: AsyncSession, account: str, events: Sequence[WebhookEvent]) -> None:
    """One pending delivery per event and enabled endpoint of `account` that wants it."""
    if not events:
        return
    endpoints = list(
        await session.scalars(
            select(WebhookEndpointRow)
            .join(AccountRow, AccountRow.id == WebhookEndpointRow.account_id)
            .where(AccountRow.account_number == account, WebhookEndpointRow.enabled == true())
        )
    )
    now = utc_now()
    for event in events:
        payload = event.body().decode()
        session.add_all(
            WebhookDeliveryRow(
                endpoint_id=endpoint.id,
                message_id=new_message_id(),
                event_type=event.type.value,
                payload=payload,
                status=DeliveryStatus.PENDING.value,
                attempt_count=0,
                next_attempt_at=now,
                created_at=now,
            )
            for endpoint in endpoints
            if event.type.value in endpoint.event_types
        )


async def certificate_accounts(session: AsyncSession, name: str) -> list[str]:
    """The accounts whose hosts use the certificate `name`."""
    accounts = await session.scalars(
        select(AccountRow.account_number)
        .join(LLMClientRow, LLMClientRow.account_id == AccountRow.id)
        .join(ProvisionedHostRow, ProvisionedHostRow.llm_client_id == LLMClientRow.id)
        .where(ProvisionedHostRow.certificate_name == name)
        .distinct()
    )
    return list(accounts)


def _endpoint(row: WebhookEndpointRow, account: str) -> WebhookEndpoint:
    return WebhookEndpoint(
        account_number=AccountNumber(account),
        url=row.url,
        event_types=tuple(WebhookEventType(t) for t in row.event_types),
        description=row.description,
        enabled=row.enabled,
        sealed_secret=row.sealed_secret,
        id=row.id,
        created_at=row.created_at,
    )


def _delivery(
    row: WebhookDeliveryRow, attempts: Iterable[WebhookAttemptRow] = ()
) -> WebhookDelivery:
    return WebhookDelivery(
        id=row.id,
        endpoint_id=row.endpoint_id,
        message_id=row.message_id,
        event_type=WebhookEventType(row.event_type),
        payload=row.payload,
        created_at=row.created_at,
        status=DeliveryStatus(row.status),
        next_attempt_at=row.next_attempt_at,
        attempt_count=row.attempt_count,
        attempts=[
            DeliveryAttempt(
                at=a.at, status_code=a.status_code, error=a.error, duration_ms=a.duration_ms
            )
            for a in attempts
        ],
    )


class SqlWebhooks:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # -- endpoints ---------------------------------------------------------------------------

    async def add(self, endpoint: WebhookEndpoint) -> WebhookEndpoint:
        row = WebhookEndpointRow(
            account_id=await account_id_of(self._session, endpoint.account_number),
            created_at=endpoint.created_at or utc_now(),
        )
        self._fill(row, endpoint)
        self._session.add(row)
        await self._session.flush()
        endpoint.id, endpoint.created_at = row.id, row.created_at
        return endpoint

    async def get(self, account: AccountNumber, endpoint_id: int) -> WebhookEndpoint:
        return _endpoint(await self._row(account, endpoint_id), account)

    async def list(self, account: AccountNumber) -> list[WebhookEndpoint]:
        rows = await self._session.scalars(
            select(WebhookEndpointRow)
            .join(AccountRow, AccountRow.id == WebhookEndpointRow.account_id)
            .where(AccountRow.account_number == account)
            .order_by(WebhookEndpointRow.id)
        )
        return [_endpoint(row, account) for row in rows]

    async def save(self, endpoint: WebhookEndpoint) -> WebhookEndpoint:
        assert endpoint.id is not None
        self._fill(await self._row(endpoint.account_number, endpoint.id), endpoint)
        await self._session.flush()
        return endpoint

    async def delete(self, endpoint: WebhookEndpoint) -> None:
        await self._session.execute(
            delete(WebhookEndpointRow).where(WebhookEndpointRow.id == endpoint.id)
        )

    async def _row(self, account: AccountNumber, endpoint_id: int) -> WebhookEndpointRow:
        row = await self._session.scalar(
            select(WebhookEndpointRow)
            .join(AccountRow, AccountRow.id == WebhookEndpointRow.account_id)
            .where(WebhookEndpointRow.id == endpoint_id, AccountRow.account_number == account)
        )
        if row is None:
            raise NotFound(f"no webhook endpoint {endpoint_id}")
        return row

    @staticmethod
    def _fill(row: WebhookEndpointRow, endpoint: WebhookEndpoint) -> None:
        row.url = endpoint.url
        row.event_types = [t.value for t in endpoint.event_types]
        row.description = endpoint.description
        row.enabled = endpoint.enabled
        row.sealed_secret = endpoint.sealed_secret

    # -- deliveries --------------------------------------------------------------------------

    async def deliveries(
        self, endpoint_id: int, query: DeliveryFilter
    ) -> builtins.list[WebhookDelivery]:
        statement = select(WebhookDeliveryRow).where(WebhookDeliveryRow.endpoint_id == endpoint_id)
        if query.status is not None:
            statement = statement.where(WebhookDeliveryRow.status == query.status.value)
        rows = list(
            await self._session.scalars(
                statement.order_by(WebhookDeliveryRow.id.desc())
                .offset(query.offset)
                .limit(query.limit)
            )
        )
        attempts = await self._attempts([row.id for row in rows])
        return [_delivery(row, attempts.get(row.id, ())) for row in rows]

    async def delivery(self, endpoint_id: int, delivery_id: int) -> WebhookDelivery:
        row = await self._session.scalar(
            select(WebhookDeliveryRow).where(
                WebhookDeliveryRow.id == delivery_id,
                WebhookDeliveryRow.endpoint_id == endpoint_id,
            )
        )
        if row is None:
            raise NotFound(f"no delivery {delivery_id} of webhook endpoint {endpoint_id}")
        attempts = await self._attempts([row.id])
        return _delivery(row, attempts.get(row.id, ()))

    async def _attempts(
        self, delivery_ids: builtins.list[int]
    ) -> dict[int, builtins.list[WebhookAttemptRow]]:
        found: dict[int, builtins.list[WebhookAttemptRow]] = {}
        if not delivery_ids:
            return found
        rows = await self._session.scalars(
            select(WebhookAttemptRow)
            .where(WebhookAttemptRow.delivery_id.in_(delivery_ids))
            .order_by(WebhookAttemptRow.delivery_id, WebhookAttemptRow.id)
        )
        for row in rows:
            found.setdefault(row.delivery_id, []).append(row)
        return found

    # -- the worker's side -------------------------------------------------------------------

    async def claim_due(self, now: datetime, until: datetime, limit: int) -> builtins.list[int]:
        due = (
            select(WebhookDeliveryRow.id)
            .where(
                WebhookDeliveryRow.status == DeliveryStatus.PENDING.value,
                WebhookDeliveryRow.next_attempt_at <= now,
            )
            .order_by(WebhookDeliveryRow.next_attempt_at)
            .limit(limit)
        )
        # A plain read first: on SQLite the claim takes the database's write lock, which the
        # chat history needs too, and most polls find nothing.
        if await self._session.scalar(due.limit(1)) is None:
            return []
        # PostgreSQL: rows another worker is claiming are skipped. SQLite: the UPDATE's write
        # lock serializes claims.
        due = due.with_for_update(skip_locked=True)
        claimed = await self._session.scalars(
            update(WebhookDeliveryRow)
            .where(WebhookDeliveryRow.id.in_(due))
            .values(next_attempt_at=until)
            .returning(WebhookDeliveryRow.id)
        )
        return sorted(claimed)

    async def pending(self, delivery_id: int) -> tuple[WebhookDelivery, WebhookEndpoint] | None:
        found = (
            await self._session.execute(
                select(WebhookDeliveryRow, WebhookEndpointRow, AccountRow.account_number)
                .join(WebhookEndpointRow, WebhookEndpointRow.id == WebhookDeliveryRow.endpoint_id)
                .join(AccountRow, AccountRow.id == WebhookEndpointRow.account_id)
                .where(
                    WebhookDeliveryRow.id == delivery_id,
                    WebhookDeliveryRow.status == DeliveryStatus.PENDING.value,
                )
            )
        ).one_or_none()
        if found is None:
            return None
        delivery, endpoint, account = found
        return _delivery(delivery), _endpoint(endpoint, account)

    async def record_attempt(self, delivery: WebhookDelivery, attempt: DeliveryAttempt) -> None:
        self._session.add(
            WebhookAttemptRow(
                delivery_id=delivery.id,
                at=attempt.at,
                status_code=attempt.status_code,
                error=attempt.error,
                duration_ms=attempt.duration_ms,
            )
        )
        await self._session.execute(
            update(WebhookDeliveryRow)
            .where(WebhookDeliveryRow.id == delivery.id)
            .values(
                status=delivery.status.value,
                attempt_count=delivery.attempt_count,
                next_attempt_at=delivery.next_attempt_at,
            )
        )

    async def prune(self, finished_before: datetime, limit: int) -> int:
        old = (
            select(WebhookDeliveryRow.id)
            .where(
                WebhookDeliveryRow.status != DeliveryStatus.PENDING.value,
                WebhookDeliveryRow.created_at < finished_before,
            )
            .limit(limit)
        )
        pruned = await self._session.scalars(
            delete(WebhookDeliveryRow)
            .where(WebhookDeliveryRow.id.in_(old))
            .returning(WebhookDeliveryRow.id)
        )
        return len(list(pruned))

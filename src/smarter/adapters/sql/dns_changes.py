"""DnsChanges on SQLAlchemy: the record changes waiting for their Route 53 change batch."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from smarter.adapters.sql.rows import DnsChangeRow
from smarter.application.dns_changes import DnsChange, DnsChangeState
from smarter.application.infrastructure import DnsRecord

_OPEN = (DnsChangeState.PENDING.value, DnsChangeState.SUBMITTED.value)


def _change(row: DnsChangeRow) -> DnsChange:
    return DnsChange(
        id=row.id,
        zone_id=row.zone_id,
        action="DELETE" if row.action == "DELETE" else "UPSERT",
        record=DnsRecord(name=row.name, type=row.type, values=tuple(row.values), ttl=row.ttl),
        requested_at=row.requested_at,
        client_id=row.llm_client_id,
        state=DnsChangeState(row.state),
        batch=row.batch,
        error=row.error,
    )


class SqlDnsChanges:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, change: DnsChange) -> DnsChange:
        row = DnsChangeRow(
            zone_id=change.zone_id,
            action=change.action,
            name=change.record.name,
            type=change.record.type,
            values=list(change.record.values),
            ttl=change.record.ttl,
            state=change.state.value,
            batch=change.batch,
            error=change.error,
            llm_client_id=change.client_id,
            requested_at=change.requested_at,
        )
        self._session.add(row)
        await self._session.flush()
        change.id = row.id
        return change

    async def get(self, change_id: int) -> DnsChange | None:
        row = await self._session.get(DnsChangeRow, change_id, populate_existing=True)
        return None if row is None else _change(row)

    async def pending(self, zone_id: str, limit: int) -> list[DnsChange]:
        return await self._where(zone_id, DnsChangeState.PENDING, limit)

    async def submitted(self, zone_id: str) -> list[DnsChange]:
        return await self._where(zone_id, DnsChangeState.SUBMITTED, None)

    async def mark_submitted(self, change_ids: list[int], batch: str) -> None:
        await self._session.execute(
            update(DnsChangeRow)
            .where(DnsChangeRow.id.in_(change_ids))
            .values(state=DnsChangeState.SUBMITTED.value, batch=batch)
        )

    async def settle_batch(self, batch: str, at: datetime) -> list[DnsChange]:
        rows = await self._session.scalars(
            update(DnsChangeRow)
            .where(
                DnsChangeRow.batch == batch,
                DnsChangeRow.state == DnsChangeState.SUBMITTED.value,
            )
            .values(state=DnsChangeState.DONE.value, settled_at=at)
            .returning(DnsChangeRow)
            .execution_options(populate_existing=True)
        )
        return [_change(row) for row in rows]

    async def settle(self, change_id: int, at: datetime, *, error: str = "") -> None:
        state = DnsChangeState.FAILED if error else DnsChangeState.DONE
        await self._session.execute(
            update(DnsChangeRow)
            .where(DnsChangeRow.id == change_id)
            .values(state=state.value, error=error, settled_at=at)
        )

    async def zones_with_pending(self, limit: int) -> list[str]:
        zones = await self._session.scalars(
            select(DnsChangeRow.zone_id)
            .where(DnsChangeRow.state.in_(_OPEN))
            .group_by(DnsChangeRow.zone_id)
            .order_by(DnsChangeRow.zone_id)
            .limit(limit)
        )
        return list(zones)

    async def forget_settled(self, before: datetime) -> int:
        result = await self._session.execute(
            delete(DnsChangeRow).where(
                or_(
                    DnsChangeRow.state == DnsChangeState.DONE.value,
                    DnsChangeRow.state == DnsChangeState.FAILED.value,
                ),
                DnsChangeRow.settled_at < before,
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def _where(
        self, zone_id: str, state: DnsChangeState, limit: int | None
    ) -> list[DnsChange]:
        query = (
            select(DnsChangeRow)
            .where(DnsChangeRow.zone_id == zone_id, DnsChangeRow.state == state.value)
            .order_by(DnsChangeRow.id)
            .execution_options(populate_existing=True)
        )
        if limit is not None:
            query = query.limit(limit)
        return [_change(row) for row in await self._session.scalars(query)]

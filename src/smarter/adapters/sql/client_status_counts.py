"""How many clients are in each DNS verification and TLS certificate state (for the
`smarter_clients` gauge): one grouped count, whatever the number of clients."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from smarter.adapters.sql.rows import LLMClientRow

StatusCounts = dict[tuple[str, str, bool], int]


async def clients_by_status(sessions: async_sessionmaker[AsyncSession]) -> StatusCounts:
    """(DNS status, TLS status, deployed) -> number of clients."""
    dns = LLMClientRow.dns_verification_status
    tls = LLMClientRow.tls_certificate_issuance_status
    deployed = LLMClientRow.deployed
    statement = select(dns, tls, deployed, func.count()).group_by(dns, tls, deployed)
    async with sessions() as session:
        rows = await session.execute(statement)
        return {(str(d), str(t), bool(up)): int(n) for d, t, up, n in rows}

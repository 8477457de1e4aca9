"""A client's usage: requests, errors and tokens per UTC day, with totals."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import msgspec

from smarter.application.llm_clients import load_visible
from smarter.application.ports import Clock, UnitOfWork
from smarter.domain.accounts import Principal
from smarter.domain.history import DailyUsage

USAGE_DAYS = 30


class UsageReport(msgspec.Struct, kw_only=True):
    days: list[DailyUsage]  # oldest first, one per day, days without requests included
    total: DailyUsage  # its `day` is the first day of the period


class ClientUsage:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def __call__(
        self, principal: Principal, client_id: int, days: int = USAGE_DAYS
    ) -> UsageReport:
        await load_visible(self._uow, principal, client_id)
        today = self._clock.now().astimezone(UTC).date()
        first = today - timedelta(days=days - 1)
        since = datetime.combine(first, time(), tzinfo=UTC)
        found = {d.day: d for d in await self._uow.history.daily_usage(client_id, since)}
        series = [
            found.get(day, DailyUsage(day=day))
            for day in (first + timedelta(days=n) for n in range(days))
        ]
        total = DailyUsage(
            day=first,
            requests=sum(d.requests for d in series),
            errors=sum(d.errors for d in series),
            prompt_tokens=sum(d.prompt_tokens for d in series),
            completion_tokens=sum(d.completion_tokens for d in series),
        )
        return UsageReport(days=series, total=total)

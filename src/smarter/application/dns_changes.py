"""Record changes waiting for their Route 53 change batch, and how a batch is cut.

Jobs ask for record changes; a zone's flush job sends them in batches (see dns_batches.py).
A batch respects the API's limits: at most 1,000 record values and 32,000 characters of values,
an UPSERT's values counting twice; and it holds at most one change per record set (a later
change of the same name and type replaces an earlier one that is still pending).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime

import msgspec

from smarter.application.infrastructure import DnsRecord, RecordAction, RecordChange

MAX_BATCH_VALUES = 1_000
MAX_BATCH_CHARACTERS = 32_000


class DnsChangeState(enum.StrEnum):
    PENDING = "pending"  # waiting for its batch
    SUBMITTED = "submitted"  # in a batch Route 53 accepted, not live everywhere yet
    DONE = "done"  # live (or replaced by a later change of the same record)
    FAILED = "failed"  # refused by Route 53; `error` says why


class DnsChange(msgspec.Struct, kw_only=True):
    zone_id: str
    action: RecordAction
    record: DnsRecord
    requested_at: datetime
    # The client whose reconciler waits for this change: woken once it is settled.
    client_id: int | None = None
    id: int | None = None
    state: DnsChangeState = DnsChangeState.PENDING
    batch: str | None = None  # Route 53's change id, once submitted
    error: str = ""

    @property
    def settled(self) -> bool:
        return self.state in (DnsChangeState.DONE, DnsChangeState.FAILED)

    @property
    def weight(self) -> tuple[int, int]:
        """What the change counts against a batch's limits: (values, characters)."""
        factor = 2 if self.action == "UPSERT" else 1
        values = self.record.values
        return factor * len(values), factor * sum(len(value) for value in values)

    def as_change(self) -> RecordChange:
        return RecordChange(action=self.action, record=self.record)


class BatchLimits(msgspec.Struct, frozen=True, kw_only=True):
    values: int = MAX_BATCH_VALUES
    characters: int = MAX_BATCH_CHARACTERS


ROUTE53_LIMITS = BatchLimits()


def cut_batch(
    pending: Sequence[DnsChange], limits: BatchLimits = ROUTE53_LIMITS
) -> tuple[list[DnsChange], list[DnsChange]]:
    """The next batch from `pending` (oldest first), and the changes it replaces: a pending
    change followed by a later one of the same record set is replaced by it."""
    latest: dict[tuple[str, str], DnsChange] = {}
    for change in pending:
        latest[(change.record.name, change.record.type)] = change
    replaced = [c for c in pending if latest[(c.record.name, c.record.type)] is not c]
    batch: list[DnsChange] = []
    values = characters = 0
    for change in pending:
        if latest[(change.record.name, change.record.type)] is not change:
            continue
        more_values, more_characters = change.weight
        fits = (
            values + more_values <= limits.values
            and characters + more_characters <= limits.characters
        )
        if not fits and batch:
            break
        batch.append(change)
        values, characters = values + more_values, characters + more_characters
    return batch, replaced


def is_full(pending: Sequence[DnsChange], limits: BatchLimits = ROUTE53_LIMITS) -> bool:
    """Whether `pending` holds more than one batch takes (then waiting gains nothing)."""
    values = sum(change.weight[0] for change in pending)
    characters = sum(change.weight[1] for change in pending)
    return values >= limits.values or characters >= limits.characters

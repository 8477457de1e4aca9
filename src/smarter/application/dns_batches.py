"""Route 53 changes, batched: the records jobs want written go out a zone at a time.

A job that needs a record written or deleted asks for it (`request_record_change`): a row in
`dns_changes` and a `FlushDnsChanges` job for the zone, both in the job's transaction. The
zone's flush job (one at a time per zone: it is the job's key) sends what is pending as one
change batch and follows that batch with one `GetChange` per poll, not one per host; once
Route 53 reports it INSYNC, the changes are done and the clients waiting for them are woken.
Route 53 throttles per AWS account (a few requests a second) and refuses a change to a zone
whose previous one it is still processing: a thousand deploys then cost a handful of requests.

Pending changes wait for a short gathering window (unless a full batch waits) so that jobs
running at the same moment share a batch. A batch Route 53 refuses as invalid is split in
halves until the change at fault is alone: a lone DELETE refused is done by reading the record
as it stands (gone already is fine); a lone UPSERT refused fails with Route 53's message, which
the waiting client then shows.
"""

from __future__ import annotations

from collections.abc import Sequence

from smarter.application.dns_changes import (
    MAX_BATCH_VALUES,
    BatchLimits,
    DnsChange,
    cut_batch,
    is_full,
)
from smarter.application.infrastructure import DnsChangeRejected, DnsRecord, RecordAction
from smarter.application.jobs import FlushDnsChanges, ReconcileClient
from smarter.application.provisioning_context import Provisioner


async def request_record_change(
    p: Provisioner,
    zone_id: str,
    action: RecordAction,
    record: DnsRecord,
    client_id: int | None = None,
) -> int:
    """Queue one record change for the zone's next batch; its id (to follow it). The change
    and the zone's flush job are written with the caller's next commit."""
    change = await p.uow.dns_changes.add(
        DnsChange(
            zone_id=zone_id,
            action=action,
            record=record,
            requested_at=p.clock.now(),
            client_id=client_id,
        )
    )
    p.uow.outbox.add(FlushDnsChanges(zone_id=zone_id))
    assert change.id is not None
    return change.id


class DnsBatcher:
    def __init__(self, p: Provisioner) -> None:
        self._p = p
        self._limits = BatchLimits(values=min(MAX_BATCH_VALUES, p.policy.dns_batch_values))

    async def run(self, zone_id: str) -> float | None:
        """Follow the zone's batch in flight; else send the next one when it is due."""
        p = self._p
        waiting = await self._follow(zone_id)
        if waiting is not None:
            await p.uow.commit()
            return waiting
        pending = await p.uow.dns_changes.pending(zone_id, self._limits.values)
        if not pending:
            await p.uow.commit()
            return None
        held = (p.clock.now() - pending[0].requested_at).total_seconds()
        window = p.policy.dns_batch_window_seconds
        if held < window and not is_full(pending, self._limits):
            await p.uow.commit()
            return window - held
        batch, replaced = cut_batch(pending, self._limits)
        for change in replaced:
            await self._settle(change, "")
        await self._submit(zone_id, batch)
        await p.uow.commit()
        return 0.0  # follow the batch, or send the next one, at once

    async def _follow(self, zone_id: str) -> float | None:
        """None when nothing of the zone is in flight any more; else when to ask again."""
        p = self._p
        in_flight = await p.uow.dns_changes.submitted(zone_id)
        batches = sorted({change.batch for change in in_flight if change.batch})
        oldest = min((change.requested_at for change in in_flight), default=None)
        still = False
        for batch in batches:
            if await p.zones.is_in_sync(batch):
                await self._wake(await p.uow.dns_changes.settle_batch(batch, p.clock.now()))
            else:
                still = True
        return p.poll(oldest) if still else None

    async def _submit(self, zone_id: str, batch: Sequence[DnsChange]) -> bool:
        """Send `batch`; True when a batch of the zone is in flight now (send no more: Route 53
        refuses a change to a zone while it processes the previous one)."""
        p = self._p
        try:
            submitted = await p.zones.apply(zone_id, [change.as_change() for change in batch])
        except DnsChangeRejected as refusal:
            if len(batch) == 1:
                await self._alone(zone_id, batch[0], str(refusal))
                return False
            half = len(batch) // 2  # what is not sent now stays pending for the next run
            return await self._submit(zone_id, batch[:half]) or await self._submit(
                zone_id, batch[half:]
            )
        await p.uow.dns_changes.mark_submitted([c.id for c in batch if c.id], submitted.id)
        if submitted.in_sync:
            await self._wake(await p.uow.dns_changes.settle_batch(submitted.id, p.clock.now()))
            return False
        return True

    async def _alone(self, zone_id: str, change: DnsChange, refusal: str) -> None:
        """A change Route 53 refused on its own: a DELETE names the record set as we wrote
        it, which someone may have changed or deleted since; delete what stands instead."""
        if change.action == "DELETE":
            await self._p.zones.delete(zone_id, [change.record])
            await self._settle(change, "")
        else:
            await self._settle(change, f"Route 53 refused {change.record.name}: {refusal}")

    async def _settle(self, change: DnsChange, error: str) -> None:
        assert change.id is not None
        await self._p.uow.dns_changes.settle(change.id, self._p.clock.now(), error=error)
        await self._wake([change])

    async def _wake(self, changes: Sequence[DnsChange]) -> None:
        for client_id in sorted({c.client_id for c in changes if c.client_id is not None}):
            self._p.uow.outbox.add(ReconcileClient(client_id=client_id))

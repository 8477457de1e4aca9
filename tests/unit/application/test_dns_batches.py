"""Record changes batched per zone, on fakes: what a batch holds, when it goes out, how a
refused batch is taken apart, and who is woken when it is live."""

from __future__ import annotations

from datetime import UTC, datetime

from smarter.application.dns_batches import request_record_change
from smarter.application.dns_changes import (
    BatchLimits,
    DnsChange,
    DnsChangeState,
    cut_batch,
    is_full,
)
from smarter.application.infrastructure import DnsRecord
from smarter.application.jobs import FlushDnsChanges, ReconcileClient
from tests.unit.application.provisioning_world import (  # noqa: F401 - the fixture
    POLICY,
    Infra,
    infra_fixture,
)

START = datetime(2026, 1, 1, tzinfo=UTC)
ZONE = "Z1"


def a_record(name: str, value: str = "ingress.test", type_: str = "CNAME") -> DnsRecord:
    return DnsRecord(name=name, type=type_, values=(value,))


def a_change(name: str, action: str = "UPSERT", value: str = "ingress.test") -> DnsChange:
    return DnsChange(
        zone_id=ZONE,
        action="DELETE" if action == "DELETE" else "UPSERT",
        record=a_record(name, value),
        requested_at=START,
    )


# -- cutting a batch ---------------------------------------------------------------------------


def test_a_batch_takes_the_oldest_changes_within_the_value_limit_an_upsert_counting_twice() -> None:
    pending = [a_change(f"h{i}.test") for i in range(5)] + [a_change("gone.test", "DELETE")]

    batch, replaced = cut_batch(pending, BatchLimits(values=6))

    assert [c.record.name for c in batch] == ["h0.test", "h1.test", "h2.test"]
    assert replaced == []
    assert is_full(pending, BatchLimits(values=6))
    assert not is_full(pending, BatchLimits(values=100))


def test_a_batch_respects_the_character_limit() -> None:
    pending = [a_change(f"h{i}.test", value="x" * 100) for i in range(3)]

    batch, _ = cut_batch(pending, BatchLimits(characters=400))

    assert len(batch) == 2


def test_a_later_change_of_the_same_record_replaces_a_pending_one() -> None:
    upsert, delete = a_change("a.test"), a_change("a.test", "DELETE")
    other = a_change("b.test")

    batch, replaced = cut_batch([upsert, other, delete])

    assert batch == [other, delete] and replaced == [upsert]


def test_a_change_too_big_for_any_batch_still_goes_alone() -> None:
    huge = a_change("big.test", value="x" * 40_000)
    batch, _ = cut_batch([huge, a_change("small.test")])
    assert batch == [huge]


# -- the zone's flush job ----------------------------------------------------------------------


async def asked(infra: Infra, *names: str, client_id: int | None = None) -> list[int]:
    p = infra.jobs._p  # the job's ports, as a job uses them
    ids = [
        await request_record_change(p, ZONE, "UPSERT", a_record(name), client_id) for name in names
    ]
    await infra.world.uow.commit()
    infra.world.uow.outbox.committed.clear()
    return ids


async def test_changes_wait_for_the_gathering_window_then_go_out_in_one_batch(
    infra: Infra,
) -> None:
    await asked(infra, "a.test", "b.test", client_id=7)

    assert await infra.run(FlushDnsChanges(zone_id=ZONE)) == POLICY.dns_batch_window_seconds
    assert infra.zones.batches == []
    infra.world.clock.advance(POLICY.dns_batch_window_seconds)
    assert await infra.run(FlushDnsChanges(zone_id=ZONE)) == 0.0
    assert await infra.run(FlushDnsChanges(zone_id=ZONE)) is None

    assert [[c.record.name for c in batch] for batch in infra.zones.batches] == [
        ["a.test", "b.test"]
    ]
    assert infra.world.uow.outbox.committed == [ReconcileClient(client_id=7)]
    states = {c.state for c in infra.world.uow.dns_changes.rows.values()}
    assert states == {DnsChangeState.DONE}


async def test_one_batch_is_in_flight_per_zone_and_polled_once_per_run(infra: Infra) -> None:
    infra.zones.sync_at_once = False
    await asked(infra, "a.test")
    infra.world.clock.advance(5)
    await infra.run(FlushDnsChanges(zone_id=ZONE))
    await asked(infra, "b.test", "c.test")
    infra.world.clock.advance(5)

    delay = await infra.run(FlushDnsChanges(zone_id=ZONE))

    assert delay is not None and delay > 0
    assert len(infra.zones.batches) == 1  # the second waits for the first to be live
    assert infra.calls.count("zones.is_in_sync") == 1
    infra.zones.changes = dict.fromkeys(infra.zones.changes, True)
    infra.zones.sync_at_once = True
    await infra.run_queued(FlushDnsChanges(zone_id=ZONE))
    assert [len(batch) for batch in infra.zones.batches] == [1, 2]


async def test_a_refused_batch_is_split_until_the_change_at_fault_fails_alone(
    infra: Infra,
) -> None:
    a, bad, c, d = await asked(infra, "a.test", "bad.test", "c.test", "d.test", client_id=7)
    infra.zones.refuse.add("bad.test")

    await infra.run_queued(FlushDnsChanges(zone_id=ZONE))

    rows = infra.world.uow.dns_changes.rows
    assert rows[bad].state is DnsChangeState.FAILED
    assert "Route 53 refused bad.test" in rows[bad].error
    assert all(rows[i].state is DnsChangeState.DONE for i in (a, c, d))
    assert sorted(r.name for r in infra.zones.all_records()) == ["a.test", "c.test", "d.test"]


async def test_a_delete_of_a_record_changed_by_hand_deletes_what_stands(infra: Infra) -> None:
    infra.zones.record_sets[ZONE] = {("a.test", "CNAME"): a_record("a.test", "edited.test")}
    p = infra.jobs._p
    await request_record_change(p, ZONE, "DELETE", a_record("a.test"))
    await infra.world.uow.commit()

    await infra.run_queued()

    assert infra.zones.all_records() == []
    assert {c.state for c in infra.world.uow.dns_changes.rows.values()} == {DnsChangeState.DONE}

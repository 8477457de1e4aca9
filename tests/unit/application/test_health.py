"""Readiness: every check's answer, named; a hung check costs its timeout; one round of checks
serves every caller for a second."""

from __future__ import annotations

import asyncio

from smarter.application.health import Readiness


class Check:
    def __init__(self, name: str, problem: str | None = None) -> None:
        self.name = name
        self.answer = problem
        self.calls = 0

    async def problem(self) -> str | None:
        self.calls += 1
        return self.answer


class Hung:
    name = "redis"

    async def problem(self) -> str | None:
        await asyncio.Event().wait()
        return None


class Broken:
    name = "database"

    async def problem(self) -> str | None:
        raise RuntimeError("driver exploded")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_ready_when_every_check_is_fine() -> None:
    report = await Readiness([Check("database"), Check("redis")])()

    assert report.ready
    assert report.checks == {"database": "ok", "redis": "ok"}
    assert report.problems == ""


async def test_a_failing_check_makes_it_unready_and_is_named_with_its_problem() -> None:
    report = await Readiness([Check("database", "not migrated"), Check("redis")])()

    assert not report.ready
    assert report.checks == {"database": "not migrated", "redis": "ok"}
    assert report.problems == "database: not migrated"


async def test_a_hung_check_fails_after_its_timeout_and_a_raising_one_fails_with_its_error() -> (
    None
):
    report = await Readiness([Broken(), Hung()], timeout_seconds=0.01)()

    assert report.checks == {
        "database": "check failed: RuntimeError: driver exploded",
        "redis": "did not answer within 0.01 s",
    }


async def test_one_round_of_checks_answers_every_caller_within_a_second() -> None:
    check, clock = Check("database"), Clock()
    readiness = Readiness([check], monotonic=clock)

    await asyncio.gather(*(readiness() for _ in range(5)))
    clock.now += 0.5
    await readiness()
    assert check.calls == 1

    check.answer = "unreachable"
    clock.now += 0.6
    report = await readiness()

    assert check.calls == 2
    assert report.checks == {"database": "unreachable"}

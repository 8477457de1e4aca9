"""The local request budget (a token bucket by reservation), on a clock the test moves."""

from __future__ import annotations

import pytest

from smarter.adapters.request_budgets import LocalRequestBudget


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_full_budget_grants_its_burst_at_once_then_one_token_per_interval() -> None:
    clock = Clock()
    budget = LocalRequestBudget(rate=5, burst=5, clock=clock)

    waits = [budget.book() for _ in range(8)]

    assert waits[:5] == [0.0] * 5
    assert waits[5:] == pytest.approx([0.2, 0.4, 0.6])


def test_callers_never_use_more_than_burst_plus_rate_times_the_interval() -> None:
    clock = Clock()
    budget = LocalRequestBudget(rate=5, burst=5, clock=clock)
    used_at = []
    for _ in range(40):  # every caller uses its token when its wait is over
        used_at.append(clock.now + budget.book())
        clock.now += 0.01
    for start in used_at:
        in_one_second = [t for t in used_at if start <= t < start + 1.0]
        assert len(in_one_second) <= 5 + 5


def test_a_budget_refills_while_nobody_asks() -> None:
    clock = Clock()
    budget = LocalRequestBudget(rate=2, burst=4, clock=clock)
    for _ in range(4):
        budget.book()
    clock.now = 10.0
    assert [budget.book() for _ in range(4)] == [0.0] * 4


def test_a_batch_costs_as_many_tokens_as_it_has_changes() -> None:
    clock = Clock()
    budget = LocalRequestBudget(rate=100, burst=1000, clock=clock)
    assert budget.book(1000) == 0.0
    assert budget.book(500) == pytest.approx(5.0)


def test_a_penalty_holds_everyone_back() -> None:
    clock = Clock()
    budget = LocalRequestBudget(rate=5, burst=1, clock=clock)
    budget.penalize(2.0)
    assert budget.book() == pytest.approx(2.0)


def test_a_budget_needs_a_rate_and_a_burst() -> None:
    with pytest.raises(ValueError, match="positive rate"):
        LocalRequestBudget(rate=0, burst=1)
    with pytest.raises(ValueError, match="burst"):
        LocalRequestBudget(rate=1, burst=0)


def test_take_sleeps_the_calling_thread_for_its_turn() -> None:
    clock, slept = Clock(), []
    budget = LocalRequestBudget(rate=10, burst=1, clock=clock, sleep=slept.append)
    budget.take()
    budget.take()
    assert slept == pytest.approx([0.1])

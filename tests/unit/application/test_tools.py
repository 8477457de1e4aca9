"""The built-in date calculator, the tool box and the tool-call round trip, with a fake model."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest

from smarter.application.chat.tool_rounds import ToolRounds
from smarter.application.llm import Completion, CompletionChunk, CompletionRequest
from smarter.application.tools import (
    DateCalculator,
    ToolBox,
    builtin_tools,
    calculate_date,
)


def result(arguments: Mapping[str, Any]) -> Any:
    return json.loads(calculate_date(arguments))


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"operation": "add_days", "date": "2024-01-31", "days": 30}, "2024-03-01"),
        ({"operation": "add_days", "date": "2023-12-31", "days": 1}, "2024-01-01"),
        ({"operation": "subtract_days", "date": "2024-03-01", "days": 1}, "2024-02-29"),
        ({"operation": "add_days", "date": "2024-03-01", "days": -1}, "2024-02-29"),
        ({"operation": "add_days", "date": "2024-03-01", "days": "10"}, "2024-03-11"),
        ({"operation": "add_days", "date": "2024-03-01", "days": 2.0}, "2024-03-03"),
        ({"operation": "add_days", "date": "2024-03-01T10:30:00", "days": 0}, "2024-03-01"),
    ],
)
def test_the_date_calculator_adds_and_subtracts_days(
    arguments: dict[str, Any], expected: str
) -> None:
    assert result(arguments)["date"] == expected


def test_the_date_calculator_names_the_weekday_of_its_result() -> None:
    assert result({"operation": "add_days", "date": "2026-01-01", "days": 0}) == {
        "date": "2026-01-01",
        "weekday": "Thursday",
    }


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        ("2024-01-01", "2024-03-01", 60),
        ("2024-03-01", "2024-01-01", -60),
        ("2024-05-05", "2024-05-05", 0),
    ],
)
def test_the_date_calculator_counts_the_days_between_two_dates(
    start: str, end: str, days: int
) -> None:
    assert result({"operation": "days_between", "date": start, "other_date": end}) == {"days": days}


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        ({}, "operation"),
        ({"operation": "multiply", "date": "2024-01-01"}, "operation"),
        ({"operation": "add_days", "days": 3}, "date must be"),
        ({"operation": "add_days", "date": "yesterday", "days": 3}, "date must be"),
        ({"operation": "add_days", "date": "2024-02-30", "days": 3}, "date must be"),
        ({"operation": "add_days", "date": 20240101, "days": 3}, "date must be"),
        ({"operation": "add_days", "date": "2024-01-01"}, "days must be"),
        ({"operation": "add_days", "date": "2024-01-01", "days": "three"}, "days must be"),
        ({"operation": "add_days", "date": "2024-01-01", "days": True}, "days must be"),
        ({"operation": "add_days", "date": "2024-01-01", "days": 1.5}, "days must be"),
        ({"operation": "add_days", "date": "2024-01-01", "days": 10**12}, "days must be"),
        ({"operation": "add_days", "date": "9999-12-31", "days": 1}, "outside the years"),
        ({"operation": "subtract_days", "date": "0001-01-01", "days": 1}, "outside the years"),
        ({"operation": "days_between", "date": "2024-01-01"}, "other_date"),
        ({"operation": "days_between", "date": "2024-01-01", "other_date": "soon"}, "other_date"),
    ],
)
def test_bad_arguments_get_a_clear_error_for_the_model_not_an_exception(
    arguments: dict[str, Any], complaint: str
) -> None:
    assert complaint in result(arguments)["error"]


async def test_the_date_calculator_is_a_tool_with_an_openai_schema() -> None:
    tool = DateCalculator()

    assert tool.name == "date_calculator"
    assert tool.schema["type"] == "function"
    assert tool.schema["function"]["name"] == "date_calculator"
    assert tool.schema["function"]["parameters"]["required"] == ["operation", "date"]
    answer = await tool({"operation": "add_days", "date": "2024-01-01", "days": 1})
    assert json.loads(answer)["date"] == "2024-01-02"


class Failing:
    name = "explode"
    schema: dict[str, Any] = {"type": "function", "function": {"name": "explode"}}

    async def __call__(self, arguments: Mapping[str, Any]) -> str:
        raise RuntimeError("boom")


async def test_the_toolbox_answers_every_bad_call_with_an_error_text() -> None:
    box = ToolBox([DateCalculator(), Failing()])

    assert box.names == ("date_calculator", "explode")
    assert "no tool named 'nope'" in json.loads(await box.call("nope", "{}"))["error"]
    assert "not valid JSON" in json.loads(await box.call("date_calculator", "{oops"))["error"]
    assert "JSON object" in json.loads(await box.call("date_calculator", "[1, 2]"))["error"]
    assert "operation" in json.loads(await box.call("date_calculator", ""))["error"]
    assert json.loads(await box.call("explode", "{}")) == {"error": "the tool 'explode' failed"}
    assert box.offered() == [DateCalculator.schema, Failing.schema]
    with pytest.raises(ValueError, match="two tools"):
        ToolBox([DateCalculator(), DateCalculator()])


class ScriptedModel:
    """A ChatModel that answers from a list of assistant messages and remembers each request."""

    def __init__(
        self,
        *messages: dict[str, Any],
        usage: dict[str, Any] | None = None,
        usages: list[dict[str, Any] | None] | None = None,
    ) -> None:
        self.messages = list(messages)
        self.usages = usages if usages is not None else [usage] * len(messages)
        self.requests: list[CompletionRequest] = []

    async def complete(self, request: CompletionRequest) -> Completion:
        self.requests.append(request)
        message = self.messages.pop(0)
        finish = "tool_calls" if message.get("tool_calls") else "stop"
        return Completion(
            id=f"c{len(self.requests)}",
            created=1,
            model=request.model,
            choices=[{"index": 0, "message": message, "finish_reason": finish}],
            usage=self.usages[len(self.requests) - 1],
        )

    async def stream(self, request: CompletionRequest) -> AsyncIterator[CompletionChunk]:
        raise NotImplementedError
        yield  # pragma: no cover


def calls(*calls: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": i, "type": "function", "function": {"name": n, "arguments": a}}
            for i, n, a in calls
        ],
    }


def said(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": text}


TOOLBOX = builtin_tools()
ADD = json.dumps({"operation": "add_days", "date": "2024-01-01", "days": 1})
QUESTION = CompletionRequest(
    model="m",
    messages=[{"role": "user", "content": "what is the day after 2024-01-01?"}],
    tools=TOOLBOX.offered(["date_calculator"]),
)
USAGE = {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}


async def test_an_answer_without_tool_calls_is_returned_as_it_is() -> None:
    model = ScriptedModel(said("hello"), usage=USAGE)

    answer, messages = await ToolRounds(TOOLBOX).complete(model, QUESTION)

    assert answer.choices[0]["message"]["content"] == "hello"
    assert answer.usage == USAGE
    assert messages == QUESTION.messages
    assert model.requests == [QUESTION]


async def test_tool_calls_are_run_and_their_results_sent_back_until_the_model_answers() -> None:
    model = ScriptedModel(
        calls(("call_1", "date_calculator", ADD), ("call_2", "date_calculator", "{}")),
        said("It is 2024-01-02."),
        usage=USAGE,
    )

    answer, messages = await ToolRounds(TOOLBOX).complete(model, QUESTION)

    assert answer.id == "c2"
    assert answer.choices[0]["message"]["content"] == "It is 2024-01-02."
    assert answer.usage == {"prompt_tokens": 20, "completion_tokens": 4, "total_tokens": 24}
    second = model.requests[1]
    assert second.tools == QUESTION.tools
    assert second.messages == messages
    assert messages[0] == QUESTION.messages[0]
    assert messages[1]["role"] == "assistant"
    assert [c["id"] for c in messages[1]["tool_calls"]] == ["call_1", "call_2"]
    assert messages[2] == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": '{"date":"2024-01-02","weekday":"Tuesday"}',
    }
    assert messages[3]["tool_call_id"] == "call_2"
    assert "operation" in json.loads(messages[3]["content"])["error"]
    assert len(QUESTION.messages) == 1  # the caller's request is left as it was


async def test_a_tool_that_was_not_offered_or_is_unknown_answers_an_error() -> None:
    request = CompletionRequest(model="m", messages=QUESTION.messages, tools=None)
    model = ScriptedModel(calls(("a", "date_calculator", ADD), ("b", "rm_rf", "{}")), said("sorry"))

    _, messages = await ToolRounds(TOOLBOX).complete(model, request)

    assert json.loads(messages[2]["content"]) == {
        "error": "the tool 'date_calculator' was not offered"
    }
    assert json.loads(messages[3]["content"]) == {"error": "the tool 'rm_rf' was not offered"}


async def test_after_the_last_round_the_answer_is_returned_even_if_it_calls_tools_again() -> None:
    model = ScriptedModel(*[calls((f"call_{i}", "date_calculator", ADD)) for i in range(3)])

    answer, messages = await ToolRounds(TOOLBOX, 2).complete(model, QUESTION)

    assert len(model.requests) == 3
    assert answer.choices[0]["message"]["tool_calls"][0]["id"] == "call_2"
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant", "tool"]
    assert answer.usage is None


async def test_zero_rounds_only_asks_once() -> None:
    model = ScriptedModel(calls(("call_1", "date_calculator", ADD)))

    answer, messages = await ToolRounds(TOOLBOX, 0).complete(model, QUESTION)

    assert answer.choices[0]["finish_reason"] == "tool_calls"
    assert messages == QUESTION.messages


async def test_usage_is_summed_over_the_rounds_that_report_it() -> None:
    detailed = {**USAGE, "prompt_tokens_details": {"cached_tokens": 4}}
    model = ScriptedModel(
        calls(("call_1", "date_calculator", ADD)),
        calls(("call_2", "date_calculator", ADD)),
        said("done"),
        usages=[None, detailed, USAGE],
    )

    answer, _ = await ToolRounds(TOOLBOX).complete(model, QUESTION)

    assert answer.usage == {
        "prompt_tokens": 20,
        "completion_tokens": 4,
        "total_tokens": 24,
        "prompt_tokens_details": {"cached_tokens": 4},
    }

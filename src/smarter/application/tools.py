"""Functions a client may offer its model as OpenAI tools, and the tool-call round trip.

A `Tool` has a name, an OpenAI tool schema and an async call that takes the decoded JSON
arguments and returns the text the model reads. Tools never raise at the model: a bad call is
answered with a JSON error object, so that the model can correct itself or explain.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, Final, Protocol

import msgspec

from smarter.application.llm import ChatModel, Completion, CompletionRequest, Message

logger = logging.getLogger(__name__)

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


class Tool(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def schema(self) -> dict[str, Any]:
        """The OpenAI `tools` entry: {"type": "function", "function": {"name": ..., ...}}."""
        ...

    async def __call__(self, arguments: Mapping[str, Any]) -> str:
        """The answer for the model; a JSON `{"error": ...}` text when the call is wrong."""
        ...


def error_text(message: str) -> str:
    """What a tool answers the model when a call cannot be done."""
    return _encode({"error": message}).decode()


class ToolBox:
    """The tools the platform knows, by name (`tools` as a list, or a mapping name → tool)."""

    def __init__(self, tools: Iterable[Tool] | Mapping[str, Tool] = ()) -> None:
        named = tools.items() if isinstance(tools, Mapping) else ((t.name, t) for t in tools)
        self._tools: dict[str, Tool] = {}
        for name, tool in named:
            if name in self._tools:
                raise ValueError(f"two tools are named '{name}'")
            self._tools[name] = tool

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._tools)

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def offered(self, names: Iterable[str] | None = None) -> list[dict[str, Any]] | None:
        """The `tools` of a request offering `names` (unknown names skipped; None: all)."""
        chosen = self._tools if names is None else names
        schemas = [self._tools[n].schema for n in chosen if n in self._tools]
        return schemas or None

    async def call(self, name: str, arguments: str | Mapping[str, Any]) -> str:
        """Run tool `name` with `arguments` (the model's JSON text, or decoded); never raises."""
        tool = self._tools.get(name)
        if tool is None:
            return error_text(f"there is no tool named '{name}'")
        if isinstance(arguments, str):
            try:
                decoded = _decode(arguments) if arguments.strip() else {}
            except msgspec.DecodeError:
                return error_text("the arguments are not valid JSON")
        else:
            decoded = arguments
        if not isinstance(decoded, Mapping):
            return error_text("the arguments must be a JSON object")
        try:
            return await tool(decoded)
        except Exception:
            logger.exception("the tool %s failed", name)
            return error_text(f"the tool '{name}' failed")


class DateCalculator:
    """`date_calculator`: add or subtract days to or from an ISO date, or count days between."""

    name: Final = "date_calculator"
    schema: Final[dict[str, Any]] = {
        "type": "function",
        "function": {
            "name": "date_calculator",
            "description": (
                "Date arithmetic on ISO dates (YYYY-MM-DD): add days to a date, subtract days "
                "from a date, or count the days from one date to another."
            ),
            "parameters": {
                "type": "object",
                "properties": {
                    "operation": {
                        "type": "string",
                        "enum": ["add_days", "subtract_days", "days_between"],
                        "description": "What to compute.",
                    },
                    "date": {
                        "type": "string",
                        "description": "The date to start from, YYYY-MM-DD.",
                    },
                    "days": {
                        "type": "integer",
                        "description": "How many days to add or subtract (add/subtract only).",
                    },
                    "other_date": {
                        "type": "string",
                        "description": "The date to count to, YYYY-MM-DD (days_between only).",
                    },
                },
                "required": ["operation", "date"],
                "additionalProperties": False,
            },
        },
    }

    async def __call__(self, arguments: Mapping[str, Any]) -> str:
        return calculate_date(arguments)


MAX_DAYS: Final = 3_660_000
"""About ten thousand years: the most `date_calculator` adds or subtracts."""


def calculate_date(arguments: Mapping[str, Any]) -> str:
    """The pure work of `date_calculator`: a JSON result or a JSON error, never an exception."""
    operation = arguments.get("operation")
    start = _date(arguments.get("date"))
    if operation not in ("add_days", "subtract_days", "days_between"):
        return error_text("operation must be one of add_days, subtract_days, days_between")
    if start is None:
        return error_text("date must be an ISO date such as 2024-03-01")
    if operation == "days_between":
        end = _date(arguments.get("other_date"))
        if end is None:
            return error_text("other_date must be an ISO date such as 2024-03-31")
        return _encode({"days": (end - start).days}).decode()
    days = _integer(arguments.get("days"))
    if days is None or abs(days) > MAX_DAYS:
        return error_text(f"days must be a whole number between -{MAX_DAYS} and {MAX_DAYS}")
    try:
        result = start + timedelta(days=days if operation == "add_days" else -days)
    except OverflowError:
        return error_text("the result is outside the years 1 to 9999")
    return _encode({"date": result.isoformat(), "weekday": result.strftime("%A")}).decode()


def _date(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        return None


def _integer(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def builtin_tools() -> ToolBox:
    """The platform's own tools: harmless, no network, no secrets."""
    return ToolBox([DateCalculator()])


async def run_with_tools(
    model: ChatModel, request: CompletionRequest, toolbox: ToolBox, max_rounds: int = 3
) -> tuple[Completion, list[Message]]:
    """Ask `model`, running the tools it calls, at most `max_rounds` times; then answer.

    The caller offers the tools (`request.tools`, e.g. from `toolbox.offered(names)`); a call
    to a tool the request did not offer, or that the toolbox does not know, is answered with an
    error for the model. After `max_rounds` rounds the last answer is returned as it is, even if
    it calls tools again. Usage is summed over all the calls.

    Returns the final answer and the conversation as last sent to the model: the request's
    messages, then each round's assistant message (with its `tool_calls`) and one `tool`
    message per call.
    """
    offered = _offered_names(request.tools)
    messages = list(request.messages)
    completion = await model.complete(request)
    usage = completion.usage
    for _ in range(max_rounds):
        message = _first_message(completion)
        calls = message.get("tool_calls") if message else None
        if message is None or not calls or not isinstance(calls, list):
            break
        messages.append(
            {"role": "assistant", "content": message.get("content"), "tool_calls": calls}
        )
        answers = await asyncio.gather(*(_answer(call, offered, toolbox) for call in calls))
        messages.extend(
            {"role": "tool", "tool_call_id": _call_id(call), "content": answer}
            for call, answer in zip(calls, answers, strict=True)
        )
        completion = await model.complete(msgspec.structs.replace(request, messages=list(messages)))
        usage = _added(usage, completion.usage)
    if usage is not completion.usage:
        completion = msgspec.structs.replace(completion, usage=usage)
    return completion, messages


def _offered_names(tools: list[dict[str, Any]] | None) -> frozenset[str]:
    names = set()
    for tool in tools or ():
        function = tool.get("function")
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            names.add(function["name"])
    return frozenset(names)


def _first_message(completion: Completion) -> dict[str, Any] | None:
    if not completion.choices:
        return None
    message = completion.choices[0].get("message")
    return message if isinstance(message, dict) else None


def _call_id(call: object) -> str:
    value = call.get("id") if isinstance(call, dict) else None
    return value if isinstance(value, str) else ""


async def _answer(call: object, offered: frozenset[str], toolbox: ToolBox) -> str:
    function = call.get("function") if isinstance(call, dict) else None
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        return error_text("a tool call needs a function name")
    name: str = function["name"]
    if name not in offered:
        return error_text(f"the tool '{name}' was not offered")
    arguments = function.get("arguments", "")
    if not isinstance(arguments, str | dict):
        return error_text("the arguments must be a JSON object")
    return await toolbox.call(name, arguments)


def _added(total: dict[str, Any] | None, more: dict[str, Any] | None) -> dict[str, Any] | None:
    """Usage summed key by key (whole numbers only; nested details are kept from the first)."""
    if total is None or more is None:
        return total if more is None else dict(more)
    summed = dict(total)
    for key, value in more.items():
        if key not in summed:
            summed[key] = value
        elif _is_count(value) and _is_count(summed[key]):
            summed[key] += value
    return summed


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)

"""Functions a client may offer its model as OpenAI tools.

A `Tool` has a name, an OpenAI tool schema and an async call that takes the decoded JSON
arguments and returns the text the model reads. Tools never raise at the model: a bad call is
answered with a JSON error object, so that the model can correct itself or explain.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, Final, Protocol

import msgspec

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

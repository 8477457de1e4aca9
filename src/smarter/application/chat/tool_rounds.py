"""The tool-call rounds of one answer, for whole and for streamed answers alike.

The model is asked; when it calls tools, the platform runs them and asks again with their
results, at most `max_rounds` times; the last answer goes back as it is, even if it calls
tools again. Usage is summed over every call to the model. The one loop (`_rounds`) is shared:
a whole answer and a stream differ only in how one question is put to the model (`_ask_whole`
and `_ask_streamed`) and in how the summed usage is handed back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec

from smarter.application.llm import (
    ChatModel,
    Completion,
    CompletionChunk,
    CompletionRequest,
    Message,
)
from smarter.application.tools import ToolBox, error_text

T = TypeVar("T")


@dataclass
class _Round:
    """What one question to the model brought back besides what the caller sees."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    content: str | None = None
    usage: dict[str, Any] | None = None
    last: CompletionChunk | None = None


@dataclass
class _Tally:
    """What the rounds add up to."""

    usage: dict[str, Any] | None = None
    messages: list[Message] = field(default_factory=list)
    last: CompletionChunk | None = None


Ask = Callable[[ChatModel, CompletionRequest, bool, _Round], AsyncIterator[T]]


class ToolRounds:
    def __init__(self, toolbox: ToolBox, max_rounds: int = 3) -> None:
        self._toolbox, self._max_rounds = toolbox, max_rounds

    async def complete(
        self, model: ChatModel, request: CompletionRequest
    ) -> tuple[Completion, list[Message]]:
        """The final answer (usage summed) and the conversation as last sent to the model:
        the request's messages, then each round's assistant message with its `tool_calls`
        and one `tool` message per call."""
        tally = _Tally()
        answers = [a async for a in self._rounds(model, request, _ask_whole, tally)]
        answer = answers[-1]  # the rounds end with the one completion that is not a tool call
        if tally.usage is not answer.usage:
            answer = msgspec.structs.replace(answer, usage=tally.usage)
        return answer, tally.messages

    async def stream(
        self, model: ChatModel, request: CompletionRequest
    ) -> AsyncIterator[CompletionChunk]:
        """The model's chunks without the rounds' tool calls (the platform's business, not
        the caller's) nor their usage; one chunk with the summed usage at the end."""
        tally = _Tally()
        async for chunk in self._rounds(model, request, _ask_streamed, tally):
            yield chunk
        if tally.usage is not None and tally.last is not None:
            last = tally.last
            yield CompletionChunk(
                id=last.id, created=last.created, model=last.model, choices=[], usage=tally.usage
            )

    async def _rounds(
        self, model: ChatModel, request: CompletionRequest, ask: Ask[T], tally: _Tally
    ) -> AsyncIterator[T]:
        offered = offered_names(request.tools)
        messages = list(request.messages)
        asked = request
        for number in range(self._max_rounds + 1):
            final = number == self._max_rounds
            found = _Round()
            async for item in ask(model, asked, final, found):
                yield item
            tally.usage = added_usage(tally.usage, found.usage)
            tally.last = found.last or tally.last
            if final or not found.calls:
                break
            messages.append(
                {"role": "assistant", "content": found.content, "tool_calls": found.calls}
            )
            answers = await asyncio.gather(*(self._answer(c, offered) for c in found.calls))
            messages.extend(
                {"role": "tool", "tool_call_id": _call_id(call), "content": answer}
                for call, answer in zip(found.calls, answers, strict=True)
            )
            asked = msgspec.structs.replace(request, messages=list(messages))
        tally.messages = messages

    async def _answer(self, call: object, offered: frozenset[str]) -> str:
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            return error_text("a tool call needs a function name")
        name: str = function["name"]
        if name not in offered:
            return error_text(f"the tool '{name}' was not offered")
        arguments = function.get("arguments", "")
        if not isinstance(arguments, str | dict):
            return error_text("the arguments must be a JSON object")
        return await self._toolbox.call(name, arguments)


async def _ask_whole(
    model: ChatModel, request: CompletionRequest, final: bool, found: _Round
) -> AsyncIterator[Completion]:
    answer = await model.complete(request)
    found.usage = answer.usage
    message = answer.choices[0].get("message") if answer.choices else None
    if isinstance(message, dict):
        calls = message.get("tool_calls")
        if isinstance(calls, list) and calls and not final:
            found.calls, found.content = calls, message.get("content")
            return  # the platform answers the calls: this answer is not the caller's
    yield answer


async def _ask_streamed(
    model: ChatModel, request: CompletionRequest, final: bool, found: _Round
) -> AsyncIterator[CompletionChunk]:
    calls: dict[int, dict[str, Any]] = {}
    async for chunk in model.stream(request):
        found.last = chunk
        if not chunk.choices:
            found.usage = added_usage(found.usage, chunk.usage)
            continue
        if not final and _take_tool_calls(chunk, calls):
            continue
        yield msgspec.structs.replace(chunk, usage=None) if chunk.usage is not None else chunk
    found.calls = [calls[index] for index in sorted(calls)]


def offered_names(tools: list[dict[str, Any]] | None) -> frozenset[str]:
    """The function names of a request's `tools`."""
    names = set()
    for tool in tools or ():
        function = tool.get("function")
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            names.add(function["name"])
    return frozenset(names)


def added_usage(total: dict[str, Any] | None, more: dict[str, Any] | None) -> dict[str, Any] | None:
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


def _call_id(call: object) -> str:
    value = call.get("id") if isinstance(call, dict) else None
    return value if isinstance(value, str) else ""


def _take_tool_calls(chunk: CompletionChunk, calls: dict[int, dict[str, Any]]) -> bool:
    """Collect the tool-call deltas of `chunk`; True when the chunk is about tool calls."""
    about_tools = False
    for choice in chunk.choices:
        delta = choice.get("delta")
        parts = delta.get("tool_calls") if isinstance(delta, dict) else None
        if isinstance(parts, list):
            about_tools = True
            for part in parts:
                if isinstance(part, dict):
                    _merge_call(calls, part)
        if choice.get("finish_reason") == "tool_calls":
            about_tools = True
    return about_tools


def _merge_call(calls: dict[int, dict[str, Any]], part: dict[str, Any]) -> None:
    index = part.get("index", 0)
    call = calls.setdefault(
        index if isinstance(index, int) else 0,
        {"id": "", "type": "function", "function": {"name": "", "arguments": ""}},
    )
    if isinstance(part.get("id"), str):
        call["id"] = part["id"]
    function = part.get("function")
    if isinstance(function, dict):
        if isinstance(function.get("name"), str):
            call["function"]["name"] += function["name"]
        if isinstance(function.get("arguments"), str):
            call["function"]["arguments"] += function["arguments"]

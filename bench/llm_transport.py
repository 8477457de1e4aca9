"""Which HTTP transport and which SDK call make the cheapest openai SDK chat call?

Starts the OpenAI-compatible test server (tests/support/openai_server.py, answers at once) in
its own process, then measures in this process, for each transport (httpx, the SDK's default;
aiohttp, `openai[aiohttp]`) and each way of calling:

- `adapter`: OpenAIChatModel.complete (AsyncOpenAI.post, body encoded and answer decoded by
  msgspec: what the platform uses);
- `raw`: chat.completions.with_raw_response.create + msgspec decode of the raw body;
- `parsed`: chat.completions.create (pydantic) + model_dump + msgspec.convert;
- `stream`: OpenAIChatModel.stream, one whole streamed answer per request;

the requests/s of sequential calls and of 16 concurrent callers. Rounds are interleaved and the
median of each is printed, with the aiohttp/httpx ratio. Bounded: a few thousand calls.

Run: .venv/bin/python bench/llm_transport.py [--calls 400] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

import msgspec  # noqa: E402
import openai  # noqa: E402

from smarter.adapters.openai_chat import OpenAIChatModel, Transport  # noqa: E402
from smarter.application.llm import Completion, CompletionRequest  # noqa: E402

MESSAGES: list[Any] = [
    {"role": "system", "content": "You are a helpful assistant. Answer briefly."},
    {"role": "user", "content": "What is the capital of France, and why is it famous?"},
]
REQUEST = CompletionRequest(model="gpt-4o-mini", messages=MESSAGES, temperature=0.7)
CONCURRENCY = 16
_completion = msgspec.json.Decoder(Completion)

Call = Callable[[], Awaitable[object]]


def calls_for(model: OpenAIChatModel) -> dict[str, Call]:
    client = model._client  # the same AsyncOpenAI client, for the SDK's own call styles

    async def adapter() -> object:
        return await model.complete(REQUEST)

    async def raw() -> object:
        response = await client.chat.completions.with_raw_response.create(
            model=REQUEST.model, messages=MESSAGES, temperature=0.7
        )
        return _completion.decode(response.http_response.content)

    async def parsed() -> object:
        answer = await client.chat.completions.create(
            model=REQUEST.model, messages=MESSAGES, temperature=0.7
        )
        return msgspec.convert(answer.model_dump(exclude_unset=True), Completion)

    async def stream() -> object:
        return [chunk async for chunk in model.stream(REQUEST)]

    return {"adapter": adapter, "raw": raw, "parsed": parsed, "stream": stream}


async def sequential(call: Call, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        await call()
    return count / (time.perf_counter() - started)


async def concurrent(call: Call, count: int) -> float:
    each = max(1, count // CONCURRENCY)

    async def caller() -> None:
        for _ in range(each):
            await call()

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(CONCURRENCY)))
    return each * CONCURRENCY / (time.perf_counter() - started)


async def measure(base_url: str, count: int, rounds: int) -> dict[tuple[str, str, str], float]:
    transports: tuple[Transport, ...] = ("httpx", "aiohttp")
    models = {
        t: OpenAIChatModel(api_key="bench", base_url=base_url, timeout=30, transport=t)
        for t in transports
    }
    results: dict[tuple[str, str, str], list[float]] = {}
    try:
        for model in models.values():  # warm up connections and caches
            for call in calls_for(model).values():
                for _ in range(50):
                    await call()
        for _ in range(rounds):
            for transport, model in models.items():
                for style, call in calls_for(model).items():
                    seq = await sequential(call, count)
                    par = await concurrent(call, count * 2)
                    results.setdefault((style, transport, "seq"), []).append(seq)
                    results.setdefault((style, transport, "c16"), []).append(par)
    finally:
        for model in models.values():
            await model.aclose()
    return {key: statistics.median(values) for key, values in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400, help="sequential calls per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.support.openai_server", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().split()[-1]
        medians = asyncio.run(measure(base_url, args.calls, args.rounds))
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"openai {openai.__version__}; upstream {base_url}; requests/s, median of rounds")
    print(f"{'call':<9}{'mode':<6}{'httpx':>9}{'aiohttp':>9}{'aiohttp/httpx':>15}")
    for style in ("adapter", "raw", "parsed", "stream"):
        for mode in ("seq", "c16"):
            httpx_rate = medians[(style, "httpx", mode)]
            aiohttp_rate = medians[(style, "aiohttp", mode)]
            print(
                f"{style:<9}{mode:<6}{httpx_rate:>9.0f}{aiohttp_rate:>9.0f}"
                f"{aiohttp_rate / httpx_rate:>14.2f}x"
            )


if __name__ == "__main__":
    main()

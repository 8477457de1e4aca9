"""The chat benchmark's baseline: a bare Litestar route that makes the openai SDK call and
nothing else (no host lookup, no key check, no history).

`BENCH_CALL=adapter` (default) makes the same SDK call the platform's adapter makes
(`OpenAIChatModel.complete`: `AsyncOpenAI.post` over aiohttp, msgspec in and out);
`BENCH_CALL=create` the plain `chat.completions.create` + `model_dump()` most apps would write.

Run: BENCH_UPSTREAM=http://127.0.0.1:8001/v1 uvicorn bench.bare_app:app --port 8002
"""

from __future__ import annotations

import os
from typing import Any

import msgspec
import openai
from litestar import Litestar, Response, post

from smarter.adapters.openai_chat import OpenAIChatModel
from smarter.application.llm import CompletionRequest

UPSTREAM = os.environ.get("BENCH_UPSTREAM", "http://127.0.0.1:8001/v1")
CALL = os.environ.get("BENCH_CALL", "adapter")
MODEL = "gpt-4o-mini"

adapter = OpenAIChatModel(api_key="sk-bench", base_url=UPSTREAM, timeout=30.0)
sdk = openai.AsyncOpenAI(
    api_key="sk-bench", base_url=UPSTREAM, max_retries=0, http_client=openai.DefaultAioHttpClient()
)


class Body(msgspec.Struct):
    messages: list[dict[str, Any]]


@post("/llm-client/", status_code=200)
async def chat(data: Body) -> Response[bytes]:
    if CALL == "create":
        completion = await sdk.chat.completions.create(model=MODEL, messages=data.messages)  # type: ignore[arg-type]
        return Response(msgspec.json.encode(completion.model_dump()), media_type="application/json")
    answer = await adapter.complete(
        CompletionRequest(model=MODEL, messages=data.messages, temperature=0.7, max_tokens=256)
    )
    return Response(msgspec.json.encode(answer), media_type="application/json")


app = Litestar([chat])

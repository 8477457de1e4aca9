"""`POST /llm-client/` on client hosts: answers, streams, tools, upstream failures, history."""

from __future__ import annotations

import msgspec

from smarter.domain.history import ChatRequestRecord
from tests.integration.chat.conftest import UPSTREAM_KEY, Smarter, Tenant
from tests.support.openai_server import OpenAITestServer


async def test_a_ready_client_answers_with_a_chat_completion_and_a_session_key(
    smarter: Smarter, tenant: Tenant, upstream: OpenAITestServer
) -> None:
    await smarter.ready_client(tenant.admin, default_model="gpt-4o", default_max_tokens=77)

    response = await smarter.chat(smarter.client_host(), "what is FMLA?")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "chat.completion" and body["model"] == "gpt-4o"
    assert body["choices"][0]["message"]["content"] == "You said: what is FMLA?"
    assert body["usage"]["total_tokens"] > 0
    assert len(body["session_key"]) == 32
    assert response.headers["x-request-id"] == body["request_id"]
    sent = upstream.chat_requests()[-1]
    assert sent["model"] == "gpt-4o" and sent["max_tokens"] == 77
    assert sent["messages"][0]["role"] == "system"
    assert sent["messages"][0]["content"].endswith("System: You are a helpful assistant.")
    assert upstream.requests[-1].headers["authorization"] == f"Bearer {UPSTREAM_KEY}"


async def test_a_request_with_prompt_history_is_answered_and_the_session_continues(
    smarter: Smarter, tenant: Tenant
) -> None:
    await smarter.ready_client(tenant.admin)
    history = [
        {
            "message": "Hello, How can I help you?",
            "direction": "incoming",
            "sentTime": "11/16/2023, 5:53:32 PM",
            "sender": "system",
        }
    ]
    first = await smarter.chat(smarter.client_host(), "what is FMLA?", prompt_history=history)
    key = first.json()["session_key"]
    second = await smarter.chat(smarter.client_host(), "and CFRA?", session_key=key)

    assert second.status_code == 200 and second.json()["session_key"] == key


async def test_stream_true_answers_server_sent_chunks_ending_with_done(
    smarter: Smarter, tenant: Tenant
) -> None:
    await smarter.ready_client(tenant.admin)

    response = await smarter.chat(smarter.client_host(), "stream me", stream=True)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [e for e in response.text.split("\n\n") if e]
    assert events[-1] == "data: [DONE]"
    chunks = [msgspec.json.decode(e.removeprefix("data: ")) for e in events[:-1]]
    assert {c["request_id"] for c in chunks} == {response.headers["x-request-id"]}
    assert len({c["session_key"] for c in chunks}) == 1
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "You said: stream me"
    assert chunks[-1]["usage"]["total_tokens"] > 0


async def test_an_event_stream_accept_header_also_streams(smarter: Smarter, tenant: Tenant) -> None:
    await smarter.ready_client(tenant.admin)
    response = await smarter.chat(
        smarter.client_host(), "hi", headers={"Accept": "text/event-stream"}
    )
    assert response.text.endswith("data: [DONE]\n\n")


async def test_the_date_calculator_round_trip_runs_for_a_client_offering_it(
    smarter: Smarter, tenant: Tenant, upstream: OpenAITestServer
) -> None:
    await smarter.ready_client(tenant.admin, functions=["date_calculator"])

    response = await smarter.chat(smarter.client_host(), "What is 2024-01-30 plus 2 days?")

    assert response.status_code == 200, response.text
    content = response.json()["choices"][0]["message"]["content"]
    assert content == 'The tool answered: {"date":"2024-02-01","weekday":"Thursday"}'
    first, second = upstream.chat_requests()[-2:]
    assert first["tools"][0]["function"]["name"] == "date_calculator"
    assert second["messages"][-1]["role"] == "tool"


async def test_a_streamed_tool_round_trip_streams_only_the_final_answer(
    smarter: Smarter, tenant: Tenant
) -> None:
    await smarter.ready_client(tenant.admin, functions=["date_calculator"])

    response = await smarter.chat(
        smarter.client_host(), "days from 2024-01-01 to 2024-03-01?", stream=True
    )

    assert "tool_calls" not in response.text
    assert '\\"days\\":60' in response.text.replace(" ", "")


async def fails_with(smarter: Smarter, tenant: Tenant, model: str) -> tuple[int, dict, dict]:  # type: ignore[type-arg]
    await smarter.ready_client(tenant.admin, default_model=model)
    response = await smarter.chat(smarter.client_host(), "hi")
    return response.status_code, response.json(), dict(response.headers)


async def test_an_upstream_401_is_a_502_that_never_shows_the_provider_key(
    smarter: Smarter, tenant: Tenant
) -> None:
    status, body, _ = await fails_with(smarter, tenant, "fail-401")
    assert status == 502
    assert "sk-" not in body["detail"] and UPSTREAM_KEY not in str(body)


async def test_an_upstream_429_is_passed_on_with_retry_after(
    smarter: Smarter, tenant: Tenant
) -> None:
    status, body, headers = await fails_with(smarter, tenant, "fail-429")
    assert status == 429 and headers["retry-after"] == "7"
    assert "rate limiting" in body["detail"]


async def test_an_upstream_500_is_a_502(smarter: Smarter, tenant: Tenant) -> None:
    status, body, _ = await fails_with(smarter, tenant, "fail-500")
    assert status == 502 and body["status_code"] == 502


async def test_a_slow_upstream_is_a_504(smarter: Smarter, tenant: Tenant) -> None:
    status, body, _ = await fails_with(smarter, tenant, "slow")
    assert status == 504 and "in time" in body["detail"]


async def test_an_upstream_garbage_answer_is_a_502(smarter: Smarter, tenant: Tenant) -> None:
    status, _, _ = await fails_with(smarter, tenant, "garbage")
    assert status == 502


async def test_a_stream_failing_midway_ends_with_an_error_event(
    smarter: Smarter, tenant: Tenant
) -> None:
    await smarter.ready_client(tenant.admin, default_model="fail-stream")
    response = await smarter.chat(smarter.client_host(), "hi", stream=True)
    assert response.status_code == 200
    last = [e for e in response.text.split("\n\n") if e][-1]
    assert msgspec.json.decode(last.removeprefix("data: "))["error"]["code"] == 502


async def test_a_streamed_upstream_failure_before_the_first_chunk_keeps_its_status(
    smarter: Smarter, tenant: Tenant
) -> None:
    await smarter.ready_client(tenant.admin, default_model="fail-429")
    response = await smarter.chat(smarter.client_host(), "hi", stream=True)
    assert response.status_code == 429 and response.headers["retry-after"] == "7"


async def test_every_request_is_recorded_with_its_conversation(
    smarter: Smarter, tenant: Tenant
) -> None:
    client_id = await smarter.ready_client(tenant.admin)
    host = smarter.client_host()
    ok = await smarter.chat(host, "first")
    await smarter.chat(host, "second", session_key=ok.json()["session_key"], stream=True)
    await smarter.drain()

    requests = await smarter.console(
        "GET", f"/api/v1/llm-clients/{client_id}/requests/", tenant.admin
    )
    assert requests.status_code == 200, requests.text
    items = requests.json()["items"]
    assert [i["status_code"] for i in items] == [200, 200]
    assert {i["mode"] for i in items} == {"default"}
    assert items[1]["request_id"] == ok.json()["request_id"]
    assert items[1]["prompt_tokens"] > 0
    conversation = await smarter.console(
        "GET",
        f"/api/v1/llm-clients/{client_id}/conversations/{ok.json()['session_key']}/",
        tenant.admin,
    )
    assert conversation.status_code == 200, conversation.text
    messages = [(m["role"], m["content"]) for m in conversation.json()["messages"]]
    assert messages == [
        ("user", "first"),
        ("assistant", "You said: first"),
        ("user", "second"),
        ("assistant", "You said: second"),
    ]


async def test_a_failed_request_is_recorded_with_its_status(
    smarter: Smarter, tenant: Tenant
) -> None:
    client_id = await smarter.ready_client(tenant.admin, default_model="fail-500")
    await smarter.chat(smarter.client_host(), "hi")
    await smarter.drain()

    async with smarter.container() as scope:
        from smarter.application.ports import UnitOfWork

        uow = await scope.get(UnitOfWork)
        records: list[ChatRequestRecord] = await uow.history.list(client_id, 10)
    assert [r.status_code for r in records] == [502]
    assert UPSTREAM_KEY not in msgspec.json.encode(records[0]).decode()

"""`/api/v1/llm-clients/{id}/requests/` and `/conversations/`: pages, owners only, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smarter.domain.history import ChatMessage, ChatRequestRecord
from tests.fakes import FakeUnitOfWork
from tests.integration.http.conftest import Api, Tenant
from tests.integration.http.test_llm_clients import CLIENTS, create

MOMENT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


async def record(uow: FakeUnitOfWork, client_id: int, count: int) -> None:
    for n in range(count):
        await uow.history.add(
            ChatRequestRecord(
                llm_client_id=client_id,
                request_id=f"req-{client_id}-{n}",
                session_key="s-1",
                mode="default",
                status_code=200,
                latency_ms=4.2,
                request={"messages": [{"role": "user", "content": f"question {n}"}]},
                response={"choices": [{"message": {"content": f"answer {n}"}}]},
                prompt_tokens=3,
                completion_tokens=2,
                created_at=MOMENT + timedelta(seconds=n),
            )
        )


async def test_the_owner_pages_through_the_request_history_newest_first(
    api: Api, tenant: Tenant, uow: FakeUnitOfWork
) -> None:
    client = await create(api, tenant.member, name="example")
    await record(uow, client["id"], 5)
    url = f"{CLIENTS}/{client['id']}/requests/"

    pages, before = [], None
    while True:
        params = {"limit": 2} if before is None else {"limit": 2, "before": before}
        response = await api.client.get(url, params=params, headers=tenant.member)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([item["request_id"][-1] for item in body["items"]])
        before = body["next_before"]
        if before is None:
            break

    assert pages == [["4", "3"], ["2", "1"], ["0"]]
    first = (await api.client.get(url, headers=tenant.member)).json()["items"][0]
    assert first["status_code"] == 200 and first["completion_tokens"] == 2
    assert first["response"]["choices"][0]["message"]["content"] == "answer 4"
    assert first["created_at"].startswith("2026-01-02T03:04:09")


async def test_the_owner_lists_conversations_and_reads_one(
    api: Api, tenant: Tenant, uow: FakeUnitOfWork
) -> None:
    client = await create(api, tenant.admin, name="example")
    hello = [ChatMessage(role="user", content="Hi"), ChatMessage(role="assistant", content="Hey")]
    await uow.conversations.append(client["id"], "first", hello, at=MOMENT)
    await uow.conversations.append(client["id"], "second", hello[:1], at=MOMENT + timedelta(1))
    base = f"{CLIENTS}/{client['id']}/conversations"

    listed = await api.client.get(f"{base}/", params={"limit": 1}, headers=tenant.admin)
    rest = await api.client.get(
        f"{base}/", params={"before": listed.json()["next_before"]}, headers=tenant.admin
    )
    one = await api.client.get(f"{base}/first/", headers=tenant.admin)
    unknown = await api.client.get(f"{base}/nope/", headers=tenant.admin)

    assert [(c["session_key"], c["messages"]) for c in listed.json()["items"]] == [("second", 1)]
    assert [c["session_key"] for c in rest.json()["items"]] == ["first"]
    assert rest.json()["next_before"] is None
    assert one.status_code == 200
    assert [(m["role"], m["content"]) for m in one.json()["messages"]] == [
        ("user", "Hi"),
        ("assistant", "Hey"),
    ]
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "no conversation 'nope'"


@pytest.mark.parametrize("path", ["requests/", "conversations/", "conversations/s-1/"])
async def test_another_account_and_another_member_get_404(
    api: Api, tenant: Tenant, other_tenant: Tenant, uow: FakeUnitOfWork, path: str
) -> None:
    client = await create(api, tenant.admin, name="example")
    await record(uow, client["id"], 1)
    await uow.conversations.append(client["id"], "s-1", [ChatMessage(role="user", content="x")])
    url = f"{CLIENTS}/{client['id']}/{path}"

    stranger = await api.client.get(url, headers=other_tenant.admin)
    member = await api.client.get(url, headers=tenant.member)
    nobody = await api.client.get(url)

    assert (stranger.status_code, member.status_code, nobody.status_code) == (404, 404, 401)
    assert "req-" not in stranger.text and "s-1" not in stranger.text
    assert stranger.json()["status_code"] == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("before=0", "before"),
        ("before=-3", "before"),
        ("before=abc", "before"),
    ],
)
@pytest.mark.parametrize("path", ["requests/", "conversations/"])
async def test_a_bad_page_parameter_is_400_naming_it(
    api: Api, tenant: Tenant, path: str, query: str, field: str
) -> None:
    client = await create(api, tenant.admin, name="example")

    response = await api.client.get(
        f"{CLIENTS}/{client['id']}/{path}?{query}", headers=tenant.admin
    )

    assert response.status_code == 400, response.text
    assert response.json()["field"] == field


async def test_a_session_key_too_long_is_400_and_an_unknown_client_404(
    api: Api, tenant: Tenant
) -> None:
    client = await create(api, tenant.admin, name="example")

    too_long = await api.client.get(
        f"{CLIENTS}/{client['id']}/conversations/{'k' * 200}/", headers=tenant.admin
    )
    unknown = await api.client.get(f"{CLIENTS}/999/requests/", headers=tenant.admin)
    not_an_id = await api.client.get(f"{CLIENTS}/abc/requests/", headers=tenant.admin)

    assert too_long.status_code == 400
    assert unknown.status_code == 404
    assert not_an_id.status_code == 400

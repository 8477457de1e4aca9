"""The chat page in headless Chromium, against the real app on a loopback port.

Screenshots go to each test's own temporary folder (pytest's `tmp_path`), never into the
repository; the path is printed (`pytest -s` shows it).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Request, expect

from tests.integration.browser.conftest import ACCOUNT, HELPDESK, Platform

WAIT_MS = 5_000


def new_page(browser: Browser) -> Page:
    page = browser.new_page()
    page.set_default_timeout(WAIT_MS)
    return page


def chat_requests(page: Page) -> list[Request]:
    """Every chat turn the page sends, in order."""
    sent: list[Request] = []
    page.on("request", lambda request: sent.append(request) if request.method == "POST" else None)
    return sent


def body_of(request: Request) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(request.post_data or "{}")
    return body


def ask(page: Page, question: str) -> None:
    page.fill("#prompt", question)
    page.click("#send")


def last_answer(page: Page) -> Any:
    return page.locator(".message.assistant .text").last


def session_key_in(page: Page, chat_path: str) -> str | None:
    key: str | None = page.evaluate(
        "(name) => sessionStorage.getItem(`smarter:${location.host}:${name}:session_key`)",
        chat_path,
    )
    return key


def screenshot(page: Page, folder: Path, name: str) -> None:
    path = folder / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0
    print(f"screenshot: {path}")


def test_a_deployed_client_page_shows_its_texts_streams_answers_and_keeps_the_session(
    platform: Platform, browser: Browser, tmp_path: Path
) -> None:
    page = new_page(browser)
    sent = chat_requests(page)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

    response = page.goto(f"{platform.client_url('helpdesk')}/")

    assert response is not None and response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("#app-name")).to_have_text("Helpdesk <b>Bot</b>", timeout=WAIT_MS)
    expect(page).to_have_title("Helpdesk <b>Bot</b>")
    expect(page.locator("#welcome-message")).to_have_text(HELPDESK.app_welcome_message)
    expect(page.locator("button.example")).to_have_text(HELPDESK.app_example_prompts)
    expect(page.locator("#prompt")).to_have_attribute("placeholder", HELPDESK.app_placeholder)
    expect(page.locator("#info-link")).to_have_attribute("href", "https://example.org/about")

    ask(page, "What are your opening hours?")
    expect(last_answer(page)).to_have_text("echo: What are your opening hours?", timeout=WAIT_MS)
    first_key = session_key_in(page, "/llm-client/")
    expect(page.locator("#examples")).to_be_hidden()  # they start a chat, not continue one
    ask(page, "And on Sundays?")
    expect(last_answer(page)).to_have_text("echo: And on Sundays?", timeout=WAIT_MS)

    screenshot(page, tmp_path, "chat-page.png")
    streamed = sent[0].response()
    assert streamed is not None
    assert streamed.headers["content-type"].startswith("text/event-stream")
    assert problems == []  # no script error, no Content-Security-Policy violation
    first, second = (body_of(request) for request in sent)
    assert first["stream"] is True and "session_key" not in first
    assert first_key and second["session_key"] == first_key
    assert [m["role"] for m in second["messages"]] == ["user", "assistant", "user"]
    assert second["messages"][1]["content"] == "echo: What are your opening hours?"
    assert session_key_in(page, "/llm-client/") == first_key
    page.close()


def test_model_output_is_shown_as_text_never_as_markup(
    platform: Platform, browser: Browser
) -> None:
    page = new_page(browser)
    page.goto(f"{platform.client_url('helpdesk')}/")
    expect(page.locator("#app-name")).to_have_text("Helpdesk <b>Bot</b>", timeout=WAIT_MS)

    ask(page, '<img id="injected" src="x"> <b>bold</b>')

    expect(last_answer(page)).to_have_text(
        'echo: <img id="injected" src="x"> <b>bold</b>', timeout=WAIT_MS
    )
    assert page.locator("#injected").count() == 0
    assert page.locator(".message b").count() == 0
    page.close()


def test_an_example_starts_a_chat_a_reload_keeps_it_and_new_chat_forgets_it(
    platform: Platform, browser: Browser
) -> None:
    page = new_page(browser)
    sent = chat_requests(page)
    page.goto(f"{platform.client_url('helpdesk')}/")
    page.locator("button.example").first.click()
    expect(last_answer(page)).to_have_text("echo: When are you open?", timeout=WAIT_MS)

    page.reload()
    expect(page.locator(".message.user .text")).to_have_text(
        ["When are you open?"], timeout=WAIT_MS
    )
    page.click("#new-chat")
    ask(page, "again")
    expect(last_answer(page)).to_have_text("echo: again", timeout=WAIT_MS)

    assert "session_key" not in body_of(sent[-1])
    assert [m["content"] for m in body_of(sent[-1])["messages"]] == ["again"]
    page.close()


def test_a_client_that_requires_a_key_asks_for_it_and_uses_it(
    platform: Platform, browser: Browser
) -> None:
    page = new_page(browser)
    sent = chat_requests(page)
    page.goto(f"{platform.client_url('vault')}/")

    expect(page.locator("#credentials")).to_be_visible(timeout=WAIT_MS)
    page.fill("#credential", "smt_key_wrong")
    page.click("#credential-form button")
    expect(page.locator("#app-name")).to_have_text("Vault Bot", timeout=WAIT_MS)
    ask(page, "let me in")
    expect(page.locator("#error")).to_contain_text("401", timeout=WAIT_MS)
    expect(page.locator("#prompt")).to_have_value("let me in")
    page.fill("#credential", platform.api_key)
    page.click("#credential-form button")
    page.click("#send")
    expect(last_answer(page)).to_have_text("echo: let me in", timeout=WAIT_MS)

    assert sent[-1].headers["x-api-key"] == platform.api_key
    assert "authorization" not in sent[-1].headers
    page.close()


def test_the_workbench_runs_an_undeployed_client_with_the_console_token(
    platform: Platform, browser: Browser, tmp_path: Path
) -> None:
    page = new_page(browser)
    sent = chat_requests(page)

    response = page.goto(platform.workbench_url("draft"))

    assert response is not None and response.status == 200
    expect(page.locator("#credential-label")).to_have_text("Console token", timeout=WAIT_MS)
    expect(page.locator("#prompt")).to_be_disabled()
    page.fill("#credential", platform.token)
    page.click("#credential-form button")
    expect(page.locator("#app-name")).to_have_text("Draft Bot", timeout=WAIT_MS)
    expect(page.locator("#mode-badge")).to_be_visible()
    expect(page.locator("#welcome-message")).to_have_text("Trying things out.")
    ask(page, "Does the sandbox work?")
    expect(last_answer(page)).to_have_text("echo: Does the sandbox work?", timeout=WAIT_MS)

    screenshot(page, tmp_path, "workbench.png")
    draft_id = platform.clients["draft"].id
    assert sent[-1].url == f"{platform.console}/api/v1/llm-clients/{draft_id}/prompt/"
    assert sent[-1].headers["authorization"] == f"Token {platform.token}"
    assert "x-api-key" not in sent[-1].headers
    page.close()


def test_the_workbench_without_a_valid_token_shows_the_401(
    platform: Platform, browser: Browser
) -> None:
    page = new_page(browser)
    page.goto(platform.workbench_url("draft"))

    page.fill("#credential", "smt_tok_not-a-token")
    page.click("#credential-form button")

    expect(page.locator("#error")).to_contain_text("401", timeout=WAIT_MS)
    expect(page.locator("#prompt")).to_be_disabled()
    page.close()


def test_pages_that_do_not_exist_answer_json_errors(platform: Platform) -> None:
    def host(name: str) -> dict[str, str]:
        return {"host": f"{name}:{platform.port}"}

    # Only browsers send *.localhost to loopback: connect there and name the host.
    with httpx.Client(base_url=f"http://127.0.0.1:{platform.port}", timeout=5) as http:
        bad_workbench = http.get("/workbench/llm-clients/not-an-id/", headers=host("localhost"))
        undeployed = http.get("/", headers=host(f"draft.{ACCOUNT}.api.localhost"))
        nobody = http.get("/", headers=host(f"nobody.{ACCOUNT}.api.localhost"))

    assert bad_workbench.status_code == 404
    assert bad_workbench.json()["status_code"] == 404
    assert undeployed.status_code == 503
    assert nobody.status_code == 404


def test_the_owner_finds_the_pages_turns_in_the_history(
    platform: Platform, browser: Browser
) -> None:
    page = new_page(browser)
    page.goto(f"{platform.client_url('helpdesk')}/")
    ask(page, "Please remember this")
    expect(last_answer(page)).to_have_text("echo: Please remember this", timeout=WAIT_MS)
    session_key = session_key_in(page, "/llm-client/")
    page.close()
    assert session_key
    client_id = platform.clients["helpdesk"].id
    base = f"{platform.console}/api/v1/llm-clients/{client_id}"
    headers = {"Authorization": f"Token {platform.token}"}

    # History is written off the hot path: poll briefly.
    deadline = time.monotonic() + WAIT_MS / 1000
    with httpx.Client(timeout=5, headers=headers) as http:
        while True:
            conversation = http.get(f"{base}/conversations/{session_key}/")
            if conversation.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        requests = http.get(f"{base}/requests/", params={"limit": 200}).json()["items"]

    assert conversation.status_code == 200, conversation.text
    assert [(m["role"], m["content"]) for m in conversation.json()["messages"]][-2:] == [
        ("user", "Please remember this"),
        ("assistant", "echo: Please remember this"),
    ]
    mine = [r for r in requests if r["session_key"] == session_key]
    assert len(mine) == 1 and mine[0]["status_code"] == 200


SSE_FAILURE = (
    'data: {"choices": [{"index": 0, "delta": {"content": "Half an ans"}}],'
    ' "session_key": "s-broken"}\n\n'
    'data: {"error": {"message": "the model stopped answering", "code": 502}}\n\n'
)


@pytest.mark.parametrize(
    ("status", "headers", "body", "shown", "kept"),
    [
        (503, {}, {"status_code": 503, "detail": "not ready yet"}, "503: not ready yet", ""),
        (
            429,
            {"Retry-After": "7"},
            {"status_code": 429, "detail": "too many requests"},
            "429: too many requests (try again in 7 s)",
            "",
        ),
        (200, {}, SSE_FAILURE, "502: the model stopped answering", "Half an ans"),
    ],
    ids=["not-ready", "rate-limited", "failed-mid-stream"],
)
def test_errors_from_the_chat_endpoint_are_shown_in_the_page(
    platform: Platform,
    browser: Browser,
    status: int,
    headers: dict[str, str],
    body: Any,
    shown: str,
    kept: str,
) -> None:
    page = new_page(browser)
    page.route(
        "**/llm-client/",
        lambda route: route.fulfill(
            status=status,
            headers=headers,
            content_type="text/event-stream" if isinstance(body, str) else "application/json",
            body=body if isinstance(body, str) else json.dumps(body),
        ),
    )
    page.goto(f"{platform.client_url('helpdesk')}/")

    ask(page, "Hello?")

    expect(page.locator("#error")).to_have_text(shown)
    if kept:  # what arrived stays, marked as interrupted
        expect(page.locator(".message.assistant.interrupted .text")).to_have_text(kept)
    else:  # the question goes back into the box, to send again
        expect(page.locator(".message")).to_have_count(0)
        expect(page.locator("#prompt")).to_have_value("Hello?")
    expect(page.locator("#send")).to_be_enabled()
    page.close()

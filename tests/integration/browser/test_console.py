"""The web console in headless Chromium, against the real app with its embedded worker.

One server and one browser for the module; each test has its own browser context (its own
cookies). Screenshots of the main pages go to each test's temporary folder (`tmp_path`).
Waits are on selectors and states, never on time. The throttling test comes last: it uses
up the sign-in attempts of 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from smarter.adapters.sql.migrations import upgrade_to_head
from smarter.application.accounts import ActAs, CreateAccount, CreateUser, IssueToken, NewUser
from smarter.application.custom_domains import RegisterCustomDomain
from smarter.application.llm_clients import CreateLLMClient
from smarter.application.ports import UnitOfWork
from smarter.application.sign_in import SetPassword
from smarter.domain.account_number import AccountNumber
from smarter.domain.custom_domain import CustomDomain
from smarter.domain.environments import Environment
from smarter.domain.llm_client import LLMClientSpec
from smarter.entrypoints.http.app import create_app
from smarter.entrypoints.settings import Settings
from smarter.entrypoints.wiring import make_container
from tests.integration.browser.conftest import free_port, serving

ACCOUNT = AccountNumber("1618-0339-8874")
OTHER = AccountNumber("2718-2818-2845")
PASSWORD = "a long demo password"
WAIT_MS = 10_000
ATTEMPTS_PER_USER = 10  # every attempt counts: the admin signs in in most tests
ATTEMPTS_PER_ADDRESS = 40


@dataclass(frozen=True)
class Console:
    port: int
    token: str  # the admin's API token, to check the pages against the API
    helpdesk_id: int  # the admin's client
    ada_client_id: int  # the non-admin's client
    other_client_id: int  # another account's
    other_domain_id: int
    other_user_id: int
    other_token_id: int
    legacy_domain_id: int  # never verifies

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"


async def _seed(settings: Settings) -> Console:
    container = make_container(settings)
    try:
        async with container() as request:
            mine = await (await request.get(CreateAccount))(name="Golden", number=ACCOUNT)
            theirs = await (await request.get(CreateAccount))(name="Euler", number=OTHER)
            admin = await (await request.get(ActAs))(ACCOUNT)
            stranger = await (await request.get(ActAs))(OTHER)
            await (await request.get(CreateUser))(admin, NewUser(username="ada"))
            set_password = await request.get(SetPassword)
            await set_password(ACCOUNT, "admin", PASSWORD)
            await set_password(ACCOUNT, "ada", PASSWORD)
            ada = await (await request.get(ActAs))(ACCOUNT, "ada")
            create = await request.get(CreateLLMClient)
            spec = LLMClientSpec(name="helpdesk", provider="echo", default_model="echo")
            helpdesk = await create(admin, spec)
            notes = await create(ada, LLMClientSpec(name="ada-notes", provider="echo"))
            rival = await create(stranger, LLMClientSpec(name="rival", provider="echo"))
            domain = await (await request.get(RegisterCustomDomain))(stranger, "rival.example")
            other_token = await (await request.get(IssueToken))(stranger, "theirs")
            # Registered, its zone made, but the registrar never delegated to it: every
            # check fails (local DNS knows no such zone).
            uow = await request.get(UnitOfWork)
            legacy = await uow.domains.add(
                CustomDomain(domain_name="legacy.example.com", account_number=ACCOUNT)
            )
            legacy.aws_hosted_zone_id = "Z0SEEDED"
            legacy.name_servers = ("ns-1.example.net", "ns-2.example.net")
            await uow.domains.save(legacy)
            await uow.commit()
    finally:
        await container.close()
    assert None not in (helpdesk.id, notes.id, rival.id, domain.id, other_token.token.id)
    return Console(
        port=settings.port,
        token=mine.token.plaintext,
        helpdesk_id=helpdesk.id or 0,
        ada_client_id=notes.id or 0,
        other_client_id=rival.id or 0,
        other_domain_id=domain.id or 0,
        other_user_id=theirs.admin.id or 0,
        other_token_id=other_token.token.id or 0,
        legacy_domain_id=legacy.id or 0,
    )


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    port = free_port()
    folder = tmp_path_factory.mktemp("console")
    settings = Settings(
        environment=Environment.LOCAL,
        local_port=port,
        port=port,
        database_url=f"sqlite+aiosqlite:///{folder / 'smarter.db'}",
        demo=False,
        log_level="warning",
        sign_in_attempts_per_user=ATTEMPTS_PER_USER,
        sign_in_attempts_per_address=ATTEMPTS_PER_ADDRESS,
    )
    upgrade_to_head(settings.database_url)
    seeded = asyncio.run(_seed(settings))
    with serving(create_app(settings, embedded_worker=True), port):
        yield seeded


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(WAIT_MS)
    try:
        yield context
    finally:
        context.close()


def signed_in(context: BrowserContext, console: Console, username: str = "admin") -> Page:
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{console.url}/clients")
    expect(page).to_have_url(re.compile(r"/login\?next=/clients$"))
    page.fill("#account", str(ACCOUNT))
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")
    expect(page).to_have_url(f"{console.url}/clients")
    return page


def screenshot(page: Page, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0
    print(f"screenshot: {path}")


def client_id_of(page: Page) -> int:
    found = re.search(r"/clients/(\d+)", page.url)
    assert found is not None, page.url
    return int(found.group(1))


def csrf_token_of(page: Page) -> str:
    token = page.locator("input[name=_csrf_token]").first.get_attribute("value")
    assert token
    return token


def api_requests(console: Console, client_id: int) -> list[dict[str, object]]:
    with httpx.Client(base_url=f"http://127.0.0.1:{console.port}", timeout=5) as http:
        response = http.get(
            f"/api/v1/llm-clients/{client_id}/requests/",
            headers={
                "Host": f"localhost:{console.port}",
                "Authorization": f"Token {console.token}",
            },
        )
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


def test_an_admin_creates_tries_deploys_and_watches_a_client(
    console: Console, context: BrowserContext, tmp_path: Path
) -> None:
    page = signed_in(context, console)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    expect(page.locator("table.clients")).to_contain_text("helpdesk")
    screenshot(page, tmp_path, "clients")

    # A validation error, from the API's own rules, next to its field.
    page.click("text=New client")
    page.fill("#f-name", "Bad Name!")
    page.fill("#f-default_temperature", "5")
    page.click("button:has-text('Create client')")
    expect(page.locator(".field-error[data-field=default_temperature]")).to_have_text(
        "must be between 0.0 and 2.0"
    )
    expect(page.locator(".field-error[data-field=name]")).to_be_visible()
    expect(page.locator("#f-default_temperature")).to_have_attribute("aria-invalid", "true")
    screenshot(page, tmp_path, "new-client-errors")

    page.fill("#f-name", "faq-bot")
    page.fill("#f-default_temperature", "0.3")
    page.fill("#f-provider", "echo")
    page.fill("#f-default_model", "echo")
    page.fill("#f-app_name", "FAQ Bot")
    page.fill("#f-app_welcome_message", "Ask me anything.")
    page.click("button:has-text('Create client')")
    expect(page.locator(".notice.ok")).to_have_text("The client was created.")
    client_id = client_id_of(page)
    expect(page.locator("#status")).to_have_attribute("data-state", "idle")

    # The sandbox, inside the console, with the session: no token to paste.
    page.click("nav.tabs >> text=Sandbox")
    frame = page.frame_locator("#sandbox-frame")
    expect(frame.locator("#app-name")).to_have_text("FAQ Bot")
    frame.locator("#prompt").fill("hello from the sandbox")
    frame.locator("#send").click()
    expect(frame.locator(".message.assistant .text").last).to_have_text(
        "echo: hello from the sandbox"
    )
    expect(frame.locator("#credentials")).to_be_hidden()
    screenshot(page, tmp_path, "sandbox")

    # Deploy, and the timeline follows the worker until the client is ready.
    page.click("nav.tabs >> text=Overview")
    page.click("button:has-text('Deploy')")
    expect(page.locator(".notice.ok")).to_contain_text("Deployment requested")
    expect(page.locator("#status")).to_have_attribute("data-state", "ready")
    expect(page.locator("#status .timeline")).to_contain_text("Issued")
    expect(page.locator(".badges")).to_contain_text("Live")
    screenshot(page, tmp_path, "client-ready")

    # An API key, shown once, that the client host then requires.
    page.click("nav.tabs >> text=API keys")
    page.fill("#key-name", "website")
    page.click("button:has-text('Create key')")
    key = page.locator("#new-key").inner_text()
    assert key.startswith("smt_key_")
    screenshot(page, tmp_path, "api-key")
    host = {"Host": f"faq-bot.{ACCOUNT}.api.localhost:{console.port}"}
    body = {"messages": [{"role": "user", "content": "hello with a key"}]}
    with httpx.Client(base_url=f"http://127.0.0.1:{console.port}", timeout=5) as http:
        refused = http.post("/llm-client/", json=body, headers=host)
        answered = http.post("/llm-client/", json=body, headers={**host, "x-api-key": key})
    assert refused.status_code == 401
    assert answered.status_code == 200, answered.text
    page.reload()
    expect(page.locator("table.list")).to_contain_text("website")
    assert key not in page.content()  # never shown again

    # History: the sandbox turn and the client host's, newest first; a conversation.
    expected = _recorded(console, client_id, 2)  # a refused request is not an answer
    page.click("nav.tabs >> text=History")
    expect(page.locator("table.requests tbody tr")).to_have_count(2)
    expect(page.locator("table.requests tbody tr").first).to_contain_text("default")
    page.locator("ul.conversations a").last.click()
    expect(page.locator(".message.user .text")).to_have_text("hello from the sandbox")
    expect(page.locator(".message.assistant .text")).to_have_text("echo: hello from the sandbox")
    screenshot(page, tmp_path, "history")

    # Usage: the chart's 30 days and the totals the request history adds up to.
    page.click("nav.tabs >> text=Usage")
    expect(page.locator("#total-requests")).to_have_text(str(len(expected)))
    errors = sum(1 for r in expected if int(str(r["status_code"])) >= 400)
    prompt = sum(int(str(r["prompt_tokens"])) for r in expected)
    expect(page.locator("#total-errors")).to_have_text(str(errors))
    expect(page.locator("#total-prompt-tokens")).to_have_text(f"{prompt:,}")
    expect(page.locator("svg.chart.requests g.day")).to_have_count(30)
    today = page.locator("svg.chart.requests g.day").last.locator("title")
    expect(today).to_contain_text(
        f"{datetime.now(UTC).date().isoformat()}: {len(expected)} requests"
    )
    screenshot(page, tmp_path, "usage")

    # The manifest, viewed and downloaded.
    page.click("nav.tabs >> text=Manifest")
    expect(page.locator("#manifest")).to_contain_text("name: faq-bot")
    with page.expect_download() as download:
        page.click("text=Download YAML")
    assert download.value.suggested_filename == "faq-bot.yaml"
    assert not problems, problems


def _recorded(console: Console, client_id: int, count: int) -> list[dict[str, object]]:
    """The client's request history once `count` requests are stored (the recorder writes
    them off the chat path, a moment after the answer)."""
    deadline = datetime.now(UTC).timestamp() + WAIT_MS / 1000
    while True:
        found = api_requests(console, client_id)
        if len(found) >= count or datetime.now(UTC).timestamp() > deadline:
            assert len(found) == count, found
            return found


def test_a_custom_domain_shows_the_records_to_set_and_its_verification(
    console: Console, context: BrowserContext, tmp_path: Path
) -> None:
    page = signed_in(context, console)
    page.click("nav.sidebar >> text=Custom domains")
    expect(page.locator("table.list")).to_contain_text("legacy.example.com")
    page.fill("#domain-name", "not a domain")
    page.click("button:has-text('Register domain')")
    expect(page.locator("#domain-error")).to_be_visible()

    page.fill("#domain-name", "bots.example.org")
    page.click("button:has-text('Register domain')")
    expect(page.locator("h1")).to_have_text("bots.example.org")
    records = page.locator("table.records tbody tr")
    expect(records.first).to_contain_text("NS")  # once the worker created the zone
    expect(records.last).to_contain_text("_smarter.bots.example.org")
    expect(records.last).to_contain_text("smarter-verification=")
    expect(page.locator("table.records button.copy").first).to_be_visible()
    # Local DNS answers at once: the page's polling shows the domain verified.
    expect(page.locator("#domain-records h2")).to_contain_text("Verified")
    screenshot(page, tmp_path, "domain")


def test_check_now_shows_what_the_dns_check_found(
    console: Console, context: BrowserContext, tmp_path: Path
) -> None:
    page = signed_in(context, console)
    page.goto(f"{console.url}/domains/{console.legacy_domain_id}")
    expect(page.locator("#domain-records h2")).to_contain_text("Not verified yet")
    expect(page.locator("table.records")).to_contain_text("ns-1.example.net")

    page.click("button:has-text('Check now')")

    result = page.locator(".check-result")
    expect(result).to_contain_text("set them to ns-1.example.net, ns-2.example.net")
    expect(result.locator("dd").first).to_have_text("none")
    screenshot(page, tmp_path, "domain-check")


def test_an_admin_adds_a_user_whose_invitation_link_sets_a_password_once(
    console: Console, context: BrowserContext, browser: Browser, tmp_path: Path
) -> None:
    page = signed_in(context, console)
    page.click("nav.sidebar >> text=Users")
    page.fill("#new-username", "grace")
    page.click("button:has-text('Add and invite')")
    link = page.locator("#invitation-link").inner_text()
    assert link.startswith(f"{console.url}/invitations/smt_inv_")
    screenshot(page, tmp_path, "users")

    guest = browser.new_context()
    try:
        invited = guest.new_page()
        invited.goto(link)
        invited.fill("#password", "graces password")
        invited.fill("#confirm", "graces password")
        invited.click("button:has-text('Set password')")
        expect(invited.locator(".notice.ok")).to_have_text("Your password is set. Welcome!")
        expect(invited.locator(".who")).to_contain_text("grace")
        again = invited.goto(link)
        assert again is not None and again.status == 404
    finally:
        guest.close()

    row = page.locator("tr[data-username=grace]")
    page.reload()
    expect(row).to_contain_text("Set")
    row.locator("button:has-text('Deactivate')").click()
    expect(page.locator("tr[data-username=grace]")).to_contain_text("Deactivated")


def test_a_member_sees_only_their_own_clients_and_no_account_pages(
    console: Console, context: BrowserContext, tmp_path: Path
) -> None:
    page = signed_in(context, console, "ada")

    expect(page.locator("table.clients")).to_contain_text("ada-notes")
    expect(page.locator("table.clients")).not_to_contain_text("helpdesk")
    expect(page.locator("nav.sidebar")).not_to_contain_text("Users")
    screenshot(page, tmp_path, "member-clients")
    for path in ("/account/users", "/account/tokens"):
        response = page.goto(f"{console.url}{path}")
        assert response is not None and response.status == 403
        expect(page.locator(".message")).to_contain_text("only an account admin")
    response = page.goto(f"{console.url}/clients/{console.helpdesk_id}")
    assert response is not None and response.status == 404

    page.goto(f"{console.url}/clients")
    page.click("button:has-text('Sign out')")
    expect(page.locator(".notice.ok")).to_have_text("You are signed out.")
    page.goto(f"{console.url}/clients/{console.ada_client_id}")
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_the_session_cookie_is_http_only_same_site_lax_and_expires(
    console: Console, context: BrowserContext
) -> None:
    signed_in(context, console)

    cookies = {cookie["name"]: cookie for cookie in context.cookies()}
    session = cookies["smarter_session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Lax"
    assert session["secure"] is False  # http in `local`; Secure everywhere else
    hours_left = (session["expires"] - datetime.now(UTC).timestamp()) / 3600
    assert 11.9 < hours_left <= 12.0
    assert cookies["smarter_csrf"]["httpOnly"] is True


def test_a_form_post_without_the_csrf_token_is_refused(
    console: Console, context: BrowserContext
) -> None:
    page = signed_in(context, console)
    url = f"{console.url}/clients/{console.helpdesk_id}/deploy"

    refused = page.request.post(url, form={"x": "1"}, max_redirects=0)
    forged = page.request.post(url, form={"_csrf_token": "forged"}, max_redirects=0)
    accepted = page.request.post(url, form={"_csrf_token": csrf_token_of(page)}, max_redirects=0)

    assert refused.status == 403 and forged.status == 403
    assert accepted.status == 303


def test_another_accounts_ids_are_not_found_on_every_page(
    console: Console, context: BrowserContext
) -> None:
    page = signed_in(context, console)
    token = csrf_token_of(page)
    client = f"/clients/{console.other_client_id}"
    domain = f"/domains/{console.other_domain_id}"
    pages = [
        client,
        f"{client}/status",
        f"{client}/settings",
        f"{client}/sandbox",
        f"{client}/sandbox/chat",
        f"{client}/sandbox/config",
        f"{client}/keys",
        f"{client}/history",
        f"{client}/history/conversations/some-key",
        f"{client}/usage",
        f"{client}/manifest",
        f"{client}/manifest.yaml",
        domain,
        f"{domain}/records",
    ]
    actions = [
        f"{client}/settings",
        f"{client}/deploy",
        f"{client}/undeploy",
        f"{client}/clone",
        f"{client}/delete",
        f"{client}/keys",
        f"{client}/keys/1/revoke",
        f"{domain}/check",
        f"{domain}/delete",
        f"/account/users/{console.other_user_id}",
        f"/account/users/{console.other_user_id}/invite",
        f"/account/tokens/{console.other_token_id}/revoke",
    ]
    answers = {path: page.request.get(console.url + path).status for path in pages}
    answers.update(
        {
            f"POST {path}": page.request.post(
                console.url + path, form={"_csrf_token": token}, max_redirects=0
            ).status
            for path in actions
        }
    )
    prompt = page.request.post(
        f"{console.url}{client}/sandbox/prompt",
        data={"messages": [{"role": "user", "content": "hi"}]},
        headers={"x-csrftoken": token},
    )
    answers["POST sandbox prompt"] = prompt.status

    assert answers == dict.fromkeys(answers, 404)


def test_the_api_docs_render_with_no_request_leaving_the_machine(
    console: Console, context: BrowserContext, tmp_path: Path
) -> None:
    page = context.new_page()
    outside: list[str] = []

    def local_only(route: Route) -> None:
        if route.request.url.startswith(console.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", local_only)
    page.goto(f"{console.url}/api/docs")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Smarter console API")
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    screenshot(page, tmp_path, "api-docs")
    assert outside == []


def test_sign_in_is_throttled_per_user_and_then_per_address(
    console: Console, context: BrowserContext
) -> None:
    page = context.new_page()
    page.goto(f"{console.url}/login")
    token = csrf_token_of(page)

    def attempt(username: str) -> int:
        form = {"_csrf_token": token, "account": str(ACCOUNT), "username": username}
        response = page.request.post(
            f"{console.url}/login", form={**form, "password": "wrong"}, max_redirects=0
        )
        return response.status

    statuses = [attempt("mallory") for _ in range(ATTEMPTS_PER_USER + 1)]
    assert statuses == [401] * ATTEMPTS_PER_USER + [429]
    # Other names from this address, until the address's own limit.
    statuses = [attempt(f"guess{n}") for n in range(ATTEMPTS_PER_ADDRESS)]
    assert statuses[-1] == 429 and statuses[0] == 401
    page.goto(f"{console.url}/login")
    page.fill("#account", str(ACCOUNT))
    page.fill("#username", "ada")
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")
    expect(page.locator("#sign-in-error")).to_contain_text("too many sign-in attempts")

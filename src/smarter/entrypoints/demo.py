"""The embedded default's first start: schema, a demo account and client, and what to try."""

from __future__ import annotations

import secrets

import msgspec
from dishka import AsyncContainer

from smarter.application import accounts, llm_clients, sign_in
from smarter.application.ports import UnitOfWork
from smarter.domain.account_number import AccountNumber
from smarter.domain.errors import NotFound
from smarter.domain.llm_client import LLMClient, LLMClientSpec
from smarter.entrypoints.settings import Settings

DEMO_ACCOUNT = AccountNumber("3141-5926-5359")
DEMO_ADMIN = "admin"
DEMO_TOKEN_NAME = "demo (printed at start)"
DEMO_CLIENT = LLMClientSpec(
    name="stackademy",
    description="A demo client created on the first start of the embedded platform.",
    app_name="Stackademy Support Bot",
    app_assistant="Stan",
    app_welcome_message="Welcome to Stackademy!",
    app_example_prompts=["What AI courses do you offer?", "Is your program free?"],
    app_placeholder="Ask me anything about Stackademy...",
    app_info_url="https://smarter.sh",
    tags=["demo"],
)


async def prepare_embedded(settings: Settings) -> None:
    """Migrate an SQLite database and, with SMARTER_DEMO on, make sure the demo exists."""
    from smarter.adapters.sql.migrations import upgrade_to_head_async
    from smarter.entrypoints.wiring import make_container

    if settings.database_url.startswith("sqlite"):
        await upgrade_to_head_async(settings.database_url)
    if not settings.demo:
        return
    container = make_container(settings)
    try:
        async with container() as request:
            token, client = await _ensure_demo(request, settings.openai_api_key is not None)
            password = await _demo_password(request)
        client = await _provision_now(container, settings, client)
    finally:
        await container.close()
    print(banner(settings, token, client, password), flush=True)


async def _demo_password(request: AsyncContainer) -> str:
    """Like the token, a new demo password at each start (only its hash is stored)."""
    password = secrets.token_urlsafe(12)
    await (await request.get(sign_in.SetPassword))(DEMO_ACCOUNT, DEMO_ADMIN, password)
    return password


async def _ensure_demo(request: AsyncContainer, openai: bool) -> tuple[str, LLMClient]:
    uow: UnitOfWork = await request.get(UnitOfWork)
    try:
        await uow.accounts.get(DEMO_ACCOUNT)
    except NotFound:
        create = await request.get(accounts.CreateAccount)
        await create(name="Demo", admin_username=DEMO_ADMIN, number=DEMO_ACCOUNT)
    principal = await (await request.get(accounts.ActAs))(DEMO_ACCOUNT)
    # Only hashes are stored, so each start revokes the last demo token and prints a new one.
    revoke = await request.get(accounts.RevokeToken)
    for old in await (await request.get(accounts.ListTokens))(principal):
        if old.name == DEMO_TOKEN_NAME and old.is_active and old.id is not None:
            await revoke(principal, old.id)
    token = await (await request.get(accounts.IssueToken))(principal, DEMO_TOKEN_NAME)
    client = await uow.clients.get_by_name(DEMO_ACCOUNT, DEMO_CLIENT.name)
    if client is None:
        # The offline echo model unless an OpenAI key is configured.
        spec = msgspec.structs.replace(DEMO_CLIENT, provider="openai" if openai else "echo")
        client = await (await request.get(llm_clients.CreateLLMClient))(principal, spec)
    if not client.deployed and client.id is not None:
        client = await (await request.get(llm_clients.DeployLLMClient))(principal, client.id)
    return token.plaintext, client


async def _provision_now(
    container: AsyncContainer, settings: Settings, client: LLMClient
) -> LLMClient:
    """Without Redis, run the deploy's jobs here, so the printed URLs answer at once."""
    from smarter.entrypoints.worker import EmbeddedProvisioning

    if settings.redis_url or client.id is None:
        return client  # a `smarter worker` provisions it
    embedded = EmbeddedProvisioning(container, settings)
    await embedded.start(sweep=False)
    try:
        await embedded.run_pending(wait_seconds=10.0)
    except TimeoutError:
        pass  # still waiting for something: `serve` carries on with it
    finally:
        await embedded.stop()
    async with container() as request:
        uow: UnitOfWork = await request.get(UnitOfWork)
        return await uow.clients.get(DEMO_ACCOUNT, client.id)


def banner(settings: Settings, token: str, client: LLMClient, password: str) -> str:
    console = f"{settings.platform.scheme}://{settings.platform.console_domain}"
    local_host = f"{client.rfc1034_compliant_name}.{DEMO_ACCOUNT}.api.localhost:{settings.port}"
    ready = "ready" if client.is_provisioned else "not ready yet (the worker provisions it)"
    question = '{"messages": [{"role": "user", "content": "Hello, who are you?"}]}'
    return "\n".join(
        [
            "",
            f"Smarter is starting ({settings.environment.value}, {settings.database_url})",
            f"  web console:   {console}/   (sign in: account {DEMO_ACCOUNT},"
            f" username {DEMO_ADMIN}, password {password})",
            f"  console API:   {console}/api/v1/   (docs: {console}/api/docs)",
            f"  demo account:  {DEMO_ACCOUNT}   token: {token}",
            f"  demo client:   {client.name} (id {client.id}, provider {client.provider}, {ready})",
            f"    chat page:   http://{local_host}/",
            f"    default url: {client.default_url}",
            f"    sandbox url: {client.sandbox_url}",
            "  try:",
            f"    curl -s http://{local_host}/llm-client/ -H 'Content-Type: application/json' \\",
            f"      -d '{question}'",
            f"    curl -s -H 'Authorization: Token {token}' {console}/api/v1/llm-clients/",
            "",
        ]
    )

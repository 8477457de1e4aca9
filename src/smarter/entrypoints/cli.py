"""The `smarter` command: serve the platform, migrate its database, manage accounts and clients.

Management commands talk to the application layer directly (not over HTTP) and act as the
account's first admin, or as `--as USER`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from dishka import AsyncContainer

from smarter.application import (
    accounts,
    api_keys,
    custom_domains,
    llm_clients,
    manifests,
    sign_in,
)
from smarter.application.ports import ClientFilter, UnitOfWork
from smarter.application.views import (
    client_view,
    custom_domain_view,
    secret_view,
    status_view,
    user_view,
)
from smarter.domain.account_number import parse_account_number
from smarter.domain.accounts import Principal
from smarter.domain.environments import Environment
from smarter.domain.errors import DomainError, NotFound
from smarter.entrypoints.cli_webhooks import add_webhook_commands
from smarter.entrypoints.output import FORMATS, emit
from smarter.entrypoints.settings import ConfigurationError, Settings, load_settings

T = TypeVar("T")
CLIENT_COLUMNS = ("id", "name", "deployed", "dns_verification_status", "ready", "default_url")
DOMAIN_COLUMNS = ("id", "domain_name", "is_verified", "name_servers")


def _run(settings: Settings, work: Callable[[AsyncContainer], Awaitable[T]]) -> T:
    """Run `work` inside one request scope of a fresh container."""
    from smarter.entrypoints.wiring import make_container

    async def main() -> T:
        container = make_container(settings)
        try:
            async with container() as request:
                return await work(request)
        finally:
            await container.close()

    return asyncio.run(main())


async def _principal(request: AsyncContainer, args: argparse.Namespace) -> Principal:
    act_as = await request.get(accounts.ActAs)
    return await act_as(parse_account_number(args.account), args.as_user)


async def _client_id(request: AsyncContainer, principal: Principal, ref: str) -> int:
    """A client given by id or by name."""
    if ref.isdigit():
        return int(ref)
    uow: UnitOfWork = await request.get(UnitOfWork)
    client = await uow.clients.get_by_name(principal.account_number, ref)
    if client is None or client.id is None:
        raise NotFound(f"no LLMClient named '{ref}'")
    return client.id


# -- commands -------------------------------------------------------------------------------


def serve(settings: Settings, args: argparse.Namespace) -> None:
    import uvicorn

    from smarter.entrypoints.demo import prepare_embedded
    from smarter.entrypoints.http.app import create_app

    asyncio.run(prepare_embedded(settings))
    uvicorn.run(
        create_app(settings, embedded_worker=settings.redis_url is None, freeze_heap=True),
        host=args.host or settings.bind_host,
        port=args.port or settings.port,
        log_level=settings.log_level,
        log_config=None,  # uvicorn's lines go through the app's logging (JSON outside local)
        timeout_graceful_shutdown=round(settings.shutdown_timeout_seconds),
    )


def worker(settings: Settings, _args: argparse.Namespace) -> None:
    from smarter.entrypoints.log_format import configure_logging
    from smarter.entrypoints.worker import run_worker

    configure_logging(settings.log_level, structured=settings.environment is not Environment.LOCAL)
    asyncio.run(run_worker(settings))


def db_upgrade(settings: Settings, _args: argparse.Namespace) -> None:
    from smarter.adapters.sql.migrations import upgrade_to_head

    upgrade_to_head(settings.database_url)
    print("database upgraded to the latest schema")


def accounts_create(settings: Settings, args: argparse.Namespace) -> None:
    async def work(request: AsyncContainer) -> accounts.CreatedAccount:
        create = await request.get(accounts.CreateAccount)
        number = parse_account_number(args.number) if args.number else None
        return await create(name=args.name, admin_username=args.admin, number=number)

    created = _run(settings, work)
    result = {
        "account_number": created.account.account_number,
        "admin": created.admin.username,
        "token": created.token.plaintext,
    }
    emit(result, args.output, ("account_number", "admin", "token"))


def users_create(settings: Settings, args: argparse.Namespace) -> None:
    async def work(request: AsyncContainer) -> dict[str, Any]:
        principal = await _principal(request, args)
        create = await request.get(accounts.CreateUser)
        new = accounts.NewUser(
            username=args.username, email=args.email, is_account_admin=args.admin
        )
        user, token = await create(principal, new)
        return {**_builtins(user_view(user)), "token": token.plaintext}

    emit(_run(settings, work), args.output, ("id", "username", "is_account_admin", "token"))


def users_set_password(settings: Settings, args: argparse.Namespace) -> None:
    import getpass

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"new password for {args.username}: ")
        if password != getpass.getpass("again: "):
            raise ConfigurationError("the two passwords differ; nothing was changed")

    async def work(request: AsyncContainer) -> Any:
        set_password = await request.get(sign_in.SetPassword)
        return await set_password(parse_account_number(args.account), args.username, password)

    user = _run(settings, work)
    print(f"password set for {user.username} in account {user.account_number}")


def users_invite(settings: Settings, args: argparse.Namespace) -> None:
    async def work(request: AsyncContainer) -> Any:
        principal = await _principal(request, args)
        user = await (await request.get(UnitOfWork)).users.find(
            principal.account_number, args.username
        )
        if user is None or user.id is None:
            raise NotFound(f"no user {args.username} in account {principal.account_number}")
        return await (await request.get(sign_in.InviteUser))(principal, user.id)

    issued = _run(settings, work)
    console = f"{settings.platform.scheme}://{settings.platform.console_domain}"
    link = f"{console}/invitations/{issued.plaintext}"
    emit(
        {"username": issued.user.username, "invitation_url": link},
        args.output,
        ("username", "invitation_url"),
    )


def clients_list(settings: Settings, args: argparse.Namespace) -> None:
    async def work(request: AsyncContainer) -> list[Any]:
        principal = await _principal(request, args)
        page = await (await request.get(llm_clients.ListLLMClients))(
            principal, ClientFilter(limit=200)
        )
        return [client_view(c) for c in page.items]

    emit(_run(settings, work), args.output, CLIENT_COLUMNS)


def clients_get(settings: Settings, args: argparse.Namespace) -> None:
    async def work(request: AsyncContainer) -> Any:
        principal = await _principal(request, args)
        client_id = await _client_id(request, principal, args.client)
        if args.output == "manifest":
            return await (await request.get(manifests.GetManifest))(principal, client_id)
        status = await (await request.get(llm_clients.GetClientStatus))(principal, client_id)
        return {
            **_builtins(client_view(status.client)),
            "events": _builtins(status_view(status.client, status.events).events),
        }

    fmt = "yaml" if args.output in ("manifest", "table") else args.output
    emit(_run(settings, work), fmt)


def clients_apply(settings: Settings, args: argparse.Namespace) -> None:
    from smarter.entrypoints.manifest_yaml import load_manifest

    text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text()

    async def work(request: AsyncContainer) -> manifests.Applied:
        principal = await _principal(request, args)
        return await (await request.get(manifests.ApplyManifest))(principal, load_manifest(text))

    applied = _run(settings, work)
    if args.output == "table":
        verb = "created" if applied.created else "configured"
        print(f"llmclient/{applied.client.name} {verb} (id {applied.client.id})")
    else:
        emit(client_view(applied.client), args.output)


def _client_action(
    use_case: type[Any], done: str
) -> Callable[[Settings, argparse.Namespace], None]:
    def command(settings: Settings, args: argparse.Namespace) -> None:
        async def work(request: AsyncContainer) -> Any:
            principal = await _principal(request, args)
            client_id = await _client_id(request, principal, args.client)
            return await (await request.get(use_case))(principal, client_id)

        result = _run(settings, work)
        if result is None or args.output == "table":
            print(f"llmclient {args.client} {done}")
        else:
            emit(client_view(result), args.output)

    return command


def api_keys_add(settings: Settings, args: argparse.Namespace) -> None:
    async def work(request: AsyncContainer) -> dict[str, Any]:
        principal = await _principal(request, args)
        client_id = await _client_id(request, principal, args.client)
        created = await (await request.get(api_keys.CreateAPIKey))(principal, client_id, args.name)
        return {**_builtins(secret_view(created.key)), "api_key": created.plaintext}

    emit(_run(settings, work), args.output, ("id", "name", "llm_client_id", "api_key"))


def domains_register(settings: Settings, args: argparse.Namespace) -> None:
    async def work(request: AsyncContainer) -> Any:
        principal = await _principal(request, args)
        register = await request.get(custom_domains.RegisterCustomDomain)
        return custom_domain_view(await register(principal, args.domain))

    emit(_run(settings, work), args.output, DOMAIN_COLUMNS)


def domains_verify(settings: Settings, args: argparse.Namespace) -> None:
    async def work(request: AsyncContainer) -> Any:
        principal = await _principal(request, args)
        verify = await request.get(custom_domains.RequestDomainVerification)
        return custom_domain_view(await verify(principal, int(args.domain_id)))

    emit(_run(settings, work), args.output, DOMAIN_COLUMNS)


def domains_list(settings: Settings, args: argparse.Namespace) -> None:
    async def work(request: AsyncContainer) -> list[Any]:
        principal = await _principal(request, args)
        domains = await (await request.get(custom_domains.ListCustomDomains))(principal)
        return [custom_domain_view(d) for d in domains]

    emit(_run(settings, work), args.output, DOMAIN_COLUMNS)


def _builtins(value: Any) -> Any:
    import msgspec

    return msgspec.to_builtins(value)


# -- parser ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smarter", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        group: Any,
        name: str,
        handler: Callable[[Settings, argparse.Namespace], None],
        help_text: str,
        *,
        account: bool = True,
        formats: Sequence[str] = FORMATS,
    ) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = group.add_parser(name, help=help_text)
        sub.set_defaults(handler=handler)
        sub.add_argument("-o", "--output", choices=formats, default="table")
        if account:
            sub.add_argument("--account", required=True, help="account number ####-####-####")
            sub.add_argument("--as", dest="as_user", help="act as this user (default: admin)")
        return sub

    serve_cmd = command(commands, "serve", serve, "run the HTTP server", account=False)
    serve_cmd.add_argument("--host", help="address to bind (default SMARTER_BIND_HOST)")
    serve_cmd.add_argument("--port", type=int, help="port to bind (default SMARTER_PORT)")

    command(commands, "worker", worker, "run the provisioning worker (SAQ on Redis)", account=False)

    db = commands.add_parser("db", help="database schema").add_subparsers(required=True)
    command(db, "upgrade", db_upgrade, "migrate the database to the latest schema", account=False)

    accts = commands.add_parser("accounts", help="accounts").add_subparsers(required=True)
    create = command(accts, "create", accounts_create, "create an account", account=False)
    create.add_argument("--name", default="")
    create.add_argument("--admin", default="admin", help="the first admin's username")
    create.add_argument("--number", help="a chosen account number (default: random)")

    users = commands.add_parser("users", help="users").add_subparsers(required=True)
    user = command(users, "create", users_create, "add a user to an account")
    user.add_argument("--username", required=True)
    user.add_argument("--email", default="")
    user.add_argument("--admin", action="store_true", help="make the user an account admin")
    password = command(
        users,
        "set-password",
        users_set_password,
        "set a user's console password",
        formats=("table",),
    )
    password.add_argument("--username", required=True)
    password.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    invite = command(users, "invite", users_invite, "print a one-time link to set a password")
    invite.add_argument("--username", required=True)

    clients = commands.add_parser("clients", help="LLMClients").add_subparsers(required=True)
    command(clients, "list", clients_list, "list the account's clients")
    get = command(clients, "get", clients_get, "show a client", formats=(*FORMATS, "manifest"))
    get.add_argument("client", help="id or name")
    apply = command(clients, "apply", clients_apply, "create or update from a manifest")
    apply.add_argument("-f", "--file", required=True, help="manifest YAML file, or - for stdin")
    actions = (
        ("deploy", llm_clients.DeployLLMClient, "deploy requested"),
        ("undeploy", llm_clients.UndeployLLMClient, "undeploy requested"),
        ("delete", llm_clients.DeleteLLMClient, "deleted"),
    )
    for name, use_case, done in actions:
        sub = command(clients, name, _client_action(use_case, done), f"{name} a client")
        sub.add_argument("client", help="id or name")

    keys = commands.add_parser("api-keys", help="client API keys").add_subparsers(required=True)
    add = command(keys, "add", api_keys_add, "create an API key (shown once)")
    add.add_argument("--client", required=True, help="id or name")
    add.add_argument("--name", default="cli")

    domains = commands.add_parser("domains", help="custom domains").add_subparsers(required=True)
    command(domains, "register", domains_register, "register a domain").add_argument("domain")
    command(domains, "verify", domains_verify, "check a domain again").add_argument("domain_id")
    command(domains, "list", domains_list, "list the account's domains")
    add_webhook_commands(commands, command, _run, _principal)

    from smarter.entrypoints.cli_hostnames import add_hostname_commands

    add_hostname_commands(commands, command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        args.handler(settings, args)
    except ConfigurationError as error:
        print(f"smarter: configuration error: {error}", file=sys.stderr)
        return 2
    except DomainError as error:
        print(f"smarter: {error.message}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"smarter: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

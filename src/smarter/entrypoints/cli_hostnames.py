"""`smarter hostnames ...`: point a hostname at a client by CNAME, see the records to set and
what the last check found, check again, remove."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from dishka import AsyncContainer

from smarter.application import custom_hostnames as use_cases
from smarter.application.custom_hostnames import CustomHostnameView, custom_hostname_view
from smarter.entrypoints.output import emit, table
from smarter.entrypoints.settings import Settings

COLUMNS = ("id", "hostname", "llm_client_id", "is_verified", "checked_at", "last_check_message")
RECORD_COLUMNS = ("name", "type", "values", "found", "ok")


def add_hostname_commands(commands: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    group = commands.add_parser("hostnames", help="custom hostnames (CNAME)")
    hostnames = group.add_subparsers(required=True)
    add = command(hostnames, "add", hostnames_add, "point a hostname at a client")
    add.add_argument("--client", required=True, help="id or name")
    add.add_argument("hostname")
    command(hostnames, "list", hostnames_list, "list the account's hostnames")
    for name, handler, help_text in (
        ("show", hostnames_show, "the records to set and what the last check found"),
        ("verify", hostnames_verify, "check the records again now"),
        ("remove", hostnames_remove, "stop serving the client on the hostname"),
    ):
        command(hostnames, name, handler, help_text).add_argument("hostname", help="id or name")


def hostnames_add(settings: Settings, args: argparse.Namespace) -> None:
    async def work(request: AsyncContainer) -> CustomHostnameView:
        principal = await _cli()._principal(request, args)
        client_id = await _cli()._client_id(request, principal, args.client)
        register = await request.get(use_cases.RegisterCustomHostname)
        hostname = await register(principal, args.hostname, client_id)
        return custom_hostname_view(hostname, await request.get(use_cases.HostnameSetup))

    _show(_cli()._run(settings, work), args.output)


def hostnames_list(settings: Settings, args: argparse.Namespace) -> None:
    async def work(request: AsyncContainer) -> list[CustomHostnameView]:
        principal = await _cli()._principal(request, args)
        found = await (await request.get(use_cases.ListCustomHostnames))(principal)
        setup = await request.get(use_cases.HostnameSetup)
        return [custom_hostname_view(hostname, setup) for hostname in found]

    emit(_cli()._run(settings, work), args.output, COLUMNS)


def hostnames_show(settings: Settings, args: argparse.Namespace) -> None:
    _show(_cli()._run(settings, _one(args, use_cases.GetCustomHostname)), args.output)


def hostnames_verify(settings: Settings, args: argparse.Namespace) -> None:
    _show(_cli()._run(settings, _one(args, use_cases.RequestHostnameVerification)), args.output)


def hostnames_remove(settings: Settings, args: argparse.Namespace) -> None:
    async def work(request: AsyncContainer) -> None:
        principal = await _cli()._principal(request, args)
        hostname_id = await _hostname_id(request, principal, args.hostname)
        await (await request.get(use_cases.DeleteCustomHostname))(principal, hostname_id)

    _cli()._run(settings, work)
    print(f"{args.hostname}: removed")


def _one(args: argparse.Namespace, use_case: type[Any]) -> Any:
    async def work(request: AsyncContainer) -> CustomHostnameView:
        principal = await _cli()._principal(request, args)
        hostname_id = await _hostname_id(request, principal, args.hostname)
        hostname = await (await request.get(use_case))(principal, hostname_id)
        return custom_hostname_view(hostname, await request.get(use_cases.HostnameSetup))

    return work


async def _hostname_id(request: AsyncContainer, principal: Any, ref: str) -> int:
    """A hostname given by id or by name."""
    if ref.isdigit():
        return int(ref)
    found = await (await request.get(use_cases.ListCustomHostnames))(principal)
    wanted = ref.lower().rstrip(".")
    for hostname in found:
        if hostname.hostname == wanted and hostname.id is not None:
            return hostname.id
    from smarter.domain.errors import NotFound

    raise NotFound(f"no custom hostname {ref}")


def _show(view: CustomHostnameView, fmt: str) -> None:
    """The hostname, then each record to set with what DNS answered at its name."""
    emit(view, fmt, COLUMNS)
    if fmt != "table":
        return
    rows = [
        {**record, "values": " ".join(record["values"]), "found": " ".join(record["found"])}
        for record in (_builtins(r) for r in view.records_to_set)
    ]
    sys.stdout.write("\nrecords to set at your DNS provider:\n")
    sys.stdout.write(table(rows, RECORD_COLUMNS))


def _builtins(value: Any) -> dict[str, Any]:
    import msgspec

    converted: dict[str, Any] = msgspec.to_builtins(value)
    return converted


def _cli() -> Any:
    """The CLI's shared helpers (imported late: cli.py registers these commands)."""
    from smarter.entrypoints import cli

    return cli

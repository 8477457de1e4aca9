"""`smarter webhooks ...`: an account's webhook endpoints and their deliveries.

`add` and `rotate-secret` print the signing secret; it is not shown again.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from dishka import AsyncContainer

from smarter.application import webhooks
from smarter.application.webhook_ports import DeliveryFilter
from smarter.application.webhook_views import (
    delivery_view,
    endpoint_view,
    endpoint_with_secret_view,
)
from smarter.domain.accounts import Principal
from smarter.domain.errors import InvalidValue
from smarter.domain.webhooks import DeliveryStatus, WebhookEventType
from smarter.entrypoints.output import emit
from smarter.entrypoints.settings import Settings

Work = Callable[[AsyncContainer], Awaitable[Any]]
Run = Callable[[Settings, Work], Any]
Principals = Callable[[AsyncContainer, argparse.Namespace], Awaitable[Principal]]
Command = Callable[..., argparse.ArgumentParser]

ENDPOINT_COLUMNS = ("id", "url", "event_types", "enabled", "description")
DELIVERY_COLUMNS = ("id", "event_type", "status", "attempt_count", "codes", "next_attempt_at")


def _event_types(raw: str) -> tuple[WebhookEventType, ...]:
    names = [name.strip() for name in raw.split(",") if name.strip()]
    try:
        return tuple(WebhookEventType(name) for name in names)
    except ValueError:
        known = ", ".join(WebhookEventType)
        raise InvalidValue("events", f"'{raw}' names an unknown event; known: {known}") from None


def add_webhook_commands(commands: Any, command: Command, run: Run, principal: Principals) -> None:
    """Add the `webhooks` group to the `smarter` parser."""

    def use(
        build: Callable[[AsyncContainer, Principal, argparse.Namespace], Awaitable[Any]],
        columns: tuple[str, ...] = (),
    ) -> Callable[[Settings, argparse.Namespace], None]:
        def handler(settings: Settings, args: argparse.Namespace) -> None:
            async def work(request: AsyncContainer) -> Any:
                return await build(request, await principal(request, args), args)

            emit(run(settings, work), args.output, columns)

        return handler

    async def add(request: AsyncContainer, who: Principal, args: argparse.Namespace) -> Any:
        new = webhooks.NewWebhookEndpoint(
            url=args.url, event_types=_event_types(args.events), description=args.description
        )
        registered = await (await request.get(webhooks.RegisterWebhookEndpoint))(who, new)
        return endpoint_with_secret_view(registered)

    async def listed(request: AsyncContainer, who: Principal, _: argparse.Namespace) -> Any:
        return [
            endpoint_view(e) for e in await (await request.get(webhooks.ListWebhookEndpoints))(who)
        ]

    async def delete(request: AsyncContainer, who: Principal, args: argparse.Namespace) -> Any:
        await (await request.get(webhooks.DeleteWebhookEndpoint))(who, args.endpoint_id)
        return {"id": args.endpoint_id, "deleted": True}

    async def rotate(request: AsyncContainer, who: Principal, args: argparse.Namespace) -> Any:
        rotated = await (await request.get(webhooks.RotateWebhookSecret))(who, args.endpoint_id)
        return endpoint_with_secret_view(rotated)

    async def deliveries(request: AsyncContainer, who: Principal, args: argparse.Namespace) -> Any:
        status = DeliveryStatus(args.status) if args.status else None
        query = DeliveryFilter(status=status, limit=args.limit)
        found = await (await request.get(webhooks.ListWebhookDeliveries))(
            who, args.endpoint_id, query
        )
        views = [msgspec.to_builtins(delivery_view(d)) for d in found]
        if args.output == "table":  # one line each: the attempts' codes (or "error")
            for view in views:
                view["codes"] = [a.get("status_code") or "error" for a in view["attempts"]]
        return views

    group = commands.add_parser("webhooks", help="webhook endpoints").add_subparsers(required=True)
    created = command(group, "add", use(add, (*ENDPOINT_COLUMNS, "secret")), "register an endpoint")
    created.add_argument("--url", required=True, help="https:// URL that receives the events")
    created.add_argument(
        "--events", required=True, help=f"comma-separated, of: {', '.join(WebhookEventType)}"
    )
    created.add_argument("--description", default="")
    command(group, "list", use(listed, ENDPOINT_COLUMNS), "list the account's endpoints")
    for name, build, text in (
        ("delete", delete, "delete an endpoint and its deliveries"),
        ("rotate-secret", rotate, "a new signing secret (printed once)"),
    ):
        columns = ("id", "deleted") if name == "delete" else (*ENDPOINT_COLUMNS, "secret")
        command(group, name, use(build, columns), text).add_argument("endpoint_id", type=int)
    sent = command(
        group, "deliveries", use(deliveries, DELIVERY_COLUMNS), "an endpoint's deliveries"
    )
    sent.add_argument("endpoint_id", type=int)
    sent.add_argument("--status", choices=[s.value for s in DeliveryStatus])
    sent.add_argument("--limit", type=int, default=20)

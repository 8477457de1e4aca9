"""The webhook sender: runs beside the jobs in `smarter worker` (and in `serve` for the
embedded default), until cancelled.

Every `poll_seconds` (at once while a full batch was due) it claims up to `concurrency` due
deliveries and sends them concurrently, each in its own request scope; once an hour it
forgets finished deliveries past their retention. Several processes may run it: claims are
leased, so a delivery is sent by one of them at a time.
"""

from __future__ import annotations

import asyncio
import logging
import time

from dishka import AsyncContainer

from smarter.application.webhook_delivery import (
    ClaimDueWebhooks,
    DeliverWebhook,
    PruneWebhookDeliveries,
)

logger = logging.getLogger(__name__)

PRUNE_EVERY_SECONDS = 3600.0


async def deliver_webhooks(
    container: AsyncContainer, *, poll_seconds: float = 1.0, concurrency: int = 16
) -> None:
    pruned_at = time.monotonic()
    while True:
        try:
            sent = await deliver_due(container, concurrency)
            if time.monotonic() - pruned_at >= PRUNE_EVERY_SECONDS:
                pruned_at = time.monotonic()
                await _prune(container)
        except Exception:
            logger.exception("sending webhooks failed; trying again")
            sent = 0
        if sent < concurrency:
            await asyncio.sleep(poll_seconds)


async def deliver_due(container: AsyncContainer, limit: int) -> int:
    """Claim up to `limit` due deliveries and send each once; how many were claimed."""
    async with container() as request:
        claimed = await (await request.get(ClaimDueWebhooks))(limit)
    await asyncio.gather(*(_deliver(container, delivery_id) for delivery_id in claimed))
    return len(claimed)


async def _deliver(container: AsyncContainer, delivery_id: int) -> None:
    try:
        async with container() as request:
            await (await request.get(DeliverWebhook))(delivery_id)
    except Exception:  # its lease runs out and it is sent again
        logger.exception("webhook delivery %s failed unexpectedly", delivery_id)


async def _prune(container: AsyncContainer) -> None:
    async with container() as request:
        prune = await request.get(PruneWebhookDeliveries)
        while await prune() > 0:
            pass

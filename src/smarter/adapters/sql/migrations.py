"""Running the repository's Alembic migrations from code (the CLI, the run command, tests)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

# src/smarter/adapters/sql/migrations.py -> the repository root (the project is installed
# editable, so the source tree and its alembic/ folder are where this file is).
REPOSITORY_ROOT = Path(__file__).resolve().parents[4]
SCRIPT_LOCATION = REPOSITORY_ROOT / "alembic"


def alembic_config(url: str) -> Config:
    """The Alembic configuration for `url`, without alembic.ini's logging set-up.

    The URL travels as an attribute, not as the `sqlalchemy.url` option, so that a `%` in a
    password needs no escaping; `alembic/env.py` reads it from there.
    """
    if not (SCRIPT_LOCATION / "env.py").is_file():
        raise RuntimeError(f"no Alembic scripts at {SCRIPT_LOCATION}; is Smarter installed -e?")
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.set_main_option("path_separator", "os")
    config.attributes["database_url"] = url
    return config


def upgrade_to_head(url: str) -> None:
    """`alembic upgrade head` against `url`. Blocks; it must not run inside an event loop."""
    command.upgrade(alembic_config(url), "head")


async def upgrade_to_head_async(url: str) -> None:
    """`upgrade_to_head` from inside a running event loop (it runs in a worker thread)."""
    await asyncio.to_thread(upgrade_to_head, url)

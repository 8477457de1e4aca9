"""Running the Alembic migrations from code (the CLI, the run command, tests)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

_HERE = Path(__file__).resolve().parent
# The migrations live in the repository's top-level alembic/ folder. A built package (wheel,
# image) carries that folder as `migration_scripts/` beside this module (setup.py maps it); an
# editable install runs from the source tree, where the folder is at the repository root.
_LOCATIONS = (_HERE / "migration_scripts", _HERE.parents[3] / "alembic")


def script_location() -> Path:
    """The folder of `env.py` and `versions/`."""
    for location in _LOCATIONS:
        if (location / "env.py").is_file():
            return location
    raise RuntimeError(f"no Alembic scripts in {' or '.join(map(str, _LOCATIONS))}")


def alembic_config(url: str) -> Config:
    """The Alembic configuration for `url`, without alembic.ini's logging set-up.

    The URL travels as an attribute, not as the `sqlalchemy.url` option, so that a `%` in a
    password needs no escaping; `alembic/env.py` reads it from there.
    """
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    config.set_main_option("path_separator", "os")
    config.attributes["database_url"] = url
    return config


def upgrade_to_head(url: str) -> None:
    """`alembic upgrade head` against `url`. Blocks; it must not run inside an event loop."""
    command.upgrade(alembic_config(url), "head")


async def upgrade_to_head_async(url: str) -> None:
    """`upgrade_to_head` from inside a running event loop (it runs in a worker thread)."""
    await asyncio.to_thread(upgrade_to_head, url)

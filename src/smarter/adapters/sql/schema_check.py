"""The database's readiness: reachable, and migrated to the revision this code needs (the head
of the migrations it ships).

A process of a new release is not ready until the release's migration ran. A process of the
previous release stays ready when the database is at a revision it does not know: a later
release migrated it during a rolling update, and migrations only add what old code can ignore.
"""

from __future__ import annotations

import asyncio

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine

from smarter.adapters.sql.migrations import alembic_config

UPGRADE_HINT = "run `smarter db upgrade`"


class SqlSchemaCheck:
    name = "database"

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._scripts: ScriptDirectory | None = None

    async def problem(self) -> str | None:
        scripts = await self._script_directory()
        try:
            async with self._engine.connect() as connection:
                rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
                current = {str(row[0]) for row in rows}
        except ProgrammingError:  # no alembic_version table (SQLite says OperationalError)
            return f"not migrated: the database has no schema ({UPGRADE_HINT})"
        except (DBAPIError, OSError) as error:
            if "no such table" in str(error):
                return f"not migrated: the database has no schema ({UPGRADE_HINT})"
            return f"unreachable: {_reason(error)}"
        heads = set(scripts.get_heads())
        if current == heads or (current and not any(_knows(scripts, r) for r in current)):
            return None
        at = ", ".join(sorted(current)) or "no revision"
        needs = ", ".join(sorted(heads))
        return f"not migrated: at {at}, this release needs {needs} ({UPGRADE_HINT})"

    async def _script_directory(self) -> ScriptDirectory:
        if self._scripts is None:  # reads the migration files once, off the event loop
            self._scripts = await asyncio.to_thread(ScriptDirectory.from_config, alembic_config(""))
        return self._scripts


def _knows(scripts: ScriptDirectory, revision: str) -> bool:
    try:
        return scripts.get_revision(revision) is not None
    except CommandError:
        return False


def _reason(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    first_line = (str(original).splitlines() or [""])[0]
    return f"{type(original).__name__}: {first_line}".rstrip(": ")

"""Writing under the database's constraints: a broken one becomes the domain's error.

Each write runs in a SAVEPOINT and is flushed there, so a uniqueness violation surfaces in the
repository call that caused it (as Conflict) and leaves the unit of work usable: only the
savepoint is rolled back, the rest of the transaction stays.

The violation is recognised from advanced-alchemy's DuplicateKeyError/ForeignKeyError where it
classified it, else from the SQLSTATE (PostgreSQL) or message (SQLite) of the driver's error:
advanced-alchemy matches PostgreSQL's messages by their DETAIL line, which asyncpg's errors
do not carry under SQLAlchemy 2.1, so it reports them as a plain IntegrityError.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from advanced_alchemy.exceptions import DuplicateKeyError, ForeignKeyError, RepositoryError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from smarter.domain.errors import Conflict, NotFound

# SQLSTATE (PostgreSQL) and message (SQLite) of the violations we translate.
_UNIQUE = ("23505", "UNIQUE constraint failed")
_FOREIGN_KEY = ("23503", "FOREIGN KEY constraint failed")

Describe = Callable[[], Awaitable[str]]


@asynccontextmanager
async def guarded_write(
    session: AsyncSession, conflict: str | Describe, missing: str = "a referenced object"
) -> AsyncIterator[None]:
    """Run the block's changes in a savepoint and flush them.

    A unique violation raises Conflict with `conflict` (a message, or a coroutine function
    that looks up a better one after the savepoint is rolled back); a foreign-key violation
    raises NotFound naming `missing`. Other errors propagate unchanged.
    """
    try:
        # begin_nested() flushes what is pending first, outside the savepoint: the block's
        # own changes must therefore be made inside it (callers add rows in the block).
        async with session.begin_nested():
            yield
            await session.flush()
    except (IntegrityError, RepositoryError) as error:
        kind = _kind(error)
        if kind == "unique":
            message = conflict if isinstance(conflict, str) else await conflict()
            raise Conflict(message) from error
        if kind == "foreign_key":
            raise NotFound(f"{missing} does not exist") from error
        raise


def _kind(error: IntegrityError | RepositoryError) -> str | None:
    if isinstance(error, DuplicateKeyError):
        return "unique"
    if isinstance(error, ForeignKeyError):
        return "foreign_key"
    integrity = error if isinstance(error, IntegrityError) else error.__cause__
    if not isinstance(integrity, IntegrityError):
        return None
    original = integrity.orig
    code = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    text = str(original)
    if code == _UNIQUE[0] or _UNIQUE[1] in text:
        return "unique"
    if code == _FOREIGN_KEY[0] or _FOREIGN_KEY[1] in text:
        return "foreign_key"
    return None

"""Console sessions: a random id in an HttpOnly cookie, the session itself in a Store.

Litestar's `Store` holds them (the database, or Redis when configured) under a hash of the
cookie's id, so a copy of the store opens no session. A new id is made at every sign-in and
the old session is deleted, so an id planted before sign-in is worth nothing. Sessions end at
sign-out or `console_session_hours` after sign-in, whichever comes first.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from typing import Any

import msgspec
from dishka import AsyncContainer
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.stores.base import Store

from smarter.application.errors import Unauthenticated
from smarter.application.sign_in import CurrentUser
from smarter.domain.account_number import AccountNumber
from smarter.domain.accounts import Principal
from smarter.domain.environments import Environment
from smarter.entrypoints.settings import Settings

COOKIE = "smarter_session"
MAX_ID_LENGTH = 128


class SessionData(msgspec.Struct, frozen=True, kw_only=True):
    account_number: str
    user_id: int
    signed_in_at: datetime


class NotSignedIn(Unauthenticated):
    """A console page was asked for without a live session."""


def _key(session_id: str) -> str:
    return "console:" + hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def session_cookie(settings: Settings, value: str, max_age: int) -> Cookie:
    return Cookie(
        key=COOKIE,
        value=value,
        max_age=max_age,
        path="/",
        httponly=True,
        secure=settings.environment is not Environment.LOCAL,
        samesite="lax",
    )


async def _store(connection: ASGIConnection[Any, Any, Any, Any]) -> Store:
    container: AsyncContainer = connection.state.dishka_container
    store: Store = await container.get(Store)
    return store


def _settings(connection: ASGIConnection[Any, Any, Any, Any]) -> Settings:
    settings: Settings = connection.app.state.settings
    return settings


async def start_session(
    request: Request[Any, Any, Any], response: Response[Any], principal: Principal
) -> None:
    """Sign `principal` in: a fresh session id, set as the cookie of `response`."""
    await end_session(request, response)
    settings = _settings(request)
    lifetime = int(settings.console_session_hours * 3600)
    session_id = secrets.token_urlsafe(32)
    data = SessionData(
        account_number=str(principal.account_number),
        user_id=principal.user_id,
        signed_in_at=datetime.now(UTC),
    )
    await (await _store(request)).set(_key(session_id), msgspec.json.encode(data), lifetime)
    response.set_cookie(session_cookie(settings, session_id, lifetime))


async def end_session(request: Request[Any, Any, Any], response: Response[Any]) -> None:
    session_id = request.cookies.get(COOKIE)
    if session_id and len(session_id) <= MAX_ID_LENGTH:
        await (await _store(request)).delete(_key(session_id))
    response.set_cookie(session_cookie(_settings(request), "", 0))


async def session_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The signed-in user of this request, or NotSignedIn."""
    session_id = connection.cookies.get(COOKIE)
    if not session_id or len(session_id) > MAX_ID_LENGTH:
        raise NotSignedIn("sign in to continue")
    raw = await (await _store(connection)).get(_key(session_id))
    if raw is None:
        raise NotSignedIn("your session has ended; sign in again")
    data = msgspec.json.decode(raw, type=SessionData)
    container: AsyncContainer = connection.state.dishka_container
    current_user = await container.get(CurrentUser)
    try:
        return await current_user(AccountNumber(data.account_number), data.user_id)
    except Unauthenticated as error:
        raise NotSignedIn(error.message) from None

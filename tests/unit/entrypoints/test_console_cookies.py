"""The console's cookies: Secure outside `local`, always HttpOnly and SameSite=Lax."""

from __future__ import annotations

import pytest

from smarter.domain.environments import Environment
from smarter.entrypoints.console.router import csrf_config
from smarter.entrypoints.console.sessions import session_cookie
from smarter.entrypoints.settings import Settings


@pytest.mark.parametrize("environment", [Environment.ALPHA, Environment.PROD])
def test_cookies_are_secure_outside_local(environment: Environment) -> None:
    settings = Settings(environment=environment, secret_key="k" * 32)

    cookie = session_cookie(settings, "id", 3600)
    csrf = csrf_config(settings)

    assert (cookie.secure, cookie.httponly, cookie.samesite) == (True, True, "lax")
    assert (csrf.cookie_secure, csrf.cookie_httponly, csrf.cookie_samesite) == (True, True, "lax")
    assert csrf.secret == "k" * 32


def test_local_cookies_work_over_plain_http() -> None:
    settings = Settings(environment=Environment.LOCAL)

    assert session_cookie(settings, "id", 3600).secure is False
    assert csrf_config(settings).cookie_secure is False

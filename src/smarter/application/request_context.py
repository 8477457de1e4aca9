"""What is being served (the request or job id, its account and client), for log lines and
for the jobs a request causes.

The HTTP entrypoint sets it from `X-Request-Id` (or makes one); the outbox stores it with each
job; the worker sets it again while it runs that job. A context variable, so that every log
line and every job written while serving a request carries the request's id without passing
it through every call.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Final

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
ACCOUNT: ContextVar[str | None] = ContextVar("account", default=None)
"""The account number a request or job acts for, once known."""
CLIENT: ContextVar[str | None] = ContextVar("client", default=None)
"""The LLMClient a chat request or job is about, once known (its name or id)."""

# A job caused by a request carries the request's id in its stored and queued documents, under
# this key beside the job's own fields (decoding a job ignores it), and runs with it set.
REQUEST_ID_FIELD: Final = "request_id"


def with_request_id(document: dict[str, Any]) -> dict[str, Any]:
    """The job document, with the current request's id when there is one."""
    request_id = REQUEST_ID.get()
    return document if request_id is None else {**document, REQUEST_ID_FIELD: request_id}


def request_id_in(document: object) -> str | None:
    value = document.get(REQUEST_ID_FIELD) if isinstance(document, dict) else None
    return value if isinstance(value, str) else None


@contextmanager
def serving(request_id: str | None) -> Iterator[None]:
    """Run the block as part of request `request_id` (a job it caused)."""
    token = REQUEST_ID.set(request_id)
    try:
        yield
    finally:
        REQUEST_ID.reset(token)

"""The id of the request (or job) being served, for logs and for the jobs a request causes.

The HTTP entrypoint sets it from `X-Request-Id` (or makes one); the outbox stores it with each
job; the worker sets it again while it runs that job. A context variable, so that every log
line and every job written while serving a request carries the request's id without passing
it through every call.
"""

from __future__ import annotations

from contextvars import ContextVar

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)

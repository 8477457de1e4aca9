"""The logging both Litestar applications set up: Litestar's own (a queue handler, so that
writing a line never blocks the event loop), at the level the settings ask for, in the format
of the environment (JSON lines outside `local`, see log_format.py). The server's own loggers
(uvicorn's access and error lines) propagate to the same handler.

Litestar's default configures the root logger at INFO whatever the settings say, so every
upstream call's `HTTP Request: POST ...` line from the openai SDK's HTTP client was formatted
and written, even with `log_level=warning`. Those per-request lines stay at WARNING: the
platform logs upstream failures itself, and the server's access log covers every request.
"""

from __future__ import annotations

from litestar.logging.config import LoggingConfig, default_handlers

from smarter.entrypoints.log_format import RequestContext, formatter

_PER_REQUEST_LOGGERS = ("httpx", "httpx2")


def logging_config(level: str, *, structured: bool = False) -> LoggingConfig:
    level = level.upper()
    handler = {**default_handlers["queue_listener"], "filters": ["context"]}
    return LoggingConfig(
        filters={"context": {"()": RequestContext}},
        formatters={"standard": formatter(structured)},
        handlers={**default_handlers, "queue_listener": handler},
        root={"handlers": ["queue_listener"], "level": level},
        loggers={
            "litestar": {"level": level, "handlers": ["queue_listener"], "propagate": False},
            **{name: {"level": "WARNING"} for name in _PER_REQUEST_LOGGERS},
        },
    )

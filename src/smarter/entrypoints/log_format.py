"""How every process writes its log lines: JSON (one object per line: time, level, logger,
message, request_id, account, client, and the exception) outside `local`, for a log pipeline;
one readable line each in `local`. The request context comes from the context variables of
`application.request_context`, read when the line is written.
"""

from __future__ import annotations

import logging
import logging.config
from typing import Any, Final

from pythonjsonlogger.core import RESERVED_ATTRS

from smarter.application.request_context import ACCOUNT, CLIENT, REQUEST_ID

CONTEXT_FIELDS: Final = ("request_id", "account", "client")
TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS: Final = "%(levelname)s %(name)s %(message)s %(request_id)s %(account)s %(client)s"


class RequestContext(logging.Filter):
    """Adds the request's id, account and client to each record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        record.account = ACCOUNT.get()
        record.client = CLIENT.get()
        return True


class ReadableFormatter(logging.Formatter):
    """The local format; `-` for a line written outside any request."""

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "request_id", None) is None:
            record.request_id = "-"
        return super().format(record)


def formatter(structured: bool) -> dict[str, Any]:
    """A `logging.config` formatter: JSON lines, or the readable local format."""
    if not structured:
        return {"()": ReadableFormatter, "fmt": TEXT_FORMAT}
    return {
        "()": "pythonjsonlogger.json.JsonFormatter",
        "fmt": JSON_FIELDS,
        "rename_fields": {"levelname": "level", "name": "logger"},
        "timestamp": "time",
        # uvicorn adds a copy of some messages with terminal colours: not for a log pipeline.
        "reserved_attrs": [*RESERVED_ATTRS, "color_message"],
    }


def configure_logging(level: str, *, structured: bool) -> None:
    """Logging for a process without Litestar's (the worker, the CLI): stderr, one format."""
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "filters": {"context": {"()": RequestContext}},
            "formatters": {"standard": formatter(structured)},
            "handlers": {
                "stderr": {
                    "class": "logging.StreamHandler",
                    "formatter": "standard",
                    "filters": ["context"],
                }
            },
            "root": {"handlers": ["stderr"], "level": level.upper()},
        }
    )

"""Log lines: JSON objects with the request's id, account and client outside `local`; one
readable line each in `local`."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator

import pytest

from smarter.application.request_context import ACCOUNT, CLIENT, REQUEST_ID
from smarter.entrypoints.log_format import RequestContext, formatter


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    output = io.StringIO()
    yield output
    logging.getLogger("smarter.test").handlers.clear()


def logger_to(stream: io.StringIO, *, structured: bool) -> logging.Logger:
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "filters": {"context": {"()": RequestContext}},
            "formatters": {"standard": formatter(structured)},
            "handlers": {
                "out": {
                    "class": "logging.StreamHandler",
                    "stream": stream,
                    "formatter": "standard",
                    "filters": ["context"],
                }
            },
            "loggers": {"smarter.test": {"handlers": ["out"], "level": "INFO", "propagate": False}},
        }
    )
    return logging.getLogger("smarter.test")


def test_a_json_line_carries_level_logger_message_and_the_request_context(
    stream: io.StringIO,
) -> None:
    log = logger_to(stream, structured=True)
    tokens = REQUEST_ID.set("edge-1"), ACCOUNT.set("3141-5926-5359"), CLIENT.set("stackademy")
    try:
        log.warning("client %s answered", "stackademy")
    finally:
        for var, token in zip((REQUEST_ID, ACCOUNT, CLIENT), tokens, strict=True):
            var.reset(token)

    line = json.loads(stream.getvalue())
    assert line["level"] == "WARNING" and line["logger"] == "smarter.test"
    assert line["message"] == "client stackademy answered"
    assert (line["request_id"], line["account"], line["client"]) == (
        "edge-1",
        "3141-5926-5359",
        "stackademy",
    )
    assert "time" in line


def test_an_exception_stays_inside_its_one_json_line(stream: io.StringIO) -> None:
    log = logger_to(stream, structured=True)
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")

    [line] = stream.getvalue().splitlines()
    record = json.loads(line)
    assert record["request_id"] is None
    assert "ValueError: boom" in record["exc_info"]


def test_a_local_line_is_readable_text_with_the_request_id(stream: io.StringIO) -> None:
    log = logger_to(stream, structured=False)
    token = REQUEST_ID.set("edge-2")
    try:
        log.info("hello")
    finally:
        REQUEST_ID.reset(token)

    text = stream.getvalue()
    assert "INFO smarter.test [edge-2] hello" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)

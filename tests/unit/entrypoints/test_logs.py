"""The applications' logging honours the configured level."""

from __future__ import annotations

from smarter.entrypoints.http.logs import logging_config


def test_the_root_and_litestar_loggers_take_the_configured_level() -> None:
    config = logging_config("warning")

    assert config.root["level"] == "WARNING"
    assert config.loggers["litestar"]["level"] == "WARNING"


def test_the_http_clients_per_request_lines_stay_quiet_even_at_info() -> None:
    config = logging_config("info")

    assert config.root["level"] == "INFO"
    assert config.loggers["httpx2"]["level"] == "WARNING"

"""`smarter serve`'s own log lines, the server's included: JSON objects outside `local`, readable
lines in `local`, each request's lines with its request id."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

SMARTER = str(Path(sys.prefix) / "bin" / "smarter")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_once(tmp_path: Path, environment: str) -> list[str]:
    """Start `smarter serve`, ask /readyz with a request id, stop it; its stderr lines."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTER_")}
    env.update(
        SMARTER_ENVIRONMENT=environment,
        SMARTER_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/smarter.db",
        SMARTER_PORT=str(port),
        SMARTER_DEMO="false",
    )
    server = subprocess.Popen(
        [SMARTER, "serve"], env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    lines: list[str] = []
    try:
        assert server.stderr is not None
        for line in server.stderr:  # wait for the server's own "running" line
            lines.append(line)
            if "Uvicorn running" in line or "listening" in line.lower():
                break
        response = httpx.get(f"http://127.0.0.1:{port}/readyz", headers={"X-Request-Id": "probe-7"})
        assert response.status_code == 200
    finally:
        server.send_signal(signal.SIGTERM)
        _, remaining = server.communicate(timeout=30)
    return lines + remaining.splitlines(keepends=True)


def test_outside_local_every_line_is_a_json_object_and_requests_carry_their_id(
    tmp_path: Path,
) -> None:
    lines = [json.loads(line) for line in serve_once(tmp_path, "alpha") if line.strip()]

    assert lines
    assert all({"level", "logger", "message", "time"} <= set(line) for line in lines)
    [access] = [line for line in lines if "/readyz" in line["message"]]
    assert access["request_id"] == "probe-7"
    assert access["logger"] == "uvicorn.access"


def test_in_local_lines_are_readable_text(tmp_path: Path) -> None:
    lines = [line for line in serve_once(tmp_path, "local") if line.strip()]

    [access] = [line for line in lines if "/readyz" in line]
    assert "[probe-7]" in access
    with pytest.raises(json.JSONDecodeError):
        json.loads(access)

"""`smarter worker` refuses to start without Redis, with a configuration error (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from smarter.entrypoints.cli import main


def test_the_worker_needs_a_redis_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SMARTER_REDIS_URL", raising=False)
    monkeypatch.setenv("SMARTER_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    assert main(["worker"]) == 2
    assert "SMARTER_REDIS_URL" in capsys.readouterr().err

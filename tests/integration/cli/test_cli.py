"""The `smarter` command against a real SQLite database, in process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smarter.entrypoints.cli import main

MANIFEST = """\
apiVersion: smarter.sh/v1
kind: LLMClient
metadata:
  name: helpdesk
  version: 1.2.0
spec:
  provider: echo
  app_name: Helpdesk
"""


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SMARTER_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/cli.db")
    assert main(["db", "upgrade"]) == 0
    return tmp_path


def test_accounts_apply_and_list_work_end_to_end_and_apply_is_idempotent(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["accounts", "create", "-o", "json"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["token"].startswith("smt_tok_")
    account = created["account_number"]
    manifest = database / "helpdesk.yaml"
    manifest.write_text(MANIFEST)

    assert main(["clients", "apply", "--account", account, "-f", str(manifest)]) == 0
    assert "created" in capsys.readouterr().out
    assert main(["clients", "apply", "--account", account, "-f", str(manifest)]) == 0
    assert "configured" in capsys.readouterr().out

    assert main(["clients", "list", "--account", account, "-o", "json"]) == 0
    clients = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in clients] == ["helpdesk"]
    assert clients[0]["version"] == "1.2.0"
    assert clients[0]["default_host"] == f"helpdesk.{account}.api.local.example.com"


def test_an_unknown_account_is_a_clear_error_not_a_traceback(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["clients", "list", "--account", "0000-0000-0001"]) == 1
    assert "no account" in capsys.readouterr().err


def test_a_bad_setting_exits_with_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SMARTER_ENVIRONMENT", "staging")
    assert main(["db", "upgrade"]) == 2
    assert "configuration error" in capsys.readouterr().err

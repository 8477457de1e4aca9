"""`pip install .` (not editable) into a fresh virtual environment gives a `smarter` command
whose `db upgrade` migrates a new database: the migrations travel inside the package.

The project's dependencies come from a wheelhouse built once per `pyproject.toml` (kept in
the test venv), so a run installs from local files; the project itself is built from a copy
of its sources each time (setuptools' `build/` folder in the tree can hold stale modules).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from smarter.adapters.sql.database import make_engine
from smarter.adapters.sql.migrations import alembic_config

from ..conftest import DIALECTS, fresh_database, run_in_thread

PROJECT = Path(__file__).resolve().parents[3]
# What an sdist of the project holds: enough to build it.
SOURCES = ("pyproject.toml", "setup.py", "README.md", "src", "alembic")
HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "-q", *args], check=True)


def _wheelhouse(project: Path) -> Path:
    """Wheels of every dependency (and of the build backend), for offline installs."""
    recipe = b"".join((PROJECT / name).read_bytes() for name in ("pyproject.toml", "setup.py"))
    folder = Path(sys.prefix) / "wheelhouse" / hashlib.sha256(recipe).hexdigest()[:16]
    if not (folder / ".complete").exists():
        _pip("wheel", "--wheel-dir", str(folder), str(project), "setuptools>=68", "wheel")
        for built in folder.glob("smarter-*.whl"):
            built.unlink()  # the project is built afresh by every run
        (folder / ".complete").touch()
    return folder


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv with the project installed from a copy of its sources; its bin folder."""
    root = tmp_path_factory.mktemp("installed")
    project = root / "project"
    for name in SOURCES:
        source = PROJECT / name
        if source.is_dir():
            shutil.copytree(source, project / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            project.mkdir(exist_ok=True)
            shutil.copy2(source, project / name)
    wheelhouse = _wheelhouse(project)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    _pip(
        "--python",
        str(venv / "bin" / "python"),
        "install",
        "--no-index",
        "--find-links",
        str(wheelhouse),
        "--no-compile",
        str(project),
    )
    yield venv / "bin"


def _clean_environment(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMARTER_", "PYTHON"))}
    return {**env, **settings}


def test_the_installed_package_is_not_the_source_tree(installed: Path, tmp_path: Path) -> None:
    found = subprocess.run(
        [
            installed / "python",
            "-c",
            "from smarter.adapters.sql.migrations import script_location; print(script_location())",
        ],
        cwd=tmp_path,
        env=_clean_environment(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    assert Path(found).is_relative_to(installed.parent)
    assert (Path(found) / "versions").is_dir()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_smarter_db_upgrade_from_the_installed_package_migrates_a_fresh_database(
    installed: Path, dialect: str, tmp_path: Path
) -> None:
    with fresh_database(dialect, tmp_path, migrate=False) as url:
        upgrade = subprocess.run(
            [installed / "smarter", "db", "upgrade"],
            cwd=tmp_path,
            env=_clean_environment(SMARTER_DATABASE_URL=url),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert upgrade.returncode == 0, upgrade.stderr
        assert "upgraded" in upgrade.stdout

        assert run_in_thread(asyncio.run, _revision(url)) == HEAD


async def _revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda c: MigrationContext.configure(c).get_current_revision()
            )
    finally:
        await engine.dispose()

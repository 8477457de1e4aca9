"""The Dockerfile's structure, checked without a Docker engine: wheels are built in a first
stage, the runtime stage installs them without compilers, dev extras or network, runs as a
non-root user, and starts `smarter`; the build context holds what the build needs and nothing
else (.dockerignore)."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.support.dockerfile import Stage, ignore_patterns, included, stages

from .test_installed_package import PROJECT, SOURCES

ARGUMENTS, STAGES = stages((PROJECT / "Dockerfile").read_text())
IGNORED = ignore_patterns(PROJECT / ".dockerignore")
COMPILERS = re.compile(r"\b(build-essential|gcc|g\+\+|clang|make|python3-dev|libpq-dev)\b")


@pytest.fixture
def build() -> Stage:
    return STAGES[0]


@pytest.fixture
def runtime() -> Stage:
    return STAGES[-1]


def _run_lines(stage: Stage) -> list[str]:
    return [i.arguments for i in stage.all("RUN")]


def test_the_image_has_a_wheel_stage_and_a_runtime_stage_on_a_slim_python(
    build: Stage, runtime: Stage
) -> None:
    assert len(STAGES) == 2
    for stage in STAGES:
        assert re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?", stage.base), stage.base
    assert any("pip wheel" in line and "--wheel-dir /wheels" in line for line in _run_lines(build))


def test_the_wheels_are_built_from_exactly_the_sources_a_pip_install_needs(build: Stage) -> None:
    copied = {word.rstrip("/") for i in build.all("COPY") for word in i.words()[:-1]}

    assert copied == set(SOURCES)


def test_the_runtime_installs_the_wheels_offline_without_compilers_or_dev_extras(
    runtime: Stage,
) -> None:
    installs = [line for line in _run_lines(runtime) if "pip install" in line]

    assert len(installs) == 1
    assert "from=wheels" in installs[0] and "--no-index" in installs[0]
    assert re.search(r"pip install .*\bsmarter$", installs[0])
    for stage in STAGES:
        for line in _run_lines(stage):
            assert "[dev]" not in line and " -e " not in line, line
    for line in _run_lines(runtime):
        assert not COMPILERS.search(line), line
    assert not runtime.all("COPY"), "the runtime copies nothing from the context or the build"


def test_the_runtime_runs_smarter_as_a_non_root_user(runtime: Stage) -> None:
    user = runtime.last("USER")
    entrypoint = runtime.last("ENTRYPOINT")
    command = runtime.last("CMD")

    assert user is not None
    name = user.arguments.split(":")[0]
    assert name not in ("root", "0")
    assert any(f"--uid {name}" in line for line in _run_lines(runtime))
    assert entrypoint is not None and entrypoint.words() == ["smarter"]
    assert command is not None and command.words() == ["serve"]


def test_the_image_listens_on_all_interfaces_at_the_port_it_exposes(runtime: Stage) -> None:
    environment = " ".join(i.arguments for i in runtime.all("ENV"))
    exposed = runtime.last("EXPOSE")

    assert "SMARTER_BIND_HOST=0.0.0.0" in environment
    assert exposed is not None and f"SMARTER_PORT={exposed.arguments}" in environment


def test_the_build_context_holds_the_sources_and_nothing_else() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=PROJECT, capture_output=True, text=True, check=True
    ).stdout.split()
    context = {path for path in tracked if included(path, IGNORED)}

    assert context
    assert {path.split("/")[0] for path in context} == set(SOURCES)
    for leftover in (".venv/bin/python", ".git/HEAD", "src/smarter/__pycache__/x.pyc"):
        assert not included(leftover, IGNORED), leftover


def test_the_ignore_rules_are_read_the_way_docker_reads_them() -> None:
    patterns = ["*", "!src", "**/__pycache__", "!src/keep/__pycache__"]

    assert not included("tests/x.py", patterns)
    assert included("src/a/b.py", patterns)
    assert not included("src/a/__pycache__/b.pyc", patterns)
    assert included("src/keep/__pycache__/b.pyc", patterns)

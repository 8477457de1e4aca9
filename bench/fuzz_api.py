"""Fuzz the console API against its own OpenAPI schema (target: no 5xx).

Not part of the tests: `make fuzz` runs it. It starts the platform in the embedded default
(`smarter serve`) on a free port with a throwaway SQLite database and the demo on, adds an
admin user to the demo account with the CLI (that prints the user's token) and registers a
custom domain, then runs Schemathesis (`st run`, from its own venv .venv-fuzz) with every
check, against every operation, with the token and the console Host header
(bench/schemathesis.toml says where the contract is wider than the schema can state, and
why). Exits with st's status: non-zero when any check failed (a 5xx, a response the schema
does not describe, ...), and 1 when the server logged an unhandled error st did not notice.

Run: .venv/bin/python bench/fuzz_api.py [--examples N] [--seed N] [st options ...]
The server's log and st's reports are kept in bench/output/fuzz/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SMARTER = ROOT / ".venv" / "bin" / "smarter"
ST = ROOT / ".venv-fuzz" / "bin" / "st"
CONFIG = ROOT / "bench" / "schemathesis.toml"
OUTPUT = ROOT / "bench" / "output" / "fuzz"
DEMO_ACCOUNT = "3141-5926-5359"  # smarter.entrypoints.demo.DEMO_ACCOUNT
FUZZER_USER = ("--username", "fuzzer", "--admin", "-o", "json")
SCHEMA_PATH = "/api/docs/openapi.json"
START_TIMEOUT_SECONDS = 90.0
# The marker both of the app's 500 paths log (errors.internal_error and the host gate).
UNHANDLED = "unhandled error on"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def platform_env(database_url: str, port: int) -> dict[str, str]:
    """The caller's environment without any SMARTER_* setting, plus the embedded default's."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SMARTER_")}
    env.update(
        SMARTER_DATABASE_URL=database_url,
        SMARTER_PORT=str(port),
        SMARTER_LOCAL_PORT=str(port),
        SMARTER_DEMO="true",
        SMARTER_LOG_LEVEL="warning",
    )
    return env


def wait_until_healthy(base_url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"fuzz: the server exited with {server.returncode}; see its log")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"fuzz: the server did not answer /healthz within {START_TIMEOUT_SECONDS}s")


def admin_token(env: dict[str, str]) -> str:
    """A new admin of the demo account (which owns the demo client), made with the CLI."""
    created = subprocess.run(
        [str(SMARTER), "users", "create", "--account", DEMO_ACCOUNT, *FUZZER_USER],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    token: str = json.loads(created.stdout)["token"]
    return token


def register_domain(env: dict[str, str]) -> None:
    """A custom domain (id 1, the schema's minimum id), so its routes meet one that exists."""
    subprocess.run(
        [str(SMARTER), "domains", "register", "fuzz.example.org", "--account", DEMO_ACCOUNT],
        env=env,
        check=True,
        capture_output=True,
    )


def schemathesis(base_url: str, port: int, token: str, args: argparse.Namespace) -> list[str]:
    command = [
        str(ST),
        "--config-file",
        str(CONFIG),
        "run",
        f"{base_url}{SCHEMA_PATH}",
        "--checks",
        "all",
        "--max-examples",
        str(args.examples),
        "--workers",
        str(args.workers),
        "--header",
        f"Host: localhost:{port}",
        "--header",
        f"Authorization: Token {token}",
        "--request-timeout",
        "30",
        "--report",
        "junit,ndjson",
        "--report-dir",
        str(OUTPUT),
        "--no-color",
    ]
    if args.seed is not None:
        command += ["--seed", str(args.seed)]
    extra: list[str] = args.st_options
    return command + extra


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=50, help="examples per operation")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int)
    args, st_options = parser.parse_known_args()
    args.st_options = st_options
    for tool in (SMARTER, ST):
        if not tool.exists():
            raise SystemExit(f"fuzz: {tool} is missing; run `make fuzz`")
    shutil.rmtree(OUTPUT, ignore_errors=True)
    OUTPUT.mkdir(parents=True)
    log_path = OUTPUT / "server.log"
    port = free_port()
    base_url = f"http://localhost:{port}"
    with tempfile.TemporaryDirectory(prefix="smarter-fuzz-") as scratch:
        env = platform_env(f"sqlite+aiosqlite:///{scratch}/fuzz.db", port)
        with log_path.open("wb") as log:
            server = subprocess.Popen(
                [str(SMARTER), "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                cwd=scratch,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                wait_until_healthy(f"http://127.0.0.1:{port}", server)
                token = admin_token(env)
                register_domain(env)
                started = time.monotonic()
                # In the scratch directory, so that Hypothesis's example database goes with it.
                command = schemathesis(base_url, port, token, args)
                status = subprocess.run(command, cwd=scratch).returncode
                elapsed = time.monotonic() - started
            finally:
                server.terminate()
                try:
                    server.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    server.kill()
    unhandled = [line for line in log_path.read_text().splitlines() if UNHANDLED in line]
    print(f"\nfuzz: schemathesis exited {status} after {elapsed:.0f}s; reports in {OUTPUT}")
    if unhandled:
        print(f"fuzz: the server logged {len(unhandled)} unhandled errors, e.g.:")
        print("\n".join(f"  {line}" for line in unhandled[:10]))
        return status or 1
    return status


if __name__ == "__main__":
    sys.exit(main())

"""The chat benchmark: requests/s and p50/p99 latency measured with `wrk` at
concurrency 1 and 16, side by side on this machine, for

  (a) Smarter's `POST /llm-client/` on a deployed client host: PostgreSQL and Redis configured,
      an API key required, history recorded, a worker provisioning the client;
  (b) a bare Litestar route in the same process model (one uvicorn process) that makes the same
      openai SDK call and nothing else (bench/bare_app.py), and (b') the same route with the
      plain `chat.completions.create` most apps would write;
  (c) the LiteLLM proxy (its own virtual environment, .venv-litellm) on the same upstream;

all against one OpenAI-compatible upstream on loopback that answers at once
(tests/support/openai_server.py). Prints the table and the ratios a/b and a/c.

The machine is shared (2 cores, other work running), so one run of a few seconds swings by
+-30%: every target is measured `--repeat` times, the targets taking turns, and the table shows
the median run (by requests/s) of each, plus the server process's CPU time per request (which
load from elsewhere disturbs much less than requests/s).

Run: make bench-chat   (or .venv/bin/python bench/chat.py --seconds 8)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
LITELLM = ROOT / ".venv-litellm" / "bin" / "litellm"
ACCOUNT = "2718-2818-2845"
CLIENT = "bench"
DATABASE = "smarter_bench"
REDIS_DB = 9
LITELLM_KEY = "sk-bench-Xq83hfKd02jdLw9s7Qp1Zt5Vn"  # the proxy refuses to start without one
BODY = '{"messages":[{"role":"user","content":"Hello, how are you?"}]}'
OPENAI_BODY = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello, how are you?"}]}'
MANIFEST = f"""apiVersion: smarter.sh/v1
kind: LLMClient
metadata:
  name: {CLIENT}
spec:
  provider: openai
  default_model: gpt-4o-mini
  default_max_tokens: 256
"""


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_ms: float = float("nan")  # the server process's CPU time per request


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_http(url: str, headers: dict[str, str] | None = None, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not come up") from None
            time.sleep(0.2)


@contextlib.contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def smarter(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [str(BIN / "smarter"), *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"smarter {' '.join(args)} failed: {done.stderr or done.stdout}")
    return done.stdout


Target = tuple[str, dict[str, str], str, int]  # url, headers, body, server pid


def wrk(target: Target, connections: int, seconds: int, folder: Path) -> Result:
    url, headers, body, pid = target
    before = cpu_seconds(pid)
    script = folder / f"wrk-{abs(hash(url))}.lua"
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(body)}"]
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    script.write_text("\n".join(lines) + "\n")
    threads = 1 if connections == 1 else 2
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = parse_wrk(out)
    if result.rps:
        result.cpu_ms = (cpu_seconds(pid) - before) * 1000 / (result.rps * seconds)
    return result


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(out: str) -> Result:
    def latency(percent: str) -> float:
        found = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(found.group(1)) * _UNITS[found.group(2)] if found else float("nan")

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*?timeout (\d+)", out)
    return Result(
        rps=float(rps.group(1)) if rps else 0.0,
        p50_ms=latency("50"),
        p99_ms=latency("99"),
        errors=(int(non_2xx.group(1)) if non_2xx else 0) + (int(errors.group(1)) if errors else 0),
    )


def reset_services(env: dict[str, str]) -> None:
    subprocess.run(["redis-cli", "-n", str(REDIS_DB), "flushdb"], check=True, capture_output=True)
    for statement in (f"DROP DATABASE IF EXISTS {DATABASE}", f"CREATE DATABASE {DATABASE}"):
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", statement], check=True, env=env
        )


def prepare_client(env: dict[str, str]) -> str:
    """Migrate, create the account, the client and its key, deploy it; returns the key."""
    smarter(env, "db", "upgrade")
    smarter(env, "accounts", "create", "--number", ACCOUNT, "--name", "bench", "-o", "json")
    smarter(env, "clients", "apply", "--account", ACCOUNT, "-f", "-", stdin=MANIFEST)
    key = json.loads(
        smarter(env, "api-keys", "add", "--account", ACCOUNT, "--client", CLIENT, "-o", "json")
    )
    smarter(env, "clients", "deploy", "--account", ACCOUNT, CLIENT)
    secret: str = key["api_key"]
    return secret


def wait_ready(env: dict[str, str], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        client = json.loads(
            smarter(env, "clients", "get", "--account", ACCOUNT, CLIENT, "-o", "json")
        )
        if client.get("ready") and client.get("is_provisioned", True):
            return
        time.sleep(0.5)
    raise RuntimeError("the benchmark client did not become ready (is the worker running?)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per target (median shown)")
    parser.add_argument("--skip-litellm", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-chat-"))
    upstream_port, smarter_port, bare_port, create_port, litellm_port = (
        free_port() for _ in range(5)
    )
    upstream = f"http://127.0.0.1:{upstream_port}/v1"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    smarter_env = {
        **{k: v for k, v in env.items() if not k.startswith("SMARTER_")},
        "SMARTER_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:5432/{DATABASE}",
        "SMARTER_REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "SMARTER_OPENAI_API_KEY": "sk-bench",
        "SMARTER_OPENAI_BASE_URL": upstream,
        "SMARTER_DEMO": "false",
        "SMARTER_LOG_LEVEL": "warning",
        "SMARTER_PORT": str(smarter_port),
        "SMARTER_LOCAL_PORT": str(smarter_port),
        "SMARTER_CHAT_RATE_LIMIT_PER_MINUTE": "100000000",
    }
    reset_services(env)
    uvicorn = [
        str(BIN / "uvicorn"),
        "bench.bare_app:app",
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    with contextlib.ExitStack() as stack:

        def start(name: str, cmd: list[str], e: dict[str, str]) -> subprocess.Popen[bytes]:
            return stack.enter_context(process(cmd, e, folder / f"{name}.log"))

        start(
            "upstream",
            [
                str(BIN / "python"),
                "-m",
                "tests.support.openai_server",
                "--port",
                str(upstream_port),
            ],
            env,
        )
        wait_http(f"{upstream}/models")
        key = prepare_client(smarter_env)
        start("worker", [str(BIN / "smarter"), "worker"], smarter_env)
        wait_ready(smarter_env)
        served = start("smarter", [str(BIN / "smarter"), "serve"], smarter_env)
        bare = start(
            "bare", [*uvicorn, "--port", str(bare_port)], {**env, "BENCH_UPSTREAM": upstream}
        )
        bare_create = start(
            "bare-create",
            [*uvicorn, "--port", str(create_port)],
            {**env, "BENCH_UPSTREAM": upstream, "BENCH_CALL": "create"},
        )
        host = f"{CLIENT}.{ACCOUNT}.api.localhost:{smarter_port}"
        json_headers = {"Content-Type": "application/json"}
        targets: dict[str, Target] = {
            "a  smarter /llm-client/": (
                f"http://127.0.0.1:{smarter_port}/llm-client/",
                {**json_headers, "Host": host, "x-api-key": key},
                BODY,
                served.pid,
            ),
            "b  bare route, same call": (
                f"http://127.0.0.1:{bare_port}/llm-client/",
                json_headers,
                BODY,
                bare.pid,
            ),
            "b' bare route, create()": (
                f"http://127.0.0.1:{create_port}/llm-client/",
                json_headers,
                BODY,
                bare_create.pid,
            ),
        }
        for port in (smarter_port, bare_port, create_port):
            wait_http(f"http://127.0.0.1:{port}/healthz")
        if not args.skip_litellm:
            config = folder / "litellm.yaml"
            config.write_text(
                "model_list:\n  - model_name: gpt-4o-mini\n    litellm_params:\n"
                "      model: openai/gpt-4o-mini\n"
                f"      api_base: {upstream}\n      api_key: sk-bench\n"
                f"general_settings:\n  master_key: {LITELLM_KEY}\n"
            )
            litellm = start(
                "litellm",
                [
                    str(LITELLM),
                    "--config",
                    str(config),
                    "--port",
                    str(litellm_port),
                    "--num_workers",
                    "1",
                ],
                {**env, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},  # no internet here
            )
            wait_http(f"http://127.0.0.1:{litellm_port}/health/liveliness", seconds=180)
            targets["c  LiteLLM proxy"] = (
                f"http://127.0.0.1:{litellm_port}/v1/chat/completions",
                {**json_headers, "Authorization": f"Bearer {LITELLM_KEY}"},
                OPENAI_BODY,
                litellm.pid,
            )
        run_all(targets, args.seconds, folder, args.repeat)


def run_all(targets: dict[str, Target], seconds: int, folder: Path, repeat: int = 3) -> None:
    runs: dict[tuple[str, int], list[Result]] = {}
    for connections in (1, 16):
        for target in targets.values():
            wrk(target, connections, 2, folder)  # warm-up
        for _ in range(max(1, repeat)):  # the targets take turns: drifting load hits all alike
            for name, target in targets.items():
                runs.setdefault((name, connections), []).append(
                    wrk(target, connections, seconds, folder)
                )
    results = {
        key: sorted(found, key=lambda r: r.rps)[len(found) // 2] for key, found in runs.items()
    }
    header = (
        f"{'target':28} {'conc':>4} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'cpu ms/req':>10}"
    )
    print(f"\n{header} {'errors':>6}  (median of {repeat}; req/s of every run)")
    for (name, connections), r in results.items():
        numbers = f"{r.rps:>9.1f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} {r.cpu_ms:>10.2f} {r.errors:>6}"
        every = " ".join(f"{run.rps:.0f}" for run in runs[name, connections])
        print(f"{name:28} {connections:>4} {numbers}  [{every}]")
    for connections in (1, 16):
        a = results["a  smarter /llm-client/", connections].rps
        b = results["b  bare route, same call", connections].rps
        line = f"concurrency {connections:>2}: a/b = {a / b:.2f} (target >= 0.8)"
        c = results.get(("c  LiteLLM proxy", connections))
        if c is not None and c.rps:
            line += f", a/c = {a / c.rps:.1f} (target >= 8)"
        print(line)


if __name__ == "__main__":
    main()

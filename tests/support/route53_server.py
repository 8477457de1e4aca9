"""moto's Route 53 on loopback, as the platform sees it, with what AWS adds on top.

`Route53Server` serves moto's backend on two ports that share its state:

- `url`, the platform's: every request is recorded where it arrives (`requests`: time,
  operation, body of change batches), so tests and benchmarks count Route 53 calls at the
  server, per second;
- `direct_url`, not recorded: for the DNS test server's reads, which AWS does not bill, and
  for control: `/__smarter/...` (the record as JSON, refusals, propagation), so that a test or
  a benchmark can drive a server running in a process of its own.

On the platform's port it behaves like AWS where moto does not:

- `refuse_next(count, code)` answers the next requests with 400 `Throttling` (or another code,
  such as `PriorRequestNotComplete`), as Route 53 does beyond its rate;
- with `propagation_seconds`, a change batch is PENDING for that long (GetChange says so, with
  a change id of its own) and a further change batch for the same zone meanwhile is refused
  with `PriorRequestNotComplete`.

Use in-process: `with Route53Server() as route53: ... route53.url ... route53.operations()`;
or `with Route53Process() as route53:` (the same API) to run it in its own process, where the
arrival times it records are not held back by the test's own threads. Run by hand:
`python -m tests.support.route53_server --port 5000`.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import io
import itertools
import json
import logging
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode
from urllib.request import urlopen
from xml.etree import ElementTree

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
_XMLNS = "https://route53.amazonaws.com/doc/2013-04-01/"
CONTROL = "/__smarter"
REQUEST_LOG = f"{CONTROL}/requests"
_CHANGE_INFO = re.compile(rb"<ChangeInfo>.*?</ChangeInfo>", re.DOTALL)
_ROUTES = [
    ("POST", re.compile(r"/hostedzone/([^/]+)/rrset/?$"), "ChangeResourceRecordSets"),
    ("GET", re.compile(r"/hostedzone/([^/]+)/rrset/?$"), "ListResourceRecordSets"),
    ("GET", re.compile(r"/change/([^/]+)$"), "GetChange"),
    ("GET", re.compile(r"/hostedzonesbyname/?$"), "ListHostedZonesByName"),
    ("POST", re.compile(r"/hostedzone/?$"), "CreateHostedZone"),
    ("GET", re.compile(r"/hostedzone/?$"), "ListHostedZones"),
    ("GET", re.compile(r"/hostedzone/([^/]+)$"), "GetHostedZone"),
    ("DELETE", re.compile(r"/hostedzone/([^/]+)$"), "DeleteHostedZone"),
]


@dataclasses.dataclass(frozen=True)
class Request:
    at: float  # time.monotonic() when it arrived
    operation: str
    body: str = ""  # change batches only


@dataclasses.dataclass
class _Change:
    zone_id: str
    live_at: float


def operation_of(method: str, path: str) -> tuple[str, str]:
    """(operation, the id in the path) of a Route 53 REST request."""
    for verb, pattern, name in _ROUTES:
        found = pattern.search(path)
        if verb == method and found:
            return name, found.group(1) if found.groups() else ""
    return f"{method} {path}", ""


class RecordedRequests:
    """What a test reads from the record; subclasses give `operations` and `refuse_next`."""

    def operations(self, name: str | None = None, since: float = 0.0) -> list[Request]:
        raise NotImplementedError

    def record_changes(self, since: float = 0.0) -> list[tuple[str, str, str]]:
        """(action, name, type) of every change in every change batch that arrived."""
        found = []
        for request in self.operations("ChangeResourceRecordSets", since):
            for change in ElementTree.fromstring(request.body).iter(f"{{{_XMLNS}}}Change"):
                action = change.findtext(f"{{{_XMLNS}}}Action", "")
                name = change.findtext(f".//{{{_XMLNS}}}Name", "")
                type_ = change.findtext(f".//{{{_XMLNS}}}Type", "")
                found.append((action, name.rstrip(".").lower(), type_))
        return found

    def upserts(self, since: float = 0.0) -> Counter[str]:
        """How many times each name was UPSERTed."""
        return Counter(n for action, n, _ in self.record_changes(since) if action == "UPSERT")

    def upserts_of(self, name: str) -> int:
        return self.upserts()[name]

    def busiest_second(self, since: float = 0.0) -> int:
        """The most requests that arrived within any one second (a sliding window)."""
        times = sorted(r.at for r in self.operations(since=since))
        most, first = 0, 0
        for last, at in enumerate(times):
            while at - times[first] >= 1.0:
                first += 1
            most = max(most, last - first + 1)
        return most


class Route53Server(RecordedRequests):
    def __init__(self, *, propagation_seconds: float | None = None) -> None:
        self.propagation_seconds = propagation_seconds
        self.requests: list[Request] = []
        self._refusals: list[str] = []
        self._changes: dict[str, _Change] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._moto = DomainDispatcherApplication(create_backend_app)
        self._servers: list[BaseWSGIServer] = []

    # -- what tests do ------------------------------------------------------------------

    def refuse_next(self, count: int, code: str = "Throttling") -> None:
        with self._lock:
            self._refusals.extend([code] * count)

    @property
    def refusals_left(self) -> int:
        with self._lock:
            return len(self._refusals)

    def operations(self, name: str | None = None, since: float = 0.0) -> list[Request]:
        with self._lock:
            return [
                r for r in self.requests if (name is None or r.operation == name) and r.at >= since
            ]

    def forget(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- serving ------------------------------------------------------------------------

    def start(self, port: int = 0) -> Route53Server:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request is noise
        for app, at in ((self._recorded, port), (self._direct, 0)):
            server = make_server(
                "127.0.0.1", at, app, threaded=True, request_handler=MotoRequestHandler
            )
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self._servers.append(server)
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers = []

    def __enter__(self) -> Route53Server:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._servers[0].server_address[1]}"

    @property
    def direct_url(self) -> str:
        return f"http://127.0.0.1:{self._servers[1].server_address[1]}"

    def _direct(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(CONTROL):
            return self._moto(environ, start_response)
        query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
        if path == REQUEST_LOG:
            answer: object = [[r.at, r.operation, r.body] for r in self.operations()]
        elif path == f"{CONTROL}/refuse":
            self.refuse_next(int(query["count"]), query.get("code", "Throttling"))
            answer = {"left": self.refusals_left}
        elif path == f"{CONTROL}/propagation":
            seconds = query.get("seconds", "")
            self.propagation_seconds = float(seconds) if seconds else None
            answer = {"seconds": self.propagation_seconds}
        else:
            answer = {"left": self.refusals_left}
        body = json.dumps(answer).encode()
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]

    def _recorded(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        operation, subject = operation_of(method, path)
        body = b""
        if operation == "ChangeResourceRecordSets":
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
        now = time.monotonic()
        with self._lock:
            self.requests.append(Request(now, operation, body.decode("utf-8", "replace")))
            refusal = self._refusals.pop(0) if self._refusals else None
            busy = operation == "ChangeResourceRecordSets" and self._zone_busy(subject, now)
        if refusal is None and busy:
            refusal = "PriorRequestNotComplete"
        if refusal is not None:
            return _error(start_response, refusal)
        if self.propagation_seconds is None:
            return self._moto(environ, start_response)
        if operation == "GetChange":
            return self._get_change(subject, start_response)
        if operation == "ChangeResourceRecordSets":
            return self._pending_change(subject, environ, start_response)
        return self._moto(environ, start_response)

    def _zone_busy(self, zone_id: str, now: float) -> bool:
        return any(c.zone_id == zone_id and c.live_at > now for c in self._changes.values())

    def _pending_change(
        self, zone_id: str, environ: Environ, start_response: StartResponse
    ) -> Iterable[bytes]:
        answer: dict[str, Any] = {}

        def keep(status: str, headers: list[tuple[str, str]], *_: Any) -> None:
            answer["status"], answer["headers"] = status, headers

        body = b"".join(self._moto(environ, keep))
        if not answer["status"].startswith("200"):
            start_response(answer["status"], answer["headers"])
            return [body]
        change_id = f"C{next(self._ids):012d}"
        with self._lock:
            live_at = time.monotonic() + (self.propagation_seconds or 0.0)
            self._changes[change_id] = _Change(zone_id=zone_id, live_at=live_at)
        body = _CHANGE_INFO.sub(_change_info(change_id, "PENDING").encode(), body)
        headers = [(k, v) for k, v in answer["headers"] if k.lower() != "content-length"]
        start_response("200 OK", [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def _get_change(self, change_id: str, start_response: StartResponse) -> Iterable[bytes]:
        with self._lock:
            change = self._changes.get(change_id)
        if change is None:
            return _error(start_response, "NoSuchChange", status="404 Not Found")
        status = "INSYNC" if time.monotonic() >= change.live_at else "PENDING"
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?><GetChangeResponse xmlns="{_XMLNS}">'
            f"{_change_info(change_id, status)}</GetChangeResponse>"
        ).encode()
        start_response("200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))])
        return [body]


def _change_info(change_id: str, status: str) -> str:
    submitted = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return (
        f"<ChangeInfo><Id>/change/{change_id}</Id><Status>{status}</Status>"
        f"<SubmittedAt>{submitted}</SubmittedAt></ChangeInfo>"
    )


def _error(
    start_response: StartResponse, code: str, status: str = "400 Bad Request"
) -> list[bytes]:
    body = (
        f'<?xml version="1.0"?><ErrorResponse xmlns="{_XMLNS}"><Error><Type>Sender</Type>'
        f"<Code>{code}</Code><Message>{code}: slow down</Message></Error>"
        f"<RequestId>stand-in</RequestId></ErrorResponse>"
    ).encode()
    start_response(status, [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))])
    return [body]


class Route53Process(RecordedRequests):
    """A `Route53Server` in a process of its own, driven over its control endpoints."""

    def __init__(self, *, propagation_seconds: float | None = None) -> None:
        self._propagation = propagation_seconds
        self._process: subprocess.Popen[str] | None = None
        self.url = self.direct_url = ""

    def start(self) -> Route53Process:
        command = [sys.executable, "-m", "tests.support.route53_server", "--port", "0"]
        if self._propagation is not None:
            command += ["--propagation-seconds", str(self._propagation)]
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        for line in self._process.stdout:
            kind, _, url = line.partition(": ")
            if kind == "Route 53 (recorded)":
                self.url = url.strip()
            elif kind == "Route 53 (direct)":
                self.direct_url = url.strip()
                drain = threading.Thread(target=self._process.stdout.read, daemon=True)
                drain.start()  # whatever it prints later must not fill the pipe and block it
                return self
        raise RuntimeError("the Route 53 stand-in did not start")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)

    def __enter__(self) -> Route53Process:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def propagation_seconds(self) -> float | None:
        return self._propagation

    @propagation_seconds.setter
    def propagation_seconds(self, seconds: float | None) -> None:
        self._propagation = seconds
        self._control("propagation", seconds="" if seconds is None else seconds)

    def refuse_next(self, count: int, code: str = "Throttling") -> None:
        self._control("refuse", count=count, code=code)

    @property
    def refusals_left(self) -> int:
        return int(self._control("refusals")["left"])

    def operations(self, name: str | None = None, since: float = 0.0) -> list[Request]:
        recorded = [Request(at, op, body) for at, op, body in self._control("requests")]
        return [r for r in recorded if (name is None or r.operation == name) and r.at >= since]

    def _control(self, what: str, **query: object) -> Any:
        url = f"{self.direct_url}{CONTROL}/{what}?{urlencode(query)}"
        with urlopen(url, timeout=30) as answer:
            return json.loads(answer.read())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--propagation-seconds", type=float, default=None)
    args = parser.parse_args()
    server = Route53Server(propagation_seconds=args.propagation_seconds).start(args.port)
    print(f"Route 53 (recorded): {server.url}\nRoute 53 (direct): {server.direct_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        server.stop()


if __name__ == "__main__":
    main()

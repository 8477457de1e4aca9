"""Every Prometheus metric the platform exports, in one place (prometheus_client's default
registry), and what reads them out of the adapters that keep their own state.

One server process per pod (or per `smarter serve`): each process exports its own numbers and
Prometheus sums over pods, so no multiprocess mode is needed (see the README).

What each metric says:

- `smarter_http_requests_total{kind,status}`, `smarter_http_request_duration_seconds{kind}`:
  every HTTP request by route kind (`console`, `chat`, `config`, `page`, `probe`, `metrics`,
  `refused` for hosts the platform does not serve) and final status; a stream's duration ends
  with its last byte.
- `smarter_llm_request_duration_seconds{provider}`, `smarter_llm_errors_total{provider,error}`,
  `smarter_llm_tokens_total{provider,type}`: upstream calls (one per tool round), failures by
  the platform's error class, prompt and completion tokens as the provider reported them.
- `smarter_chat_rate_limited_total`: chat requests refused by the rate limit (429).
- `smarter_client_cache_lookups_total{result}`: host lookups served by the client cache (`hit`)
  or loaded from the database (`miss`); hit ratio = hit / (hit + miss).
- `smarter_history_queued`, `smarter_history_write_failures_total{what}`: chat turns accepted
  but not yet stored; batches that failed (`batch`, retried turn by turn), turns that could
  not be stored (`turn`) or were dropped because the queue was full (`overflow`).
- `smarter_jobs_total{type,outcome}`, `smarter_job_duration_seconds{type}`: provisioning jobs
  (each a short step: a record, a verification, a certificate, an Ingress) by outcome (`done`,
  `again` when it asked to run later, `failed`), and how long each step took.
- `smarter_clients{dns,tls,deployed}`: clients by DNS verification and TLS certificate status,
  counted by the worker every `CLIENT_STATUS_SECONDS` (the same numbers from every worker: take
  `max` across them, not `sum`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Final

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

# Chat requests take from milliseconds (cache, echo) to a minute (a slow model).
LATENCY_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
CLIENT_STATUS_SECONDS: Final = 30.0

HTTP_REQUESTS: Final = Counter(
    "smarter_http_requests", "HTTP requests by route kind and status", ["kind", "status"]
)
HTTP_DURATION: Final = Histogram(
    "smarter_http_request_duration_seconds",
    "HTTP request duration by route kind (to the last byte of a stream)",
    ["kind"],
    buckets=LATENCY_BUCKETS,
)
LLM_DURATION: Final = Histogram(
    "smarter_llm_request_duration_seconds",
    "Upstream LLM calls by provider (a stream: to its last chunk)",
    ["provider"],
    buckets=LATENCY_BUCKETS,
)
LLM_ERRORS: Final = Counter(
    "smarter_llm_errors", "Failed upstream LLM calls by provider and error", ["provider", "error"]
)
LLM_TOKENS: Final = Counter(
    "smarter_llm_tokens", "Tokens the providers reported by provider and type", ["provider", "type"]
)
RATE_LIMITED: Final = Counter("smarter_chat_rate_limited", "Chat requests the rate limit refused")
CACHE_LOOKUPS: Final = Counter(
    "smarter_client_cache_lookups", "Host lookups in the client cache by result", ["result"]
)
HISTORY_QUEUED: Final = Gauge("smarter_history_queued", "Chat turns accepted, not yet stored")
HISTORY_FAILURES: Final = Counter(
    "smarter_history_write_failures",
    "Chat history writes that failed: a batch (retried turn by turn), a turn, an overflow drop",
    ["what"],
)
JOBS: Final = Counter("smarter_jobs", "Provisioning jobs by type and outcome", ["type", "outcome"])
JOB_DURATION: Final = Histogram(
    "smarter_job_duration_seconds",
    "Provisioning job (step) durations by type",
    ["type"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)

# Children of the labels known in advance: the hot path looks them up, never creates them.
CACHE_HIT: Final = CACHE_LOOKUPS.labels("hit")
CACHE_MISS: Final = CACHE_LOOKUPS.labels("miss")


class ClientStatusCollector(Collector):
    """`smarter_clients{dns,tls,deployed}` from the last count (replaced whole at once)."""

    def __init__(self) -> None:
        self._counts: Mapping[tuple[str, str, bool], int] = {}

    def update(self, counts: Mapping[tuple[str, str, bool], int]) -> None:
        self._counts = dict(counts)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "smarter_clients",
            "Clients by DNS verification and TLS certificate status, and whether deployed",
            labels=["dns", "tls", "deployed"],
        )
        for (dns, tls, deployed), count in sorted(self._counts.items()):
            family.add_metric([dns, tls, str(deployed).lower()], count)
        yield family

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return []  # values come and go with the statuses seen


CLIENT_STATUSES: Final = ClientStatusCollector()
REGISTRY.register(CLIENT_STATUSES)

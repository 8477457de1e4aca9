"""Settings: one frozen object, built from `SMARTER_*` environment variables by a function.

Nothing reads the environment at import time; the entrypoints call `load_settings()` once and
hand the result to the container.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from smarter.domain.environments import Environment, Platform
from smarter.domain.errors import InvalidValue
from smarter.domain.hostnames import normalize_hostname

PREFIX = "SMARTER_"


class ConfigurationError(Exception):
    """The environment does not describe a platform we can run."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    root_domain: str = "example.com"
    platform_subdomain: str = "platform"
    api_subdomain: str = "api"
    environment: Environment = Environment.LOCAL
    local_port: int = 9357
    bind_host: str = "127.0.0.1"
    port: int = 9357
    database_url: str = "sqlite+aiosqlite:///./var/smarter.db"
    redis_url: str | None = None
    # Prefix of the chat cache's and rate limiter's Redis keys (one per platform sharing Redis).
    redis_prefix: str = "smarter"
    demo: bool = True
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    llm_timeout_seconds: float = 60.0
    # Extra OpenAI-compatible providers: {"name": {"base_url": "...", "api_key": "..."}}.
    llm_providers: dict[str, dict[str, str]] = field(default_factory=dict)
    # How the OpenAI SDK talks HTTP ("aiohttp" is faster under load than "httpx"), and how many
    # tool-call rounds one chat turn may take.
    llm_transport: str = "aiohttp"
    llm_tool_rounds: int = 3
    # Chat requests per minute per API key (per client and caller IP for public clients).
    chat_rate_limit_per_minute: int = 600
    log_level: str = "info"
    # The web console: signs CSRF tokens (set the same value on every replica; unset = a
    # random key per process, fine for one process), session lifetime, sign-in throttling.
    secret_key: str | None = None
    console_session_hours: float = 12.0
    sign_in_attempts_per_user: int = 10
    sign_in_attempts_per_address: int = 100
    # On SIGTERM `serve` stops accepting and finishes the requests it accepted for up to this
    # long (Kubernetes: keep terminationGracePeriodSeconds above the preStop pause plus this).
    shutdown_timeout_seconds: float = 30.0

    # --- provisioning (issue 5); in the `local` environment none of this is used ---
    # Where hosts point: a hostname (CNAME) or an IPv4 address (A record).
    ingress_target: str = "ingress.example.com"
    # The Route 53 zone for default hosts (by name; created if missing).
    platform_zone: str | None = None
    aws_region: str = "us-east-1"
    route53_endpoint_url: str | None = None
    # Resolvers for verification ("host" or "host:port", comma-separated); empty = system's.
    dns_nameservers: tuple[str, ...] = ()
    dns_verification_window_seconds: float = 900.0
    # Kubernetes API: a URL (stand-ins, proxies) or, when empty, kubeconfig / in-cluster config.
    kubernetes_api_url: str | None = None
    # A bearer token for `kubernetes_api_url` (in a cluster the service account's is used).
    kubernetes_token: str | None = None
    kubernetes_namespace: str = "smarter"
    ingress_class: str = "nginx"
    ingress_annotations: dict[str, str] = field(default_factory=dict)
    ingress_service_name: str = "smarter"
    ingress_service_port: int = 8000
    # "cert-manager" (Certificate objects) or "acme" (DNS-01 done by the worker itself).
    certificate_issuer: str = "cert-manager"
    cert_manager_issuer: str = "letsencrypt"
    cert_manager_issuer_kind: str = "ClusterIssuer"
    acme_directory_url: str = "https://acme-v02.api.letsencrypt.org/directory"
    acme_email: str | None = None
    # A CA bundle to trust for the ACME directory (pebble's own certificate in tests).
    acme_ca_bundle: str | None = None
    # Where the ACME issuer stores certificates: "kubernetes" (TLS secrets) or a directory path.
    certificate_store: str = "kubernetes"
    # Queue: SAQ on `redis_url` when set, else an in-process queue.
    worker_concurrency: int = 8
    # The SAQ queue's name (its Redis keys start with `saq:<name>:`).
    queue_name: str = "smarter"
    # A job running longer is cancelled; one whose worker died is retried after this long.
    worker_job_timeout_seconds: int = 60
    # Backoff of provisioning retries (waiting for DNS, certificates, providers).
    provisioning_first_retry_seconds: float = 5.0
    provisioning_max_retry_seconds: float = 300.0
    # How often the outbox relay looks for new jobs (it is woken at once in-process).
    outbox_poll_seconds: float = 0.5
    # `smarter worker` serves its Prometheus metrics on this port (on `bind_host`); unset: none.
    worker_metrics_port: int | None = None
    # Route 53's quotas, shared by every worker through Redis: API requests per second (and
    # how many may be saved up), record changes per second (and burst). 5/s fits any account.
    route53_requests_per_second: float = 5.0
    route53_requests_burst: int = 5
    route53_record_changes_per_second: float = 100.0
    route53_record_changes_burst: int = 1000
    # How long record changes wait for others to share their change batch.
    dns_batch_window_seconds: float = 1.0
    # Custom hostnames: the name customers' CNAMEs point at (default `custom.<platform zone>`),
    # and the IPv4 addresses an apex name's A records hold (default: the ingress target, if
    # it is an address; none means apex names are refused).
    custom_hostname_target: str | None = None
    ingress_addresses: tuple[str, ...] = ()
    # Verified domains and hostnames are checked again this often; after this many failed
    # checks in a row they are unverified (their custom hosts stop; default hosts keep serving).
    reverify_seconds: float = 24 * 3600.0
    reverify_failures: int = 3
    # A Failed client is tried again this long after it failed (deploying it again retries
    # at once).
    failed_retry_seconds: float = 6 * 3600.0
    # Ready clients whose record, Ingress and certificate the sweep checks each minute.
    drift_checks_per_sweep: int = 20
    # Client-side rate of Kubernetes writes (applies, deletes) per worker process.
    kubernetes_writes_per_second: float = 50.0
    kubernetes_writes_burst: int = 100

    # --- webhooks ---
    # Keys that seal signing secrets in the database (comma-separated, 16+ characters each;
    # the first seals, all open). Unset: a fixed development key in `local`, else webhooks
    # cannot be registered.
    webhook_secret_keys: tuple[str, ...] = ()
    # Let endpoints use plain http and private or loopback addresses outside `local` (for a
    # test's receiver on loopback; never in production).
    webhook_allow_private_addresses: bool = False
    webhook_timeout_seconds: float = 10.0
    webhook_first_retry_seconds: float = 5.0
    webhook_max_retry_seconds: float = 3600.0
    webhook_retry_window_seconds: float = 86400.0
    webhook_poll_seconds: float = 1.0
    webhook_concurrency: int = 16

    @property
    def platform(self) -> Platform:
        return Platform(
            root_domain=self.root_domain,
            platform_subdomain=self.platform_subdomain,
            api_subdomain=self.api_subdomain,
            environment=self.environment,
            local_port=self.local_port,
        )


def _boolean(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"'{raw}' is not a boolean (true/false)")


def _port(raw: str) -> int:
    value = int(raw)
    if not 0 < value < 65536:
        raise ValueError(f"{value} is not a TCP port")
    return value


def _positive(raw: str) -> float:
    value = float(raw)
    if value <= 0:
        raise ValueError(f"{value} must be positive")
    return value


def _non_negative(raw: str) -> float:
    value = float(raw)
    if value < 0:
        raise ValueError(f"{value} must be 0 or more")
    return value


def _addresses(raw: str) -> tuple[str, ...]:
    import ipaddress

    found = _list(raw)
    for address in found:
        ipaddress.IPv4Address(address)  # ValueError names it
    return found


def _hostname(raw: str) -> str:
    return normalize_hostname("value", raw)


def _providers(raw: str) -> dict[str, dict[str, str]]:
    value = json.loads(raw) if raw.strip() else {}
    if not isinstance(value, dict) or not all(
        isinstance(v, dict) and all(isinstance(x, str) for x in v.values()) for v in value.values()
    ):
        raise ValueError('expected JSON like {"name": {"base_url": "...", "api_key": "..."}}')
    return value


def _optional(raw: str) -> str | None:
    return raw.strip() or None


def _count(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError(f"{value} must be 1 or more")
    return value


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in allowed:
            raise ValueError(f"'{raw}' is not one of {', '.join(allowed)}")
        return value

    return parse


def _list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _string_map(raw: str) -> dict[str, str]:
    value = json.loads(raw) if raw.strip() else {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError('expected a JSON object of strings, like {"key": "value"}')
    return value


_PARSERS: dict[str, Callable[[str], Any]] = {
    "root_domain": _hostname,
    "platform_subdomain": _hostname,
    "api_subdomain": _hostname,
    "environment": Environment.parse,
    "local_port": _port,
    "port": _port,
    "demo": _boolean,
    "redis_url": _optional,
    "openai_api_key": _optional,
    "openai_base_url": _optional,
    "llm_timeout_seconds": _positive,
    "llm_providers": _providers,
    "llm_transport": _choice("aiohttp", "httpx"),
    "llm_tool_rounds": _count,
    "chat_rate_limit_per_minute": _count,
    "secret_key": _optional,
    "console_session_hours": _positive,
    "sign_in_attempts_per_user": _count,
    "sign_in_attempts_per_address": _count,
    "platform_zone": _hostname,
    "route53_endpoint_url": _optional,
    "dns_nameservers": _list,
    "dns_verification_window_seconds": _positive,
    "kubernetes_api_url": _optional,
    "kubernetes_token": _optional,
    "ingress_annotations": _string_map,
    "ingress_service_port": _port,
    "certificate_issuer": _choice("cert-manager", "acme"),
    "acme_email": _optional,
    "acme_ca_bundle": _optional,
    "worker_concurrency": _count,
    "worker_job_timeout_seconds": _count,
    "provisioning_first_retry_seconds": _positive,
    "provisioning_max_retry_seconds": _positive,
    "outbox_poll_seconds": _positive,
    "shutdown_timeout_seconds": _positive,
    "worker_metrics_port": _port,
    "webhook_secret_keys": _list,
    "webhook_allow_private_addresses": _boolean,
    "webhook_timeout_seconds": _positive,
    "webhook_first_retry_seconds": _positive,
    "webhook_max_retry_seconds": _positive,
    "webhook_retry_window_seconds": _positive,
    "webhook_poll_seconds": _positive,
    "webhook_concurrency": _count,
    "route53_requests_per_second": _positive,
    "route53_requests_burst": _count,
    "route53_record_changes_per_second": _positive,
    "route53_record_changes_burst": _count,
    "dns_batch_window_seconds": _non_negative,
    "custom_hostname_target": _hostname,
    "ingress_addresses": _addresses,
    "reverify_seconds": _positive,
    "reverify_failures": _count,
    "failed_retry_seconds": _positive,
    "drift_checks_per_sweep": _count,
    "kubernetes_writes_per_second": _positive,
    "kubernetes_writes_burst": _count,
}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from `environ` (default: the process environment).

    Unknown `SMARTER_*` names and unparsable values are errors, so a typo never silently
    falls back to a default.
    """
    env = os.environ if environ is None else environ
    known = {f.name for f in fields(Settings)}
    values: dict[str, Any] = {}
    for key, raw in env.items():
        if not key.startswith(PREFIX):
            continue
        name = key[len(PREFIX) :].lower()
        if name not in known:
            allowed = ", ".join(sorted(PREFIX + k.upper() for k in known))
            raise ConfigurationError(f"unknown setting {key}; known settings are {allowed}")
        try:
            values[name] = _PARSERS.get(name, str.strip)(raw)
        except (ValueError, InvalidValue) as error:
            raise ConfigurationError(f"{key}: {error}") from None
    if "port" not in values and "local_port" in values:
        values["port"] = values["local_port"]
    return Settings(**values)

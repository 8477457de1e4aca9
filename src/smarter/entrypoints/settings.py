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
    demo: bool = True
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    llm_timeout_seconds: float = 60.0
    # Extra OpenAI-compatible providers: {"name": {"base_url": "...", "api_key": "..."}}.
    llm_providers: dict[str, dict[str, str]] = field(default_factory=dict)
    log_level: str = "info"

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

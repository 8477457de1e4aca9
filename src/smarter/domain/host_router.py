"""What a request's Host header is: a console host, an API host, a named client host, a
custom-domain client host, or nothing we serve.

Classification is by exact match and by suffix, never by a pattern per client: the work per
host is the same whether the platform has ten clients or a hundred thousand. Named clients and
custom domains are then looked up by the key this returns.
"""

from __future__ import annotations

import enum

import msgspec

from smarter.domain.account_number import is_account_number
from smarter.domain.environments import (
    LOCAL_HOSTNAMES,
    PREFIXED_ENVIRONMENTS,
    Environment,
    Platform,
)
from smarter.domain.hostnames import HostHeader, hostname_problem, split_host_header


class HostKind(enum.StrEnum):
    CONSOLE = "console"
    API = "api"
    CLIENT = "client"
    CUSTOM_DOMAIN = "custom_domain"
    INVALID = "invalid"


class ResolvedHost(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The answer for one Host header. `llm_client_name` is the RFC 1034 name in the host."""

    host: str
    kind: HostKind
    environment: Environment | None = None
    account_number: str | None = None
    llm_client_name: str | None = None
    custom_domain: str | None = None
    reason: str | None = None


# Hosts that only exist on a developer's machine, where the platform listens on the local port.
_LOCAL_PORT_HOSTS = frozenset([*LOCAL_HOSTNAMES, *(f"api.{name}" for name in LOCAL_HOSTNAMES)])
_LOCAL_PORT_SUFFIXES = tuple(f".{name}" for name in _LOCAL_PORT_HOSTS)


class HostRouter:
    """Classifies hosts of every environment of one platform (root domain and subdomains)."""

    def __init__(self, platform: Platform) -> None:
        self._platform = platform
        root = platform.root_domain
        exact: dict[str, tuple[HostKind, Environment]] = {}
        for name in LOCAL_HOSTNAMES:
            exact[name] = (HostKind.CONSOLE, Environment.LOCAL)
            exact[f"api.{name}"] = (HostKind.API, Environment.LOCAL)
        local_api = f"{platform.api_subdomain}.local.{root}"
        exact[local_api] = (HostKind.API, Environment.LOCAL)
        for environment in (*PREFIXED_ENVIRONMENTS, Environment.PROD):
            exact[platform.console_domain_of(environment)] = (HostKind.CONSOLE, environment)
            exact[platform.api_domain_of(environment)] = (HostKind.API, environment)
        self._exact = exact
        # Client hosts hang under an API domain; the longest suffixes are tried first so that
        # `x.1234-5678-9012.alpha.api.<root>` is not read as a prod host.
        suffixes = [(f".api.{name}", Environment.LOCAL) for name in LOCAL_HOSTNAMES]
        suffixes.append((f".{local_api}", Environment.LOCAL))
        suffixes += [(f".{platform.api_domain_of(e)}", e) for e in PREFIXED_ENVIRONMENTS]
        suffixes.append((f".{platform.api_domain_of(Environment.PROD)}", Environment.PROD))
        self._client_suffixes = tuple(sorted(suffixes, key=lambda s: -len(s[0])))
        self._root_suffix = f".{root}"
        self._root = root

    def resolve(self, raw_host: str) -> ResolvedHost:
        header = split_host_header(raw_host)
        if isinstance(header, str):
            return ResolvedHost(host=raw_host, kind=HostKind.INVALID, reason=header)
        display = header.name if header.port is None else f"{header.name}:{header.port}"
        port_problem = self._port_problem(header)
        if port_problem is not None:
            return ResolvedHost(host=display, kind=HostKind.INVALID, reason=port_problem)
        name = header.name
        known = self._exact.get(name)
        if known is not None:
            return ResolvedHost(host=display, kind=known[0], environment=known[1])
        for suffix, environment in self._client_suffixes:
            if name.endswith(suffix):
                return self._client_host(display, name[: -len(suffix)], environment)
        return self._candidate_custom_host(display, name)

    def _port_problem(self, header: HostHeader) -> str | None:
        """Local hosts live on the local port; elsewhere a proxy may forward any port."""
        if header.port is None or header.port == self._platform.local_port:
            return None
        name = header.name
        if name in _LOCAL_PORT_HOSTS or name.endswith(_LOCAL_PORT_SUFFIXES):
            return f"port {header.port} is not the local port {self._platform.local_port}"
        return None

    def _client_host(self, display: str, prefix: str, environment: Environment) -> ResolvedHost:
        labels = prefix.split(".")
        invalid = ResolvedHost(
            host=display,
            kind=HostKind.INVALID,
            environment=environment,
            reason="a client host is <client>.<account-number>.<api domain>",
        )
        if len(labels) < 2 or len(labels) > 3:
            return invalid
        *name_labels, account = labels
        if not is_account_number(account):
            return msgspec.structs.replace(
                invalid, reason=f"'{account}' is not an account number (####-####-####)"
            )
        problem = hostname_problem(".".join(name_labels))
        if problem is not None:
            return msgspec.structs.replace(invalid, reason=problem)
        return ResolvedHost(
            host=display,
            kind=HostKind.CLIENT,
            environment=environment,
            account_number=account,
            llm_client_name=".".join(name_labels),
        )

    def _candidate_custom_host(self, display: str, name: str) -> ResolvedHost:
        def invalid(reason: str) -> ResolvedHost:
            return ResolvedHost(host=display, kind=HostKind.INVALID, reason=reason)

        problem = hostname_problem(name)
        if problem is not None:
            return invalid(problem)
        if name == self._root or name.endswith(self._root_suffix):
            return invalid(f"not a host of the platform domain {self._root}")
        labels = name.split(".")
        if labels[-1].isdigit():
            return invalid("an IP address is not a client host")
        if len(labels) < 3:
            return invalid("a custom-domain host is <client>.<custom domain>")
        return ResolvedHost(
            host=display,
            kind=HostKind.CUSTOM_DOMAIN,
            llm_client_name=labels[0],
            custom_domain=".".join(labels[1:]),
        )

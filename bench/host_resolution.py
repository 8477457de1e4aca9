"""Host resolution must not grow with the number of clients.

Resolves the same mix of hosts (console, API, client hosts that exist and that do not,
custom-domain hosts, invalid hosts) against in-memory indexes of 10 clients and of 100,000
clients plus 10,000 custom domains: HostRouter.resolve, then the key lookup an adapter makes.
Prints the time per resolution of each, and their ratio; exits 1 when the ratio is above 1.5.

Run: python bench/host_resolution.py   (standard library and smarter only)
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path

try:
    import smarter  # noqa: F401
except ImportError:  # run from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from smarter.domain.account_number import AccountNumber
from smarter.domain.custom_domain import CustomDomain
from smarter.domain.environments import Environment, Platform
from smarter.domain.host_router import HostKind, HostRouter
from smarter.domain.llm_client import LLMClient

MAX_RATIO = 1.5
CLIENTS_PER_ACCOUNT = 10
ROUNDS = 2_000
REPEATS = 7

PLATFORM = Platform(environment=Environment.PROD)

ClientKey = tuple[str, str]


class Index:
    """What the chat endpoint looks hosts up in: clients by (account, name), domains by name."""

    def __init__(self, n_clients: int, n_domains: int) -> None:
        self.clients: dict[ClientKey, LLMClient] = {}
        self.domains: dict[str, CustomDomain] = {}
        for i in range(n_clients):
            account = account_number(i // CLIENTS_PER_ACCOUNT)
            # Every tenth client belongs to someone other than the account admin.
            is_admin = i % 10 != 9
            client = LLMClient(
                platform=PLATFORM,
                account_number=account,
                owner_username="admin" if is_admin else f"user{i % 1000:03d}",
                owner_is_admin=is_admin,
                name=client_name(i),
                id=i + 1,
                deployed=True,
            )
            self.clients[(client.account_number, client.rfc1034_compliant_name)] = client
        for k in range(n_domains):
            domain = CustomDomain(domain_name=domain_name(k), account_number=account_number(k))
            domain.is_verified = True
            self.domains[domain.domain_name] = domain

    def lookup(self, router: HostRouter, host: str) -> LLMClient | HostKind | None:
        """The client a Host header addresses, the kind of a platform host, or None."""
        resolved = router.resolve(host)
        kind = resolved.kind
        if kind is HostKind.CLIENT:
            return self.clients.get((resolved.account_number or "", resolved.llm_client_name or ""))
        if kind is HostKind.CUSTOM_DOMAIN:
            domain = self.domains.get(resolved.custom_domain or "")
            if domain is None or not domain.is_verified:
                return None
            return self.clients.get((domain.account_number, resolved.llm_client_name or ""))
        return kind


def account_number(k: int) -> AccountNumber:
    digits = f"{k + 100_000_000:012d}"
    return AccountNumber(f"{digits[0:4]}-{digits[4:8]}-{digits[8:12]}")


def client_name(i: int) -> str:
    return f"client_{i:06d}"  # the underscore becomes a hyphen in the host


def domain_name(k: int) -> str:
    return f"customer{k:05d}.example.org"


def host_mix(n_clients: int, n_domains: int) -> tuple[list[str], list[str], list[str]]:
    """Hosts of every kind; the clients and domains that exist are spread over the index."""
    picks = sorted({0, 1, n_clients // 3, n_clients // 2, n_clients - 2, n_clients - 1})
    admin_picks = [i for i in picks if i % 10 != 9][:4]
    existing = [client_host(i) for i in picks] + [
        f"{client_label(i)}.{domain_name(i // CLIENTS_PER_ACCOUNT)}"
        for i in admin_picks
        if i // CLIENTS_PER_ACCOUNT < n_domains
    ]
    missing = [
        # Right shape, nobody there: another name, another account, another domain.
        f"nobody-{0:06d}.{account_number(0)}.api.example.com",
        f"client-{0:06d}.{account_number(999_999)}.api.example.com",
        f"client-{n_clients + 5:06d}.{account_number(0)}.api.example.com",
        f"client-{0:06d}.customer99999.example.net",
        f"nobody-{0:06d}.{domain_name(0)}",
    ]
    platform = [
        "platform.example.com",
        "api.example.com",
        "alpha.platform.example.com:443",
        "localhost:9357",
        "api.localhost:9357",
        # Invalid hosts, each refused for a different reason.
        "",
        "localhost:8000",
        "client_000000.0100-0000-0000.api.example.com",
        "client-000000.0100-0000.api.example.com",
        "www.example.com",
        "10.0.0.1",
        "bücher.example.org",
        "a..b.example.org",
        "x" * 70 + ".example.org",
    ]
    return existing, missing, platform


def client_label(i: int) -> str:
    return f"client-{i:06d}"


def client_host(i: int) -> str:
    label = client_label(i) if i % 10 != 9 else f"{client_label(i)}.user{i % 1000:03d}"
    return f"{label}.{account_number(i // CLIENTS_PER_ACCOUNT)}.api.example.com"


def check(index: Index, router: HostRouter, existing: list[str], missing: list[str]) -> None:
    """The benchmark measures nothing if the lookups do not find what they should."""
    for host in existing:
        if not isinstance(index.lookup(router, host), LLMClient):
            raise SystemExit(f"bench is broken: {host!r} does not find its client")
    for host in missing:
        if index.lookup(router, host) is not None:
            raise SystemExit(f"bench is broken: {host!r} finds a client")


def per_resolution(
    lookup: Callable[[HostRouter, str], object], router: HostRouter, hosts: list[str]
) -> float:
    """Seconds per resolution of one timed repeat of ROUNDS passes over `hosts`."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(ROUNDS):
            for host in hosts:
                lookup(router, host)
        elapsed = time.perf_counter() - start
    finally:
        if gc_was_enabled:
            gc.enable()
    return elapsed / (ROUNDS * len(hosts))


def main() -> int:
    started = time.perf_counter()
    router = HostRouter(PLATFORM)
    sizes = {"small": (10, 1), "large": (100_000, 10_000)}
    indexes: dict[str, Index] = {}
    mixes: dict[str, list[str]] = {}
    for label, (n_clients, n_domains) in sizes.items():
        index = Index(n_clients, n_domains)
        existing, missing, platform = host_mix(n_clients, n_domains)
        check(index, router, existing, missing)
        indexes[label] = index
        mixes[label] = existing + missing + platform
    if len(mixes["small"]) != len(mixes["large"]):
        raise SystemExit("bench is broken: the two host mixes differ in size")
    built = time.perf_counter() - started

    best = dict.fromkeys(sizes, float("inf"))
    for _ in range(REPEATS):  # interleaved, so drift of the machine hits both alike
        for label in sizes:
            seconds = per_resolution(indexes[label].lookup, router, mixes[label])
            best[label] = min(best[label], seconds)

    small, large = best["small"] * 1e6, best["large"] * 1e6
    ratio = large / small
    hosts = len(mixes["small"])
    print(f"host resolution, {hosts} hosts x {ROUNDS} rounds, best of {REPEATS} repeats")
    print(f"  10 clients:                                {small:8.3f} us per resolution")
    print(f"  100,000 clients + 10,000 custom domains:   {large:8.3f} us per resolution")
    print(f"  ratio (large / small):                     {ratio:8.3f}  (limit {MAX_RATIO})")
    print(f"  indexes built in {built:.1f} s, total {time.perf_counter() - started:.1f} s")
    if ratio > MAX_RATIO:
        print(f"FAIL: resolution with 100,000 clients is {ratio:.2f}x slower than with 10")
        return 1
    print("OK: host resolution does not grow with the number of clients and domains")
    return 0


if __name__ == "__main__":
    sys.exit(main())

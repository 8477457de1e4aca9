"""Host classification: every host kind, normalisation, rejections."""

from __future__ import annotations

import pytest

from smarter.domain.environments import Environment, Platform
from smarter.domain.host_router import HostKind, HostRouter, ResolvedHost

LOCAL = Environment.LOCAL
ALPHA = Environment.ALPHA
BETA = Environment.BETA
NEXT = Environment.NEXT
PROD = Environment.PROD

ROUTER = HostRouter(Platform())


def resolve(host: str) -> ResolvedHost:
    return ROUTER.resolve(host)


# -- the console hosts ------------------------------------------------------------------------

CONSOLE_HOSTS = [
    ("localhost:9357", LOCAL),
    ("127.0.0.1:9357", LOCAL),
    ("platform.example.com", PROD),
    ("alpha.platform.example.com", ALPHA),
    ("beta.platform.example.com", BETA),
    ("next.platform.example.com", NEXT),
]


@pytest.mark.parametrize(("host", "environment"), CONSOLE_HOSTS)
def test_each_console_host_is_a_console_host_of_its_environment(
    host: str, environment: Environment
) -> None:
    resolved = resolve(host)
    assert resolved == ResolvedHost(host=host, kind=HostKind.CONSOLE, environment=environment)


# -- the API hosts ----------------------------------------------------------------------------

API_HOSTS = [
    ("api.localhost:9357", LOCAL),
    ("api.127.0.0.1:9357", LOCAL),
    ("api.example.com", PROD),
    ("alpha.api.example.com", ALPHA),
    ("beta.api.example.com", BETA),
    ("next.api.example.com", NEXT),
    # The DNS-shaped stand-in that local client hosts hang under (the client's base_api_domain).
    ("api.local.example.com", LOCAL),
]


@pytest.mark.parametrize(("host", "environment"), API_HOSTS)
def test_each_api_host_is_an_api_host_of_its_environment(
    host: str, environment: Environment
) -> None:
    resolved = resolve(host)
    assert resolved == ResolvedHost(host=host, kind=HostKind.API, environment=environment)


# -- the named client hosts, plus the local and non-admin forms ------------------------------

CLIENT_HOSTS = [
    # host, environment, account number, llm_client_name
    ("example.1234-5678-9012.api.example.com", PROD, "1234-5678-9012", "example"),
    ("example.1234-5678-9012.alpha.api.example.com", ALPHA, "1234-5678-9012", "example"),
    ("example.1234-5678-9012.beta.api.example.com", BETA, "1234-5678-9012", "example"),
    ("example.1234-5678-9012.next.api.example.com", NEXT, "1234-5678-9012", "example"),
    ("education.3141-5926-5359.alpha.api.example.com", ALPHA, "3141-5926-5359", "education"),
    ("my-bot.0000-0000-0000.api.example.com", PROD, "0000-0000-0000", "my-bot"),
    ("b0t.9999-9999-9999.next.api.example.com", NEXT, "9999-9999-9999", "b0t"),
    # A client whose name is also an environment name stays under the right API domain.
    ("alpha.1234-5678-9012.beta.api.example.com", BETA, "1234-5678-9012", "alpha"),
    ("api.1234-5678-9012.api.example.com", PROD, "1234-5678-9012", "api"),
    # Local: the DNS-shaped stand-in, and the curl-able forms on the local port.
    ("example.1234-5678-9012.api.local.example.com", LOCAL, "1234-5678-9012", "example"),
    ("example.1234-5678-9012.api.localhost:9357", LOCAL, "1234-5678-9012", "example"),
    ("example.1234-5678-9012.api.127.0.0.1:9357", LOCAL, "1234-5678-9012", "example"),
    # A client owned by someone other than the account admin: `<name>.<username>`.
    (
        "example.user123.1234-5678-9012.alpha.api.example.com",
        ALPHA,
        "1234-5678-9012",
        "example.user123",
    ),
    ("example.user123.1234-5678-9012.api.example.com", PROD, "1234-5678-9012", "example.user123"),
    (
        "example.user123.1234-5678-9012.api.local.example.com",
        LOCAL,
        "1234-5678-9012",
        "example.user123",
    ),
    (
        "example.user123.1234-5678-9012.api.localhost:9357",
        LOCAL,
        "1234-5678-9012",
        "example.user123",
    ),
]


@pytest.mark.parametrize(("host", "environment", "account", "name"), CLIENT_HOSTS)
def test_each_named_client_host_gives_its_environment_account_and_client_name(
    host: str, environment: Environment, account: str, name: str
) -> None:
    resolved = resolve(host)
    assert resolved == ResolvedHost(
        host=host,
        kind=HostKind.CLIENT,
        environment=environment,
        account_number=account,
        llm_client_name=name,
    )


def test_a_client_label_of_exactly_63_characters_is_accepted() -> None:
    name = "a" * 63
    resolved = resolve(f"{name}.1234-5678-9012.api.example.com")
    assert resolved.kind is HostKind.CLIENT
    assert resolved.llm_client_name == name


# -- custom-domain candidates ------------------------------------------------------------------

CUSTOM_DOMAIN_HOSTS = [
    # host, normalised host, client name, custom domain
    ("example.example.org", "example.example.org", "example", "example.org"),
    ("chat.acme.co.uk", "chat.acme.co.uk", "chat", "acme.co.uk"),
    ("Support.Stackademy.COM.", "support.stackademy.com", "support", "stackademy.com"),
    ("bot.acme.org:443", "bot.acme.org:443", "bot", "acme.org"),
    ("bot.acme.org:8443", "bot.acme.org:8443", "bot", "acme.org"),
    ("bot.xn--bcher-kva.example", "bot.xn--bcher-kva.example", "bot", "xn--bcher-kva.example"),
    # A name that merely contains the platform's domains is not under them.
    (
        "x.1234-5678-9012.api.example.com.evil.org",
        "x.1234-5678-9012.api.example.com.evil.org",
        "x",
        "1234-5678-9012.api.example.com.evil.org",
    ),
    ("a.notexample.com", "a.notexample.com", "a", "notexample.com"),
]


@pytest.mark.parametrize(("host", "normalised", "name", "domain"), CUSTOM_DOMAIN_HOSTS)
def test_a_host_outside_the_platform_domain_is_a_custom_domain_candidate(
    host: str, normalised: str, name: str, domain: str
) -> None:
    resolved = resolve(host)
    assert resolved == ResolvedHost(
        host=normalised,
        kind=HostKind.CUSTOM_DOMAIN,
        llm_client_name=name,
        custom_domain=domain,
    )


# -- normalisation: case, trailing dot, ports, whitespace ------------------------------------

NORMALISED_HOSTS = [
    # raw, normalised host, kind, environment
    ("LOCALHOST:9357", "localhost:9357", HostKind.CONSOLE, LOCAL),
    ("localhost.:9357", "localhost:9357", HostKind.CONSOLE, LOCAL),
    ("  localhost:9357  ", "localhost:9357", HostKind.CONSOLE, LOCAL),
    ("Platform.Example.Com", "platform.example.com", HostKind.CONSOLE, PROD),
    ("platform.example.com.", "platform.example.com", HostKind.CONSOLE, PROD),
    ("ALPHA.PLATFORM.EXAMPLE.COM.", "alpha.platform.example.com", HostKind.CONSOLE, ALPHA),
    ("platform.example.com:443", "platform.example.com:443", HostKind.CONSOLE, PROD),
    ("beta.platform.example.com.:8443", "beta.platform.example.com:8443", HostKind.CONSOLE, BETA),
    ("API.LOCALHOST:9357", "api.localhost:9357", HostKind.API, LOCAL),
    ("api.127.0.0.1.:9357", "api.127.0.0.1:9357", HostKind.API, LOCAL),
    ("Next.Api.Example.Com.", "next.api.example.com", HostKind.API, NEXT),
    ("api.example.com:443", "api.example.com:443", HostKind.API, PROD),
    (
        "EXAMPLE.1234-5678-9012.ALPHA.API.EXAMPLE.COM",
        "example.1234-5678-9012.alpha.api.example.com",
        HostKind.CLIENT,
        ALPHA,
    ),
    (
        "example.1234-5678-9012.alpha.api.example.com.",
        "example.1234-5678-9012.alpha.api.example.com",
        HostKind.CLIENT,
        ALPHA,
    ),
    (
        "Example.1234-5678-9012.Api.Example.Com.:443",
        "example.1234-5678-9012.api.example.com:443",
        HostKind.CLIENT,
        PROD,
    ),
    (
        "example.1234-5678-9012.api.localhost.:9357",
        "example.1234-5678-9012.api.localhost:9357",
        HostKind.CLIENT,
        LOCAL,
    ),
    # A leading-zero port is still the port.
    ("localhost:09357", "localhost:9357", HostKind.CONSOLE, LOCAL),
    # A proxy may drop the local port: the local names still mean the local platform.
    ("localhost", "localhost", HostKind.CONSOLE, LOCAL),
    ("127.0.0.1", "127.0.0.1", HostKind.CONSOLE, LOCAL),
    ("api.localhost", "api.localhost", HostKind.API, LOCAL),
]


@pytest.mark.parametrize(("raw", "normalised", "kind", "environment"), NORMALISED_HOSTS)
def test_matching_ignores_case_a_trailing_dot_and_an_explicit_port(
    raw: str, normalised: str, kind: HostKind, environment: Environment
) -> None:
    resolved = resolve(raw)
    assert (resolved.host, resolved.kind, resolved.environment) == (normalised, kind, environment)


def test_a_client_host_keeps_its_account_and_name_when_written_in_upper_case() -> None:
    resolved = resolve("MY-BOT.3141-5926-5359.BETA.API.EXAMPLE.COM.:443")
    assert resolved.account_number == "3141-5926-5359"
    assert resolved.llm_client_name == "my-bot"


# -- invalid hosts -----------------------------------------------------------------------------

LONG_LABEL = "a" * 64
LONG_NAME = ".".join(["abcdefghi"] * 26)  # 26 * 10 - 1 = 259 characters

INVALID_HOSTS = [
    # host, a fragment the reason must contain
    ("", "empty"),
    ("   ", "empty"),
    (":9357", "empty"),
    # Ports: the local hosts live on the local port only; a port is 1..65535.
    ("localhost:8000", "port 8000"),
    ("127.0.0.1:80", "port 80"),
    ("api.localhost:9358", "port 9358"),
    ("api.127.0.0.1:1", "port 1"),
    ("example.1234-5678-9012.api.localhost:8000", "port 8000"),
    ("example.1234-5678-9012.api.127.0.0.1:9000", "port 9000"),
    ("localhost:0", "not a port"),
    ("localhost:65536", "not a port"),
    ("localhost:", "not a port"),
    ("localhost:http", "not a port"),
    ("localhost:-1", "not a port"),
    ("localhost:+80", "not a port"),
    ("localhost:123456", "not a port"),
    ("localhost:9357:9357", "may only hold"),
    # Empty labels.
    ("a..example.org", "empty label"),
    (".example.org", "empty label"),
    ("example.org..", "empty label"),
    ("example..1234-5678-9012.api.example.com", "empty label"),
    (".1234-5678-9012.api.example.com", "empty"),
    # Lengths.
    (f"{LONG_LABEL}.example.org", "longer than 63"),
    (f"{LONG_LABEL}.1234-5678-9012.api.example.com", "longer than 63"),
    (f"example.{LONG_LABEL}.1234-5678-9012.api.example.com", "longer than 63"),
    (f"{LONG_NAME}.org", "longer than 253"),
    # Characters outside the hostname alphabet.
    ("exa mple.example.org", "may only hold"),
    ("exa!mple.example.org", "may only hold"),
    ("exa$mple.1234-5678-9012.api.example.com", "may only hold"),
    ("-bot.1234-5678-9012.api.example.com", "may only hold"),
    ("bot-.1234-5678-9012.api.example.com", "may only hold"),
    ("bot.-acme.org", "may only hold"),
    ("*.acme.org", "may only hold"),
    ("[::1]:9357", "may only hold"),
    ("[::1]", "not a port"),
    # Underscore: not in a host name, even though the original's `[\w\-]+` allowed it.
    ("my_bot.1234-5678-9012.api.example.com", "may only hold"),
    ("my_bot.user123.1234-5678-9012.alpha.api.example.com", "may only hold"),
    ("my_bot.acme.org", "may only hold"),
    ("example.user_123.1234-5678-9012.api.example.com", "may only hold"),
    # Non-ASCII input: only the xn-- form is a host name.
    ("bücher.example.org", "xn--"),
    ("bücher.1234-5678-9012.api.example.com", "xn--"),
    ("\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54:9357", "xn--"),  # full-width
    ("localhost:\u0669\u0663\u0665\u0667", "xn--"),  # Arabic-Indic digits
    # The original's two-group account number is a bug: three groups of four digits only.
    ("example.1234-5678.api.example.com", "account number"),
    ("example.1234-5678.alpha.api.example.com", "account number"),
    ("example.1234-5678.beta.api.example.com", "account number"),
    ("example.1234-5678.next.api.example.com", "account number"),
    ("example.1234-5678-9012-3456.api.example.com", "account number"),
    ("example.123-4567-8901.api.example.com", "account number"),
    ("example.abcd-efgh-ijkl.alpha.api.example.com", "account number"),
    ("example.12345678-9012.api.example.com", "account number"),
    ("example.1234-5678-9012.prod.api.example.com", "account number"),
    # Client hosts with the wrong number of labels in front of the API domain.
    ("1234-5678-9012.api.example.com", "<client>.<account-number>"),
    ("example.alpha.api.example.com", "<client>.<account-number>"),
    ("gamma.api.example.com", "<client>.<account-number>"),
    ("a.b.c.1234-5678-9012.alpha.api.example.com", "<client>.<account-number>"),
    ("x.api.localhost:9357", "<client>.<account-number>"),
    # IP addresses are never client hosts.
    ("1.2.3.4", "IP address"),
    ("10.0.0.1:8080", "IP address"),
    ("192.168.1.1", "IP address"),
    ("127.0.0.2:9357", "IP address"),
    # Under the root domain but none of its hosts.
    ("example.com", "platform domain"),
    ("www.example.com", "platform domain"),
    ("example.com:443", "platform domain"),
    ("foo.platform.example.com", "platform domain"),
    ("prod.platform.example.com", "platform domain"),
    ("gamma.platform.example.com", "platform domain"),
    ("local.example.com", "platform domain"),
    ("x.local.example.com", "platform domain"),
    ("example.example.com", "platform domain"),
    ("example.1234-5678-9012.example.com", "platform domain"),
    # Too few labels to be <client>.<custom domain>.
    ("acme.org", "<client>.<custom domain>"),
    ("intranet", "<client>.<custom domain>"),
    ("localhost.localdomain", "<client>.<custom domain>"),
]


@pytest.mark.parametrize(("host", "fragment"), INVALID_HOSTS)
def test_an_invalid_host_is_rejected_with_a_reason(host: str, fragment: str) -> None:
    resolved = resolve(host)
    assert resolved.kind is HostKind.INVALID
    assert resolved.reason is not None
    assert fragment in resolved.reason
    assert resolved.account_number is None
    assert resolved.llm_client_name is None
    assert resolved.custom_domain is None


def test_a_long_label_is_shortened_in_the_reason() -> None:
    resolved = resolve(f"{'b' * 100}.example.org")
    assert resolved.reason is not None
    assert "b" * 21 not in resolved.reason


GARBAGE = [
    "\x00",
    "\n",
    "\t\r\n",
    "localhost:9357\r\nX-Evil: 1",
    "http://localhost:9357/",
    "https://platform.example.com/path",
    "localhost:9357/path",
    "user@localhost:9357",
    "user:pass@platform.example.com",
    "a:" + "9" * 5000,
    "localhost:" + "0" * 5000 + "9357",
    ":" * 100,
    "[",
    "]",
    "[::1",
    "::1",
    "::",
    "a" * 10_000,
    "." * 300,
    ".",
    "..",
    "-",
    "*",
    "%00",
    "%2e%2e",
    "\udcff",
    "\ud800.example.org",
    "☃.com",
    "\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com",  # full-width
    "\u200b.example.org",
    "exa\u0301mple.org",
    "example.1234-5678-9012.api.example.com:" + "9" * 100,
    "0x7f.0.0.1",
    "1.2.3.4.5",
    "-1",
    "   :   ",
    "@",
    "#",
    "?x=1",
    "/",
    "\\\\server\\share",
    "a" * 63 + "." + "b" * 64 + ".1234-5678-9012.api.example.com",
    ".".join(["a"] * 200),
]


@pytest.mark.parametrize("host", GARBAGE)
def test_garbage_never_raises_and_is_invalid_with_a_reason(host: str) -> None:
    resolved = resolve(host)
    assert resolved.kind is HostKind.INVALID
    assert resolved.reason


# -- other platforms ----------------------------------------------------------------------------


def test_one_router_classifies_the_hosts_of_every_environment_whatever_its_own() -> None:
    router = HostRouter(Platform(environment=PROD))
    for host, environment in CONSOLE_HOSTS:
        assert router.resolve(host).environment is environment
    for host, environment, *_ in CLIENT_HOSTS:
        assert router.resolve(host).environment is environment


def test_the_router_follows_the_configured_root_domain_and_subdomains() -> None:
    router = HostRouter(
        Platform(root_domain="smarter.sh", platform_subdomain="console", api_subdomain="chat")
    )
    assert router.resolve("alpha.console.smarter.sh").kind is HostKind.CONSOLE
    assert router.resolve("console.smarter.sh").environment is PROD
    assert router.resolve("beta.chat.smarter.sh").kind is HostKind.API
    client = router.resolve("bot.3141-5926-5359.next.chat.smarter.sh")
    assert (client.kind, client.environment, client.llm_client_name) == (
        HostKind.CLIENT,
        NEXT,
        "bot",
    )
    assert router.resolve("bot.3141-5926-5359.chat.local.smarter.sh").environment is LOCAL
    # The default names now belong to nobody.
    assert router.resolve("platform.example.com").kind is HostKind.CUSTOM_DOMAIN
    assert router.resolve("www.smarter.sh").kind is HostKind.INVALID


def test_the_router_follows_the_configured_local_port() -> None:
    router = HostRouter(Platform(local_port=8000))
    assert router.resolve("localhost:8000").kind is HostKind.CONSOLE
    assert router.resolve("localhost:9357").kind is HostKind.INVALID
    assert router.resolve("bot.1234-5678-9012.api.localhost:8000").kind is HostKind.CLIENT


def test_the_resolved_host_serialises_without_its_empty_fields() -> None:
    import msgspec

    resolved = resolve("example.1234-5678-9012.alpha.api.example.com")
    assert msgspec.json.decode(msgspec.json.encode(resolved)) == {
        "host": "example.1234-5678-9012.alpha.api.example.com",
        "kind": "client",
        "environment": "alpha",
        "account_number": "1234-5678-9012",
        "llm_client_name": "example",
    }

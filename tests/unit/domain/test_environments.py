"""Environments, their console and API domains, and the scheme rule."""

from __future__ import annotations

import pytest

from smarter.domain.environments import Environment, Platform
from smarter.domain.errors import InvalidValue

DOMAINS = [
    # environment, console (platform) domain, API domain, base API domain of client hosts
    (Environment.LOCAL, "localhost:9357", "api.localhost:9357", "api.local.example.com"),
    (
        Environment.ALPHA,
        "alpha.platform.example.com",
        "alpha.api.example.com",
        "alpha.api.example.com",
    ),
    (Environment.BETA, "beta.platform.example.com", "beta.api.example.com", "beta.api.example.com"),
    (Environment.NEXT, "next.platform.example.com", "next.api.example.com", "next.api.example.com"),
    (Environment.PROD, "platform.example.com", "api.example.com", "api.example.com"),
]


@pytest.mark.parametrize(("environment", "console", "api", "base_api"), DOMAINS)
def test_each_environment_has_its_console_and_api_domains(
    environment: Environment, console: str, api: str, base_api: str
) -> None:
    platform = Platform(environment=environment)
    assert platform.console_domain == console
    assert platform.api_domain == api
    assert platform.base_api_domain == base_api


@pytest.mark.parametrize(("environment", "console", "api", "base_api"), DOMAINS)
def test_any_platform_can_name_the_domains_of_another_environment(
    environment: Environment, console: str, api: str, base_api: str
) -> None:
    platform = Platform(environment=Environment.PROD)
    assert platform.console_domain_of(environment) == console
    assert platform.api_domain_of(environment) == api


@pytest.mark.parametrize(
    ("environment", "scheme"),
    [
        (Environment.LOCAL, "http"),
        (Environment.ALPHA, "https"),
        (Environment.BETA, "https"),
        (Environment.NEXT, "https"),
        (Environment.PROD, "https"),
    ],
)
def test_the_scheme_is_http_in_local_and_https_elsewhere(
    environment: Environment, scheme: str
) -> None:
    assert Platform(environment=environment).scheme == scheme


def test_the_defaults_are_example_com_platform_api_local_and_port_9357() -> None:
    platform = Platform()
    assert (
        platform.root_domain,
        platform.platform_subdomain,
        platform.api_subdomain,
        platform.environment,
        platform.local_port,
    ) == ("example.com", "platform", "api", Environment.LOCAL, 9357)


def test_the_domains_follow_the_configured_root_subdomains_and_port() -> None:
    platform = Platform(
        root_domain="smarter.sh",
        platform_subdomain="console",
        api_subdomain="chat",
        environment=Environment.BETA,
        local_port=8000,
    )
    assert platform.console_domain == "beta.console.smarter.sh"
    assert platform.api_domain == "beta.chat.smarter.sh"
    assert platform.console_domain_of(Environment.LOCAL) == "localhost:8000"
    assert platform.api_domain_of(Environment.LOCAL) == "api.localhost:8000"
    assert Platform(root_domain="smarter.sh", api_subdomain="chat").base_api_domain == (
        "chat.local.smarter.sh"
    )


@pytest.mark.parametrize(
    ("raw", "environment"),
    [
        ("local", Environment.LOCAL),
        ("alpha", Environment.ALPHA),
        ("beta", Environment.BETA),
        ("next", Environment.NEXT),
        ("prod", Environment.PROD),
        (" PROD ", Environment.PROD),
        ("Alpha", Environment.ALPHA),
    ],
)
def test_an_environment_name_parses_whatever_its_case_and_spacing(
    raw: str, environment: Environment
) -> None:
    assert Environment.parse(raw) is environment


@pytest.mark.parametrize(
    "raw", ["", " ", "production", "dev", "staging", "gamma", "alpha.", "l\u043ecal", "local\x00"]
)
def test_an_unknown_environment_name_is_an_invalid_value_naming_the_environment(
    raw: str,
) -> None:
    with pytest.raises(InvalidValue) as caught:
        Environment.parse(raw)
    assert caught.value.field == "environment"
    assert "local, alpha, beta, next, prod" in caught.value.message

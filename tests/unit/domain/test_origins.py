"""Which browser origins may call a client: its own hosts and the origins its owner lists."""

from __future__ import annotations

import pytest

from smarter.domain.account_number import AccountNumber
from smarter.domain.custom_domain import CustomDomain
from smarter.domain.environments import Environment, Platform
from smarter.domain.llm_client import LLMClient
from smarter.domain.origins import may_use, origin_of

PLATFORM = Platform(environment=Environment.ALPHA)
ACCOUNT = AccountNumber("3141-5926-5359")
OWN = "https://example.3141-5926-5359.alpha.api.example.com"


def client(verified: bool = True, **spec: object) -> LLMClient:
    domain = CustomDomain(domain_name="bots.customer.com", account_number=ACCOUNT, id=1)
    domain.is_verified = verified
    return LLMClient(
        name="example",
        platform=PLATFORM,
        account_number=ACCOUNT,
        owner_username="admin",
        owner_is_admin=True,
        custom_domain=domain,
        **spec,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://Shop.Example.org/", "https://shop.example.org"),
        ("https://shop.example.org:443/path", "https://shop.example.org"),
        ("http://localhost:9357", "http://localhost:9357"),
        ("http://user@shop.example.org:80", "http://shop.example.org"),
        ("ftp://shop.example.org", None),
        ("null", None),
        ("", None),
    ],
)
def test_an_origin_is_scheme_host_and_port_in_lower_case(url: str, origin: str | None) -> None:
    assert origin_of(url) == origin


def test_the_clients_default_and_verified_custom_hosts_are_allowed() -> None:
    allowed = client()
    assert may_use(OWN, allowed, OWN)
    assert may_use("https://example.bots.customer.com", allowed, OWN)
    assert not may_use("https://example.bots.customer.com", client(verified=False), OWN)


def test_listed_origins_are_allowed_and_nothing_else() -> None:
    listed = client(cors_origins=["https://shop.example.org/app"])
    assert may_use("https://shop.example.org", listed, OWN)
    assert not may_use("https://shop.example.org:8443", listed, OWN)
    assert not may_use("http://shop.example.org", listed, OWN)
    assert not may_use("https://evil.example.net", listed, OWN)
    assert not may_use("null", listed, OWN)


def test_the_host_called_is_its_own_origin() -> None:
    own_local = "http://example.3141-5926-5359.api.localhost:9357"
    assert may_use(own_local, client(), own_local)

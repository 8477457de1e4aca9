"""Host header splitting and the validation of host names the platform stores."""

from __future__ import annotations

import pytest

from smarter.domain.errors import InvalidValue
from smarter.domain.hostnames import (
    HostHeader,
    hostname_problem,
    normalize_hostname,
    split_host_header,
)


@pytest.mark.parametrize(
    ("raw", "name", "port"),
    [
        ("example.org", "example.org", None),
        ("Example.ORG.", "example.org", None),
        ("example.org:443", "example.org", 443),
        ("example.org.:8443", "example.org", 8443),
        (" localhost:9357 ", "localhost", 9357),
        ("localhost:1", "localhost", 1),
        ("localhost:65535", "localhost", 65535),
        ("localhost:00080", "localhost", 80),
    ],
)
def test_a_host_header_splits_into_a_lower_case_name_and_a_port(
    raw: str, name: str, port: int | None
) -> None:
    header = split_host_header(raw)
    assert isinstance(header, HostHeader)
    assert (header.name, header.port) == (name, port)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", "empty"),
        ("  ", "empty"),
        ("bücher.de", "xn--"),
        ("host:", "not a port"),
        ("host:0", "not a port"),
        ("host:65536", "not a port"),
        ("host:000000080", "not a port"),
        ("host:x", "not a port"),
        ("host:" + "9" * 5000, "not a port"),
    ],
)
def test_a_host_header_that_cannot_be_split_gives_the_reason(raw: str, fragment: str) -> None:
    reason = split_host_header(raw)
    assert isinstance(reason, str)
    assert fragment in reason


@pytest.mark.parametrize(
    "name",
    [
        "a",
        "localhost",
        "example.org",
        "xn--bcher-kva.example",
        "a-b.c-d.example",
        "1234-5678-9012.api.example.com",
        "a" * 63 + ".org",
        ".".join(["a" * 61] * 4) + ".abcde",  # exactly 253 characters
    ],
)
def test_a_valid_host_name_has_no_problem(name: str) -> None:
    assert hostname_problem(name) is None


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "empty"),
        (".".join(["a" * 61] * 4) + ".abcdef", "longer than 253"),
        ("a..b", "empty label"),
        ("a.", "empty label"),
        ("a" * 64 + ".org", "longer than 63"),
        ("a_b.org", "may only hold"),
        ("-a.org", "may only hold"),
        ("a-.org", "may only hold"),
        ("A.org", "may only hold"),
    ],
)
def test_an_invalid_host_name_has_a_problem_that_says_why(name: str, fragment: str) -> None:
    problem = hostname_problem(name)
    assert problem is not None
    assert fragment in problem


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("Example.COM", "example.com"),
        ("example.com.", "example.com"),
        ("  example.com  ", "example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("BÜCHER.example.", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
    ],
)
def test_a_host_name_from_user_input_is_normalised(raw: str, normalised: str) -> None:
    assert normalize_hostname("domain_name", raw) == normalised


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", "empty"),
        ("a..b", "empty label"),
        ("llm_client.example.com", "llm_client"),
        ("bü..example", "internationalised"),
        ("\ud800.example", "internationalised"),
        ("ü" * 70 + ".example", "internationalised"),
    ],
)
def test_an_invalid_host_name_from_user_input_raises_naming_the_field(
    raw: str, fragment: str
) -> None:
    with pytest.raises(InvalidValue) as caught:
        normalize_hostname("origin", raw)
    assert caught.value.field == "origin"
    assert fragment in caught.value.message

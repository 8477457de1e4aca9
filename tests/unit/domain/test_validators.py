"""Validators of client names, semantic versions and URLs."""

from __future__ import annotations

import pytest

from smarter.domain.errors import InvalidValue
from smarter.domain.validators import validate_client_name, validate_semver, validate_url

# -- client names -----------------------------------------------------------------------------

VALID_NAMES = ["example", "apiKey", "ApiKey", "my_bot", "my-bot", "Bot2", "a", "a" * 128, "x__-_y"]
INVALID_NAMES = [
    ("", "must not be empty"),
    ("a" * 129, "at most 128"),
    ("9lives", "must start with a letter"),
    ("_bot", "must start with a letter"),
    ("-bot", "must start with a letter"),
    ("my bot", "must start with a letter"),
    ("my.bot", "must start with a letter"),
    ("bot!", "must start with a letter"),
    ("bot\n", "must start with a letter"),
    ("naïve", "must start with a letter"),
    ("\uff42\uff4f\uff54", "must start with a letter"),  # full-width
]


@pytest.mark.parametrize("name", VALID_NAMES)
def test_a_client_name_of_letters_digits_underscores_and_hyphens_is_valid(name: str) -> None:
    assert validate_client_name(name) == name


@pytest.mark.parametrize(("name", "fragment"), INVALID_NAMES)
def test_an_invalid_client_name_raises_naming_the_field_and_the_rule(
    name: str, fragment: str
) -> None:
    with pytest.raises(InvalidValue) as caught:
        validate_client_name(name)
    assert caught.value.field == "name"
    assert fragment in caught.value.reason


def test_the_field_named_in_a_client_name_error_can_be_chosen() -> None:
    with pytest.raises(InvalidValue) as caught:
        validate_client_name("", field="new_name")
    assert caught.value.field == "new_name"
    assert str(caught.value) == "new_name: must not be empty"


# -- semantic versions (the examples of semver.org) -------------------------------------------

VALID_VERSIONS = [
    "0.0.4",
    "1.2.3",
    "10.20.30",
    "1.1.2-prerelease+meta",
    "1.1.2+meta",
    "1.1.2+meta-valid",
    "1.0.0-alpha",
    "1.0.0-beta",
    "1.0.0-alpha.beta",
    "1.0.0-alpha.beta.1",
    "1.0.0-alpha.1",
    "1.0.0-alpha0.valid",
    "1.0.0-alpha.0valid",
    "1.0.0-alpha-a.b-c-somethinglong+build.1-aef.1-its-okay",
    "1.0.0-rc.1+build.1",
    "2.0.0-rc.1+build.123",
    "1.2.3-beta",
    "10.2.3-DEV-SNAPSHOT",
    "1.2.3-SNAPSHOT-123",
    "1.0.0",
    "2.0.0",
    "1.1.7",
    "2.0.0+build.1848",
    "2.0.1-alpha.1227",
    "1.0.0-alpha+beta",
    "1.2.3----RC-SNAPSHOT.12.9.1--.12+788",
    "1.2.3----R-S.12.9.1--.12+meta",
    "1.2.3----RC-SNAPSHOT.12.9.1--.12",
    "1.0.0+0.build.1-rc.10000aaa-kk-0.1",
    "99999999999999999999999.999999999999999999.99999999999999999",
    "1.0.0-0A.is.legal",
]

INVALID_VERSIONS = [
    "1",
    "1.2",
    "1.2.3-0123",
    "1.2.3-0123.0123",
    "1.1.2+.123",
    "+invalid",
    "-invalid",
    "-invalid+invalid",
    "-invalid.01",
    "alpha",
    "alpha.beta",
    "alpha.beta.1",
    "alpha.1",
    "alpha+beta",
    "alpha_beta",
    "alpha.",
    "alpha..",
    "beta",
    "1.0.0-alpha_beta",
    "-alpha.",
    "1.0.0-alpha..",
    "1.0.0-alpha..1",
    "1.0.0-alpha...1",
    "1.0.0-alpha....1",
    "1.0.0-alpha.....1",
    "1.0.0-alpha......1",
    "1.0.0-alpha.......1",
    "01.1.1",
    "1.01.1",
    "1.1.01",
    "1.2.3.DEV",
    "1.2-SNAPSHOT",
    "1.2.31.2.3----RC-SNAPSHOT.12.09.1--..12+788",
    "1.2-RC-SNAPSHOT",
    "-1.0.3-gamma+b7718",
    "+justmeta",
    "9.8.7+meta+meta",
    "9.8.7-whatever+meta+meta",
    "99999999999999999999999.999999999999999999.99999999999999999----RC-SNAPSHOT.12.09.1"
    "--------------------------------..12",
    # Not from semver.org, but just as wrong.
    "",
    "v1.0.0",
    " 1.0.0",
    "1.0.0\n",
    "\u0661.\u0660.\u0660",  # Arabic-Indic digits
    "1.0.0-béta",
]


@pytest.mark.parametrize("version", VALID_VERSIONS)
def test_each_valid_example_of_semver_org_is_a_version(version: str) -> None:
    assert validate_semver(version) == version


@pytest.mark.parametrize("version", INVALID_VERSIONS)
def test_each_invalid_example_of_semver_org_is_rejected_naming_the_field(version: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        validate_semver(version)
    assert caught.value.field == "version"
    assert "semantic version" in caught.value.reason


# -- URLs -------------------------------------------------------------------------------------

VALID_URLS = [
    "https://smarter.sh",
    "https://smarter.sh/",
    "https://cdn.smarter.sh/prompt-ui/background.png",
    "https://cdn.smarter.sh/prompt-ui/logo.png",
    "http://localhost:9357/",
    "http://127.0.0.1:9357/api/v1/",
    "https://example.com:8443/x?y=1#z",
    "HTTPS://Example.COM/Path",
    "https://example.com./",
    "https://user:secret@example.com/",
    "https://xn--bcher-kva.example/",
    "https://a.b.c.d.e.example.com/" + "p" * 1000,
]

INVALID_URLS = [
    ("", "http:// or https://"),
    ("smarter.sh", "http:// or https://"),
    ("//smarter.sh/x", "http:// or https://"),
    ("ftp://smarter.sh/file", "http:// or https://"),
    ("javascript:alert(1)", "http:// or https://"),
    ("data:text/html,hello", "http:// or https://"),
    ("https://", "no valid host"),
    ("https:///path", "no valid host"),
    ("https://example.com:0/", "no valid host"),
    ("https://a_b.example.com/", "no valid host"),
    ("https://-a.example.com/", "no valid host"),
    ("https://a..example.com/", "no valid host"),
    ("https://" + "a" * 64 + ".com/", "no valid host"),
    ("https://example.com:99999/", "not a URL"),
    ("https://example.com:port/", "not a URL"),
    ("http://[::1/", "not a URL"),
    ("http://exa mple.com/", "spaces or non-ASCII"),
    ("https://example.com/\tpath", "spaces or non-ASCII"),
    (" https://example.com/", "spaces or non-ASCII"),
    ("https://bücher.example/", "spaces or non-ASCII"),
    ("https://example.com/" + "p" * 2048, "at most 2048"),
]


@pytest.mark.parametrize("url", VALID_URLS)
def test_an_absolute_http_url_with_a_valid_host_is_valid(url: str) -> None:
    assert validate_url(url, "app_info_url") == url


@pytest.mark.parametrize(("url", "fragment"), INVALID_URLS)
def test_an_invalid_url_raises_naming_the_field_and_what_is_wrong(url: str, fragment: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        validate_url(url, "app_logo_url")
    assert caught.value.field == "app_logo_url"
    assert fragment in caught.value.reason

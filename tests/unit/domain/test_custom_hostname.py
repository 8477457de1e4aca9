"""A custom hostname's records to set, how a check is judged, and when it is verified and
unverified."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smarter.domain.account_number import AccountNumber
from smarter.domain.custom_hostname import CustomHostname, judge_records
from smarter.domain.errors import InvalidValue
from smarter.domain.registered_domains import is_registered_domain, registered_domain

AT = datetime(2026, 1, 1, tzinfo=UTC)
TARGET = "custom.alpha.api.example.com"
CHALLENGES = "acme.alpha.api.example.com"


def a_hostname(name: str = "Chat.Customer.COM.") -> CustomHostname:
    return CustomHostname(
        hostname=name, account_number=AccountNumber("1234-5678-9012"), client_id=7
    )


def test_a_hostname_is_normalized_and_gets_a_token_of_its_own() -> None:
    one, two = a_hostname(), a_hostname()
    assert one.hostname == "chat.customer.com"
    assert len(one.token) == 32 and one.token != two.token


def test_a_name_without_a_domain_is_refused() -> None:
    with pytest.raises(InvalidValue):
        a_hostname("localhost")


def test_a_subdomain_is_routed_by_cname_and_proves_ownership_by_txt() -> None:
    hostname = a_hostname()
    routing, marker, challenge = hostname.required_records(TARGET, ("192.0.2.1",), CHALLENGES)
    assert (routing.name, routing.type, routing.values) == ("chat.customer.com", "CNAME", (TARGET,))
    assert (marker.name, marker.type) == ("_smarter.chat.customer.com", "TXT")
    assert marker.values == (f"smarter-verification={hostname.token}",)
    assert (challenge.name, challenge.type) == ("_acme-challenge.chat.customer.com", "CNAME")
    assert challenge.values[0].endswith(f".{CHALLENGES}")


def test_an_apex_name_is_offered_a_records_to_the_ingress_addresses() -> None:
    routing, *_ = a_hostname("customer.co.uk").required_records(
        TARGET, ("192.0.2.1", "192.0.2.2"), CHALLENGES
    )
    assert (routing.type, routing.values) == ("A", ("192.0.2.1", "192.0.2.2"))


def test_registered_domains_know_the_common_two_label_suffixes() -> None:
    assert registered_domain("chat.customer.co.uk") == "customer.co.uk"
    assert registered_domain("a.b.customer.com") == "customer.com"
    assert is_registered_domain("customer.com") and not is_registered_domain("chat.customer.com")


def test_a_check_names_each_record_that_is_wrong_and_what_was_found() -> None:
    hostname = a_hostname()
    wanted = hostname.required_records(TARGET, (), CHALLENGES)
    found = {
        "chat.customer.com CNAME": ("elsewhere.example.net",),
        "_smarter.chat.customer.com TXT": ("other", hostname.marker_value),
    }

    check = judge_records(wanted, found, AT)

    assert not check.passed
    assert [r.ok for r in check.records] == [False, True, False]
    assert "chat.customer.com CNAME should be custom.alpha.api.example.com" in check.message
    assert "found: elsewhere.example.net" in check.message
    assert "_acme-challenge.chat.customer.com CNAME" in check.message


def test_a_passing_check_verifies_and_failures_in_a_row_unverify_after_the_allowance() -> None:
    hostname = a_hostname()
    wanted = hostname.required_records(TARGET, (), CHALLENGES)
    good = judge_records(wanted, {f"{r.name} {r.type}": r.values for r in wanted}, AT)
    bad = judge_records(wanted, {}, AT)

    assert hostname.observe(bad, 3) is None and not hostname.is_verified
    assert hostname.observe(good, 3) == "verified" and hostname.verified_at == AT
    assert [hostname.observe(bad, 3) for _ in range(2)] == [None, None]
    assert hostname.observe(good, 3) is None and hostname.failures == 0
    assert [hostname.observe(bad, 3) for _ in range(3)] == [None, None, "unverified"]
    assert not hostname.is_verified

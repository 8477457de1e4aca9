"""Custom domains: the names a customer may register, and what verification records."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smarter.domain.account_number import AccountNumber
from smarter.domain.custom_domain import CustomDomain, VerificationReport, normalize_domain_name
from smarter.domain.errors import InvalidValue

ACCOUNT = AccountNumber("3141-5926-5359")
AT = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)


def domain(name: str) -> CustomDomain:
    return CustomDomain(domain_name=name, account_number=ACCOUNT)


def test_a_new_custom_domain_is_unverified_and_keeps_its_name() -> None:
    custom = domain("example.com")
    assert custom.domain_name == "example.com"
    assert custom.account_number == ACCOUNT
    assert custom.is_verified is False
    assert custom.last_verification is None
    assert custom.id is None
    assert custom.aws_hosted_zone_id is None
    assert custom.name_servers == ()


def test_a_name_with_an_underscore_label_is_rejected_naming_the_label() -> None:
    with pytest.raises(InvalidValue) as caught:
        domain("llm_client.example.com")
    assert caught.value.field == "domain_name"
    assert "'llm_client'" in caught.value.message


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("Example.COM", "example.com"),
        ("example.com.", "example.com"),
        ("  Stackademy.Example.  ", "stackademy.example"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("Bücher.Example.", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("chat.acme.co.uk", "chat.acme.co.uk"),
    ],
)
def test_a_domain_name_is_stored_lower_case_without_a_trailing_dot_and_as_xn(
    raw: str, stored: str
) -> None:
    assert domain(raw).domain_name == stored
    assert normalize_domain_name(raw) == stored


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("com", "at least two labels"),
        ("localhost", "at least two labels"),
        ("com.", "at least two labels"),
        ("", "empty"),
        (".", "empty"),
        ("example..com", "empty label"),
        ("-example.com", "'-example'"),
        ("exa mple.com", "'exa mple'"),
        ("*.example.com", "'*'"),
        ("a" * 64 + ".com", "longer than 63"),
        ("bü..example", "internationalised"),
    ],
)
def test_a_name_that_is_not_a_registrable_domain_is_rejected_saying_why(
    raw: str, fragment: str
) -> None:
    with pytest.raises(InvalidValue) as caught:
        domain(raw)
    assert caught.value.field == "domain_name"
    assert fragment in caught.value.message


def test_the_marker_is_a_txt_name_under_the_domain() -> None:
    assert domain("Example.COM.").marker_name == "_smarter.example.com"


def test_marking_a_domain_verified_keeps_the_report() -> None:
    custom = domain("example.com")
    report = VerificationReport(
        checked_at=AT,
        name_servers_found=("ns-1.awsdns-01.org",),
        marker_found=("token",),
        message="verified",
    )
    custom.mark_verified(report)
    assert custom.is_verified is True
    assert custom.last_verification == report


def test_a_failed_check_is_recorded_without_changing_whether_the_domain_is_verified() -> None:
    unverified = domain("example.com")
    failed = VerificationReport(checked_at=AT, message="no marker found")
    unverified.record_failed_check(failed)
    assert unverified.is_verified is False
    assert unverified.last_verification == failed

    verified = domain("example.org")
    verified.mark_verified(VerificationReport(checked_at=AT))
    verified.record_failed_check(failed)
    assert verified.is_verified is True
    assert verified.last_verification == failed


def test_a_verification_report_has_empty_findings_by_default_and_is_immutable() -> None:
    report = VerificationReport(checked_at=AT)
    assert (report.name_servers_found, report.marker_found, report.message) == ((), (), "")
    with pytest.raises(AttributeError):
        report.message = "changed"  # type: ignore[misc]

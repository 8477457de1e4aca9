"""A customer's own domain, under which their clients get `<client>.<domain>` hosts."""

from __future__ import annotations

from datetime import datetime

import msgspec

from smarter.domain.account_number import AccountNumber
from smarter.domain.errors import InvalidValue
from smarter.domain.hostnames import normalize_hostname


class VerificationReport(msgspec.Struct, frozen=True, kw_only=True):
    """What the last verification found, so a customer can see their mistake."""

    checked_at: datetime
    name_servers_found: tuple[str, ...] = ()
    marker_found: tuple[str, ...] = ()
    message: str = ""


class CustomDomain(msgspec.Struct, kw_only=True):
    domain_name: str
    account_number: AccountNumber
    id: int | None = None
    aws_hosted_zone_id: str | None = None
    name_servers: tuple[str, ...] = ()
    is_verified: bool = False
    last_verification: VerificationReport | None = None
    # Checks of the verified domain that failed in a row (it is unverified after enough).
    failures: int = 0

    def __post_init__(self) -> None:
        self.domain_name = normalize_domain_name(self.domain_name)

    @property
    def marker_name(self) -> str:
        """The TXT name whose value proves this registration controls the zone."""
        return f"_smarter.{self.domain_name}"

    def mark_verified(self, report: VerificationReport) -> None:
        self.is_verified, self.failures = True, 0
        self.last_verification = report

    def recheck(self, report: VerificationReport, proven: bool, failures_allowed: int) -> bool:
        """Take in a later check of the verified domain; True when this check unverifies it
        (the last of `failures_allowed` failed checks in a row)."""
        self.last_verification = report
        if proven:
            self.failures = 0
            return False
        self.failures += 1
        if self.failures < failures_allowed:
            return False
        self.is_verified, self.failures = False, 0
        return True

    def record_failed_check(self, report: VerificationReport) -> None:
        self.last_verification = report


def normalize_domain_name(raw: str) -> str:
    """A registrable custom domain: a valid RFC 1123 name with at least two labels."""
    name = normalize_hostname("domain_name", raw)
    if "." not in name:
        raise InvalidValue("domain_name", f"'{raw}' needs at least two labels, e.g. example.com")
    return name

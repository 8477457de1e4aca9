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

    def __post_init__(self) -> None:
        self.domain_name = normalize_domain_name(self.domain_name)

    @property
    def marker_name(self) -> str:
        """The TXT name whose value proves this registration controls the zone."""
        return f"_smarter.{self.domain_name}"

    def mark_verified(self, report: VerificationReport) -> None:
        self.is_verified = True
        self.last_verification = report

    def record_failed_check(self, report: VerificationReport) -> None:
        self.last_verification = report


def normalize_domain_name(raw: str) -> str:
    """A registrable custom domain: a valid RFC 1123 name with at least two labels."""
    name = normalize_hostname("domain_name", raw)
    if "." not in name:
        raise InvalidValue("domain_name", f"'{raw}' needs at least two labels, e.g. example.com")
    return name

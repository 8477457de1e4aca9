"""A customer's own hostname for one client, brought by CNAME (no delegation of a domain).

The customer proves ownership and routes traffic with records in their own DNS:

- `<hostname>` CNAME to the platform's target (an apex name, which cannot hold a CNAME, gets
  A records to the ingress addresses instead);
- `_smarter.<hostname>` TXT holding the registration's token (ownership, checked before any
  traffic flows: Cloudflare for SaaS calls it pre-validation);
- `_acme-challenge.<hostname>` CNAME to a name in the platform's zone, set once, so that the
  platform answers the CA's DNS-01 challenges for the host without touching the customer's DNS.

A verified hostname is checked again now and then; after a number of failures in a row it is
unverified again and its client stops answering on it (the client's default host keeps
serving).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import msgspec

from smarter.domain.account_number import AccountNumber
from smarter.domain.custom_domain import normalize_domain_name
from smarter.domain.registered_domains import is_registered_domain

TOKEN_PREFIX = "smarter-verification="


class RequiredRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A record the customer must set, and what the last check found at its name."""

    name: str
    type: str  # "CNAME", "A" or "TXT"
    values: tuple[str, ...]
    purpose: str
    found: tuple[str, ...] = ()
    ok: bool = False


class HostnameCheck(msgspec.Struct, frozen=True, kw_only=True):
    """What one check of the hostname's records found."""

    checked_at: datetime
    records: tuple[RequiredRecord, ...]
    message: str

    @property
    def passed(self) -> bool:
        return all(record.ok for record in self.records)


class CustomHostname(msgspec.Struct, kw_only=True):
    hostname: str
    account_number: AccountNumber
    client_id: int
    token: str = ""
    id: int | None = None
    is_verified: bool = False
    verified_at: datetime | None = None
    last_check: HostnameCheck | None = None
    # Checks of a verified hostname that failed in a row (it is unverified after enough).
    failures: int = 0
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        self.hostname = normalize_domain_name(self.hostname)
        if not self.token:
            self.token = secrets.token_hex(16)

    @property
    def is_apex(self) -> bool:
        """A registered domain itself (`customer.com`): no CNAME can live there."""
        return is_registered_domain(self.hostname)

    @property
    def marker_name(self) -> str:
        return f"_smarter.{self.hostname}"

    @property
    def marker_value(self) -> str:
        return f"{TOKEN_PREFIX}{self.token}"

    @property
    def challenge_name(self) -> str:
        return f"_acme-challenge.{self.hostname}"

    def challenge_target(self, challenge_zone: str) -> str:
        """Where the customer's `_acme-challenge` CNAME points: a name of the platform's
        zone, one per hostname, which the worker writes the CA's challenges at."""
        digest = hashlib.sha256(self.hostname.encode()).hexdigest()[:20]
        return f"h{digest}.{challenge_zone}"

    def required_records(
        self, target: str, addresses: tuple[str, ...], challenge_zone: str
    ) -> tuple[RequiredRecord, ...]:
        """The records the customer sets: routing (CNAME, or A at an apex), ownership (TXT),
        and the delegation of the certificate challenge (CNAME)."""
        if self.is_apex:
            routing = RequiredRecord(
                name=self.hostname,
                type="A",
                values=addresses,
                purpose="routes the apex name to the platform (an apex cannot hold a CNAME)",
            )
        else:
            routing = RequiredRecord(
                name=self.hostname,
                type="CNAME",
                values=(target,),
                purpose="routes the hostname to the platform",
            )
        return (
            routing,
            RequiredRecord(
                name=self.marker_name,
                type="TXT",
                values=(self.marker_value,),
                purpose="proves this account controls the hostname",
            ),
            RequiredRecord(
                name=self.challenge_name,
                type="CNAME",
                values=(self.challenge_target(challenge_zone),),
                purpose="lets the platform answer the certificate authority's DNS-01 challenges",
            ),
        )

    def observe(self, check: HostnameCheck, failures_allowed: int) -> str | None:
        """Take in one check; what changed ("verified", "unverified") or None.

        A pending hostname is verified by a check that passes. A verified one stays verified
        through up to `failures_allowed - 1` failed checks in a row, and is unverified by the
        next one."""
        self.last_check = check
        if check.passed:
            self.failures = 0
            if not self.is_verified:
                self.is_verified, self.verified_at = True, check.checked_at
                return "verified"
            return None
        if not self.is_verified:
            return None
        self.failures += 1
        if self.failures >= failures_allowed:
            self.is_verified, self.failures = False, 0
            return "unverified"
        return None


def judge_records(
    wanted: tuple[RequiredRecord, ...], found: dict[str, tuple[str, ...]], at: datetime
) -> HostnameCheck:
    """Compare each required record with what DNS answered (`found`, by name and type:
    `"<name> <type>"`); the check, with a message naming what to fix."""
    judged = []
    problems = []
    for record in wanted:
        answers = found.get(f"{record.name} {record.type}", ())
        normalized = {a.lower().rstrip(".") for a in answers}
        ok = bool(record.values) and {v.lower().rstrip(".") for v in record.values} <= normalized
        judged.append(msgspec.structs.replace(record, found=answers, ok=ok))
        if not ok:
            seen = ", ".join(answers) or "nothing"
            problems.append(
                f"{record.name} {record.type} should be {', '.join(record.values)} (found: {seen})"
            )
    message = "; ".join(problems) or "verified: every record is in place"
    return HostnameCheck(checked_at=at, records=tuple(judged), message=message)

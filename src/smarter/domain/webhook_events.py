"""The events webhooks announce, read off the model's own changes.

A client's status changes (its `StatusEvent`s), a domain's verification flag and a
certificate's phase are what provisioning records anyway; these functions say which of those
changes a customer is told about, so that every code path that makes such a change announces
it, and none has to remember to.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec

from smarter.domain.custom_domain import CustomDomain
from smarter.domain.llm_client import LLMClient
from smarter.domain.provisioning import CertificatePhase, ManagedCertificate
from smarter.domain.status import DnsVerificationStatus as Dns
from smarter.domain.status import StatusEvent, StatusField
from smarter.domain.status import TlsCertificateIssuanceStatus as Tls
from smarter.domain.webhooks import WebhookEventType as Type

_RESET = {str(Dns.NOT_VERIFIED), str(Tls.NO_CERTIFICATE)}


class WebhookEvent(msgspec.Struct, frozen=True, kw_only=True):
    """What happened, when, and the object it happened to (`data`)."""

    type: Type
    at: datetime
    data: dict[str, Any]

    def body(self) -> bytes:
        """The message body: `{"type", "timestamp", "data"}` as Standard Webhooks shows it."""
        timestamp = self.at.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return msgspec.json.encode({"type": self.type, "timestamp": timestamp, "data": self.data})


def client_events(
    client: LLMClient, changes: Sequence[StatusEvent], *, deleted: bool = False
) -> list[WebhookEvent]:
    """What `changes` (the client's status changes of one save, oldest first, already applied
    to `client`) mean to its owner: it became ready (deployed, verified and issued), it
    failed (DNS or TLS moved to `Failed`), or it was undeployed (its statuses reset by the
    teardown; `deleted` when the client went with it)."""
    if not changes:
        return []
    before: dict[StatusField, str] = {}
    for change in changes:
        before.setdefault(change.field, str(change.from_status))
    was_ready = (
        before.get(StatusField.DEPLOYED, str(client.deployed).lower()) == "true"
        and before.get(StatusField.DNS, client.dns_verification_status) == Dns.VERIFIED
        and before.get(StatusField.TLS, client.tls_certificate_issuance_status) == Tls.ISSUED
    )
    at, events = changes[-1].at, []
    data = {"llm_client": _client(client)}
    failures = [c.reason for c in changes if c.to_status in (Dns.FAILED, Tls.FAILED)]
    if failures and Dns.FAILED in (
        client.dns_verification_status,
        client.tls_certificate_issuance_status,
    ):
        failed = {**data, "reason": failures[-1]}
        events.append(WebhookEvent(type=Type.CLIENT_FAILED, at=at, data=failed))
    if client.is_provisioned and not was_ready and not deleted:
        ready = {**data, "reason": changes[-1].reason}
        events.append(WebhookEvent(type=Type.CLIENT_READY, at=at, data=ready))
    torn_down = any(c.field is not StatusField.DEPLOYED and c.to_status in _RESET for c in changes)
    if torn_down and not client.deployed:
        undeployed = {**data, "reason": changes[-1].reason, "deleted": deleted}
        events.append(WebhookEvent(type=Type.CLIENT_UNDEPLOYED, at=at, data=undeployed))
    return events


def _client(client: LLMClient) -> dict[str, Any]:
    return {
        "id": client.id,
        "name": client.name,
        "account_number": str(client.account_number),
        "deployed": client.deployed,
        "url": client.url,
        "default_url": client.default_url,
        "custom_url": client.custom_url,
        "dns_verification_status": str(client.dns_verification_status),
        "tls_certificate_issuance_status": str(client.tls_certificate_issuance_status),
    }


def domain_events(was_verified: bool, domain: CustomDomain, at: datetime) -> list[WebhookEvent]:
    """A domain became verified, or stopped being verified (its custom hosts stop serving)."""
    if was_verified is domain.is_verified:
        return []
    report = domain.last_verification
    data = {
        "custom_domain": {
            "id": domain.id,
            "domain_name": domain.domain_name,
            "account_number": str(domain.account_number),
            "is_verified": domain.is_verified,
        },
        "reason": report.message if report is not None else "",
    }
    kind = Type.DOMAIN_VERIFIED if domain.is_verified else Type.DOMAIN_LOST
    return [WebhookEvent(type=kind, at=at, data=data)]


def certificate_events(
    before: ManagedCertificate | None, after: ManagedCertificate, at: datetime
) -> list[WebhookEvent]:
    """Issued (first ready), renewed (ready with a later expiry), failed (an order failed,
    or a renewal did while the old certificate still serves)."""
    kind: Type | None = None
    if after.phase is CertificatePhase.READY:
        if before is None or before.phase is not CertificatePhase.READY:
            kind = Type.CERTIFICATE_ISSUED
        elif _later(after.not_after, before.not_after):
            kind = Type.CERTIFICATE_RENEWED
        elif before.renewing and not after.renewing:
            kind = Type.CERTIFICATE_FAILED
    elif after.phase is CertificatePhase.FAILED and (
        before is None or before.phase is not CertificatePhase.FAILED
    ):
        kind = Type.CERTIFICATE_FAILED
    if kind is None:
        return []
    data = {
        "certificate": {
            "name": after.name,
            "hosts": list(after.hosts),
            "not_before": after.not_before,
            "not_after": after.not_after,
        },
        "reason": after.reason,
    }
    return [WebhookEvent(type=kind, at=at, data=data)]


def _later(new: datetime | None, old: datetime | None) -> bool:
    return new is not None and (old is None or new > old)

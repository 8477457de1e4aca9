"""The worker's jobs: one tagged union of msgspec Structs, and its codec.

A job is written to the outbox in the transaction of the change that caused it, then handed to
the queue. On the wire (outbox rows, queue payloads) it is a JSON object whose `type` field is
the job's class name; decoding accepts exactly the kinds in `Job`, nothing else.

Every job has a `key`: what it works on. Two jobs of one key never run at once, and a job is
queued at most once per key.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import msgspec


class _JobBase(msgspec.Struct, frozen=True, tag=True, omit_defaults=True):
    """The tag is the class name, so stored jobs keep decoding when a module moves; fields
    at their defaults are left out, so adding a field keeps old and new documents alike."""


class ReconcileClient(_JobBase, frozen=True):
    """Bring a client's hosts to its desired state (deploy, undeploy, rename, delete); with
    `check_drift`, also compare a ready client's records, Ingresses and certificates with
    what they should be and put back what drifted (the sweep asks, a few clients a minute)."""

    client_id: int
    check_drift: bool = False

    @property
    def key(self) -> str:
        return f"client:{self.client_id}"


class VerifyCustomDomain(_JobBase, frozen=True):
    """Create the registration's zone and marker if needed, then check the delegation."""

    domain_id: int

    @property
    def key(self) -> str:
        return f"domain:{self.domain_id}"


class VerifyCustomHostname(_JobBase, frozen=True):
    """Check the records a customer set for a hostname (ownership, routing, challenges)."""

    hostname_id: int

    @property
    def key(self) -> str:
        return f"hostname:{self.hostname_id}"


class DeleteDomainZone(_JobBase, frozen=True):
    """Remove a released or deleted registration's hosted zone with its records."""

    zone_id: str

    @property
    def key(self) -> str:
        return f"zone:{self.zone_id}"


class RenewCertificate(_JobBase, frozen=True):
    """Renew a certificate past two thirds of its lifetime, and follow the renewal."""

    name: str

    @property
    def key(self) -> str:
        return f"certificate:{self.name}"


class FollowCertificate(_JobBase, frozen=True):
    """Follow an order until the certificate is issued (or failed), then wake its clients."""

    name: str

    @property
    def key(self) -> str:
        return f"certificate:{self.name}"


class ReleaseCertificate(_JobBase, frozen=True):
    """Delete a certificate (and its secret) that no provisioned host uses any more."""

    name: str

    @property
    def key(self) -> str:
        return f"certificate:{self.name}"


class FlushDnsChanges(_JobBase, frozen=True):
    """Send a zone's pending record changes as change batches and follow them until live."""

    zone_id: str

    @property
    def key(self) -> str:
        return f"dns-zone:{self.zone_id}"


class SweepProvisioning(_JobBase, frozen=True):
    """The periodic pass: queue work for whatever lags its desired state."""

    @property
    def key(self) -> str:
        return "sweep"


Job: TypeAlias = (
    ReconcileClient
    | VerifyCustomDomain
    | VerifyCustomHostname
    | DeleteDomainZone
    | RenewCertificate
    | FollowCertificate
    | ReleaseCertificate
    | FlushDnsChanges
    | SweepProvisioning
)


class UnknownJob(ValueError):
    """A stored document that is not one of the jobs this version knows."""


def encode_job(job: Job) -> dict[str, Any]:
    """The job as JSON data (tag included), for a JSON column or a queue payload."""
    document: dict[str, Any] = msgspec.to_builtins(job)
    return document


def decode_job(document: Any) -> Job:
    """The job `document` describes; UnknownJob for anything else."""
    try:
        job: Job = msgspec.convert(document, type=Job)
        return job
    except msgspec.ValidationError as error:
        raise UnknownJob(f"not a job: {error}") from error

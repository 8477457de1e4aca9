"""The worker's jobs as one tagged union: what is stored decodes to the same job, and nothing
else decodes; the per-process count of provider failures."""

from __future__ import annotations

import msgspec
import pytest

from smarter.application.jobs import (
    DeleteDomainZone,
    Job,
    ReconcileClient,
    ReleaseCertificate,
    RenewCertificate,
    SweepProvisioning,
    UnknownJob,
    VerifyCustomDomain,
    decode_job,
    encode_job,
)
from smarter.application.provisioning import ProviderFailures

EVERY_KIND: list[Job] = [
    ReconcileClient(client_id=7),
    VerifyCustomDomain(domain_id=3),
    DeleteDomainZone(zone_id="Z1"),
    RenewCertificate(name="wildcard-1"),
    ReleaseCertificate(name="wildcard-1"),
    SweepProvisioning(),
]


@pytest.mark.parametrize("job", EVERY_KIND, ids=lambda job: type(job).__name__)
def test_every_job_survives_a_round_trip_through_json(job: Job) -> None:
    stored = msgspec.json.decode(msgspec.json.encode(encode_job(job)))
    assert decode_job(stored) == job


def test_a_stored_job_names_its_kind_by_class_name() -> None:
    assert encode_job(ReconcileClient(client_id=7)) == {"type": "ReconcileClient", "client_id": 7}


@pytest.mark.parametrize(
    "document",
    [{"type": "RetiredJob"}, {"type": "ReconcileClient"}, {"client_id": 1}, "text", None],
)
def test_anything_but_a_known_job_is_refused(document: object) -> None:
    with pytest.raises(UnknownJob):
        decode_job(document)


def test_jobs_on_one_thing_share_a_key() -> None:
    assert RenewCertificate(name="a").key == ReleaseCertificate(name="a").key


def test_provider_failures_count_in_a_row_per_key_and_reset_on_success() -> None:
    failures = ProviderFailures()
    assert [failures.failed("client:1") for _ in range(3)] == [1, 2, 3]
    failures.succeeded("client:1")
    assert failures.failed("client:1") == 1


def test_provider_failures_forget_the_oldest_key_when_full() -> None:
    failures = ProviderFailures(limit=2)
    failures.failed("a")
    failures.failed("b")
    failures.failed("b")
    failures.failed("c")
    assert failures.failed("b") == 3
    assert failures.failed("a") == 1

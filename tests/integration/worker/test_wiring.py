"""Which adapters the container hands the worker: in-memory ones in `local`, the real ones
elsewhere (cert-manager or ACME by setting); SAQ with a Redis URL, else the in-process queue."""

from __future__ import annotations

import pytest

from smarter.adapters.in_process_job_queue import InProcessJobQueue
from smarter.adapters.saq_job_queue import SaqJobQueue
from smarter.application.infrastructure import (
    Certificates,
    Cluster,
    DnsResolver,
    DnsZones,
    JobQueue,
)
from smarter.domain.environments import Environment
from smarter.entrypoints.settings import Settings
from smarter.entrypoints.wiring import make_container
from tests.integration.worker.conftest import REDIS_URL

PORTS = (DnsZones, DnsResolver, Cluster, Certificates)


async def _adapters(settings: Settings) -> list[str]:
    container = make_container(settings)
    try:
        return [type(await container.get(port)).__name__ for port in (*PORTS, JobQueue)]
    finally:
        await container.close()


async def test_the_local_environment_needs_no_cloud_and_no_redis() -> None:
    assert await _adapters(Settings()) == [
        "MemoryDnsZones",
        "MemoryDnsResolver",
        "MemoryCluster",
        "InstantCertificates",
        InProcessJobQueue.__name__,
    ]


@pytest.mark.parametrize(
    ("issuer", "certificates"),
    [("cert-manager", "CertManagerCertificates"), ("acme", "AcmeCertificates")],
)
async def test_other_environments_get_route53_dns_kubernetes_and_the_chosen_issuer(
    issuer: str, certificates: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings = Settings(
        environment=Environment.ALPHA,
        redis_url=REDIS_URL,
        certificate_issuer=issuer,
        route53_endpoint_url="http://127.0.0.1:9",
        kubernetes_api_url="http://127.0.0.1:9",
        dns_nameservers=("127.0.0.1:9",),
    )
    assert await _adapters(settings) == [
        "Route53DnsZones",
        "DnspythonResolver",
        "KubernetesCluster",
        certificates,
        SaqJobQueue.__name__,
    ]

"""The provisioning adapters built from the settings (the binding table in wiring.py calls
these): Route 53 with its shared budgets, the Kubernetes adapters with their client-side rate,
the certificate issuer, and the provisioning policy.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from smarter.adapters.request_budgets import LocalRequestBudget, RequestBudget
from smarter.application.infrastructure import (
    Certificates,
    Cluster,
    DnsResolver,
    DnsZones,
    InfrastructureError,
)
from smarter.application.provisioning import ProvisioningPolicy
from smarter.domain.environments import Environment
from smarter.entrypoints.settings import Settings


class KubernetesWrites(LocalRequestBudget):
    """The client-side rate of this process's Kubernetes writes (like client-go's QPS)."""


def provisioning_policy(settings: Settings) -> ProvisioningPolicy:
    local = settings.environment is Environment.LOCAL
    return ProvisioningPolicy(
        ingress_target=settings.ingress_target,
        platform_zone=settings.platform_zone or settings.platform.base_api_domain,
        verification_window_seconds=settings.dns_verification_window_seconds,
        first_retry_seconds=settings.provisioning_first_retry_seconds,
        max_retry_seconds=settings.provisioning_max_retry_seconds,
        # Local zones live in memory: nothing is gained by gathering changes.
        dns_batch_window_seconds=0.0 if local else settings.dns_batch_window_seconds,
        custom_hostname_target=settings.custom_hostname_target or "",
        ingress_addresses=settings.ingress_addresses,
        reverify_seconds=settings.reverify_seconds,
        reverify_failures=settings.reverify_failures,
        failed_retry_seconds=settings.failed_retry_seconds,
        drift_checks_per_sweep=settings.drift_checks_per_sweep,
    )


@asynccontextmanager
async def route53_dns_zones(settings: Settings) -> AsyncIterator[DnsZones]:
    """Route 53 on boto3, within budgets shared through Redis when there is one (Route 53
    throttles per AWS account, across every worker), else this process's own."""
    from smarter.adapters.route53_dns_zones import Route53DnsZones, route53_client

    client = route53_client(settings.aws_region, settings.route53_endpoint_url)
    requests = (settings.route53_requests_per_second, settings.route53_requests_burst)
    changes = (settings.route53_record_changes_per_second, settings.route53_record_changes_burst)
    if not settings.redis_url:
        yield Route53DnsZones(
            client,
            requests=LocalRequestBudget(*requests),
            record_changes=LocalRequestBudget(*changes),
        )
        return
    from redis import Redis

    from smarter.adapters.request_budgets import RedisRequestBudget

    redis = Redis.from_url(settings.redis_url)  # synchronous: used in Route 53's threads
    prefix = f"{settings.redis_prefix}:budget:route53"
    budgets: tuple[RequestBudget, RequestBudget] = (
        RedisRequestBudget(redis, f"{prefix}:requests", *requests),
        RedisRequestBudget(redis, f"{prefix}:record-changes", *changes),
    )
    try:
        yield Route53DnsZones(client, requests=budgets[0], record_changes=budgets[1])
    finally:
        redis.close()


def kubernetes_writes(settings: Settings) -> KubernetesWrites:
    return KubernetesWrites(settings.kubernetes_writes_per_second, settings.kubernetes_writes_burst)


def kubernetes_cluster(settings: Settings, writes: LocalRequestBudget) -> Cluster:
    from smarter.adapters.kubernetes_cluster import KubernetesCluster, kubernetes_api_client

    return KubernetesCluster(
        kubernetes_api_client(settings.kubernetes_api_url, token=settings.kubernetes_token),
        settings.kubernetes_namespace,
        settings.ingress_class,
        settings.ingress_annotations,
        settings.ingress_service_name,
        settings.ingress_service_port,
        writes=writes,
    )


def real_certificates(
    settings: Settings, zones: DnsZones, resolver: DnsResolver, writes: LocalRequestBudget
) -> Certificates:
    """cert-manager `Certificate` objects, or ACME DNS-01 done by the worker itself."""
    if settings.certificate_issuer == "acme":
        from smarter.adapters.acme_certificates import AcmeCertificates
        from smarter.adapters.certificate_stores import certificate_store_from
        from smarter.adapters.kubernetes_cluster import kubernetes_api_client

        async def place_challenge(name: str) -> tuple[str, str]:
            # Where a customer's `_acme-challenge` CNAME points (a name of the platform's
            # zone), else the name itself; in the closest enclosing zone the platform holds.
            try:
                pointed = await resolver.resolve(name, "CNAME")
            except InfrastructureError:
                pointed = ()
            written_at = pointed[0] if pointed else name
            labels = written_at.split(".")
            for start in range(1, len(labels) - 1):
                zone = await zones.find_zone(".".join(labels[start:]))
                if zone is not None:
                    return zone.id, written_at
            raise InfrastructureError(f"no hosted zone holds {written_at}")

        store = certificate_store_from(
            settings.certificate_store,
            lambda: kubernetes_api_client(
                settings.kubernetes_api_url, token=settings.kubernetes_token
            ),
            settings.kubernetes_namespace,
        )
        return AcmeCertificates(
            settings.acme_directory_url,
            zones,
            place_challenge,
            store,
            email=settings.acme_email,
            ca_bundle=settings.acme_ca_bundle,
        )
    from smarter.adapters.cert_manager_certificates import CertManagerCertificates
    from smarter.adapters.kubernetes_cluster import kubernetes_api_client

    return CertManagerCertificates(
        kubernetes_api_client(settings.kubernetes_api_url, token=settings.kubernetes_token),
        settings.kubernetes_namespace,
        settings.cert_manager_issuer,
        settings.cert_manager_issuer_kind,
        writes=writes,
    )

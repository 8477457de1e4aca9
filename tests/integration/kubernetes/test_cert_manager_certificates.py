"""CertManagerCertificates through the official client against the Kubernetes API stand-in,
with the test playing cert-manager's controllers (`mark_certificate_*`)."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import time

import pytest
from cryptography import x509
from kubernetes import client

from smarter.adapters.cert_manager_certificates import CertManagerCertificates
from smarter.adapters.kubernetes_calls import kubernetes_api_client
from smarter.application.infrastructure import CertificateState, InfrastructureError
from tests.support.kubernetes_api import KubernetesApiServer

NAMESPACE = "smarter"
NAME = "wildcard-acme-api-example-com"
HOSTS = ["*.acme.api.example.com", "acme.api.example.com"]
START = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
END = START + dt.timedelta(days=90)


def certificates(
    api_client: client.ApiClient, issuer: str = "letsencrypt"
) -> CertManagerCertificates:
    return CertManagerCertificates(api_client, NAMESPACE, issuer, "ClusterIssuer")


def writes(server: KubernetesApiServer) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in server.requests if r.method not in ("GET",)]


async def test_a_certificate_never_requested_is_absent(kubernetes_client: client.ApiClient) -> None:
    status = await certificates(kubernetes_client).status(NAME)

    assert status.state is CertificateState.ABSENT


async def test_requesting_applies_a_certificate_for_the_hosts_from_the_configured_issuer(
    kubernetes_api: KubernetesApiServer, kubernetes_client: client.ApiClient
) -> None:
    await certificates(kubernetes_client).request(NAME, ["acme.api.example.com", *HOSTS[:1]])

    [certificate] = kubernetes_api.objects("Certificate", NAMESPACE)
    assert certificate["apiVersion"] == "cert-manager.io/v1"
    assert certificate["metadata"]["name"] == NAME
    assert certificate["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "smarter"}
    spec = certificate["spec"]
    assert spec["secretName"] == NAME
    assert spec["dnsNames"] == sorted(HOSTS)
    assert spec["issuerRef"] == {
        "name": "letsencrypt",
        "kind": "ClusterIssuer",
        "group": "cert-manager.io",
    }
    assert spec["privateKey"] == {"rotationPolicy": "Always"}
    [apply] = kubernetes_api.requests_to("PATCH", "Certificate")
    assert apply.path == f"/apis/cert-manager.io/v1/namespaces/{NAMESPACE}/certificates/{NAME}"
    assert apply.content_type == "application/apply-patch+yaml"
    assert apply.query == {"fieldManager": "smarter", "force": "true"}


async def test_a_certificate_goes_from_pending_to_ready_as_cert_manager_issues_it(
    kubernetes_api: KubernetesApiServer, kubernetes_client: client.ApiClient
) -> None:
    adapter = certificates(kubernetes_client)
    await adapter.request(NAME, HOSTS)

    waiting = await adapter.status(NAME)
    kubernetes_api.mark_certificate_issuing(NAME)
    issuing = await adapter.status(NAME)
    kubernetes_api.mark_certificate_ready(NAME, START, END)
    ready = await adapter.status(NAME)

    assert (waiting.state, waiting.reason) == (CertificateState.PENDING, "waiting for cert-manager")
    assert issuing.state is CertificateState.PENDING
    assert "Secret does not exist" in issuing.reason
    assert (ready.state, ready.not_before, ready.not_after) == (CertificateState.READY, START, END)
    assert ready.reason == ""


async def test_the_issued_secret_holds_a_certificate_for_the_hosts(
    kubernetes_api: KubernetesApiServer, kubernetes_client: client.ApiClient
) -> None:
    await certificates(kubernetes_client).request(NAME, HOSTS)
    kubernetes_api.mark_certificate_ready(NAME, START, END)

    secret = kubernetes_api.get("Secret", NAME, NAMESPACE)
    assert secret is not None and secret["type"] == "kubernetes.io/tls"
    pem = base64.b64decode(secret["data"]["tls.crt"])
    names = x509.load_pem_x509_certificate(pem).extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    assert sorted(names.value.get_values_for_type(x509.DNSName)) == sorted(HOSTS)


async def test_requesting_again_while_pending_or_ready_writes_nothing(
    kubernetes_api: KubernetesApiServer, kubernetes_client: client.ApiClient
) -> None:
    adapter = certificates(kubernetes_client)
    await adapter.request(NAME, HOSTS)
    kubernetes_api.mark_certificate_issuing(NAME)
    before = writes(kubernetes_api)

    await adapter.request(NAME, list(reversed(HOSTS)))
    await adapter.request(NAME, [host.upper() for host in HOSTS])
    kubernetes_api.mark_certificate_ready(NAME, START, END)
    await adapter.request(NAME, HOSTS)

    assert writes(kubernetes_api) == before
    assert len(kubernetes_api.objects("Certificate")) == 1


async def test_new_hosts_change_the_certificate_and_it_is_pending_until_cert_manager_catches_up(
    kubernetes_api: KubernetesApiServer, kubernetes_client: client.ApiClient
) -> None:
    adapter = certificates(kubernetes_client)
    await adapter.request(NAME, HOSTS)
    kubernetes_api.mark_certificate_ready(NAME, START, END)

    await adapter.request(NAME, [*HOSTS, "bots.acme.api.example.com"])

    certificate = kubernetes_api.get("Certificate", NAME)
    assert certificate is not None
    assert "bots.acme.api.example.com" in certificate["spec"]["dnsNames"]
    assert certificate["metadata"]["generation"] == 2
    assert (await adapter.status(NAME)).state is CertificateState.PENDING


async def test_a_changed_issuer_setting_is_applied_to_the_existing_certificate(
    kubernetes_api: KubernetesApiServer, kubernetes_client: client.ApiClient
) -> None:
    await certificates(kubernetes_client).request(NAME, HOSTS)

    await certificates(kubernetes_client, issuer="letsencrypt-staging").request(NAME, HOSTS)

    certificate = kubernetes_api.get("Certificate", NAME)
    assert certificate is not None
    assert certificate["spec"]["issuerRef"]["name"] == "letsencrypt-staging"


async def test_a_failed_issuance_is_failed_with_cert_managers_message_and_a_new_request_retries(
    kubernetes_api: KubernetesApiServer, kubernetes_client: client.ApiClient
) -> None:
    adapter = certificates(kubernetes_client)
    await adapter.request(NAME, HOSTS)
    kubernetes_api.mark_certificate_issuing(NAME)
    kubernetes_api.mark_certificate_failed(NAME, "ACME DNS-01 challenge failed: NXDOMAIN")

    failed = await adapter.status(NAME)
    await adapter.request(NAME, HOSTS)
    retried = await adapter.status(NAME)

    assert (failed.state, failed.reason) == (
        CertificateState.FAILED,
        "ACME DNS-01 challenge failed: NXDOMAIN",
    )
    [put] = kubernetes_api.requests_to("PUT", "Certificate")
    assert put.path.endswith(f"/certificates/{NAME}/status")
    assert retried.state is CertificateState.PENDING
    assert retried.reason == "Certificate re-issuance manually triggered"


async def test_renewing_triggers_issuance_like_cmctl_renew_while_the_old_certificate_serves(
    kubernetes_api: KubernetesApiServer, kubernetes_client: client.ApiClient
) -> None:
    adapter = certificates(kubernetes_client)
    await adapter.request(NAME, HOSTS)
    kubernetes_api.mark_certificate_ready(NAME, START, END)

    await adapter.request(NAME, HOSTS, renew=True)

    certificate = kubernetes_api.get("Certificate", NAME)
    assert certificate is not None
    issuing = next(c for c in certificate["status"]["conditions"] if c["type"] == "Issuing")
    assert (issuing["status"], issuing["reason"]) == ("True", "ManuallyTriggered")
    assert certificate["metadata"]["generation"] == 1  # the spec is untouched
    renewing = await adapter.status(NAME)
    assert (renewing.state, renewing.not_after) == (CertificateState.READY, END)
    assert renewing.reason == "renewal in progress"

    kubernetes_api.mark_certificate_ready(
        NAME, END - dt.timedelta(days=30), END + dt.timedelta(days=60)
    )
    renewed = await adapter.status(NAME)
    assert (renewed.state, renewed.not_after) == (
        CertificateState.READY,
        END + dt.timedelta(days=60),
    )


async def test_renewing_twice_orders_once(
    kubernetes_api: KubernetesApiServer, kubernetes_client: client.ApiClient
) -> None:
    adapter = certificates(kubernetes_client)
    await adapter.request(NAME, HOSTS)
    kubernetes_api.mark_certificate_ready(NAME, START, END)

    await adapter.request(NAME, HOSTS, renew=True)
    await adapter.request(NAME, HOSTS, renew=True)

    assert len(kubernetes_api.requests_to("PUT", "Certificate")) == 1


async def test_renewing_a_certificate_still_pending_orders_nothing_more(
    kubernetes_api: KubernetesApiServer, kubernetes_client: client.ApiClient
) -> None:
    adapter = certificates(kubernetes_client)
    await adapter.request(NAME, HOSTS)
    kubernetes_api.mark_certificate_issuing(NAME)
    before = writes(kubernetes_api)

    await adapter.request(NAME, HOSTS, renew=True)

    assert writes(kubernetes_api) == before


async def test_a_renewal_racing_cert_manager_is_a_retryable_error(
    kubernetes_api: KubernetesApiServer, kubernetes_client: client.ApiClient
) -> None:
    adapter = certificates(kubernetes_client)
    await adapter.request(NAME, HOSTS)
    kubernetes_api.mark_certificate_ready(NAME, START, END)
    kubernetes_api.fail_next(409, reason="Conflict", method="PUT")

    with pytest.raises(InfrastructureError, match="409"):
        await adapter.request(NAME, HOSTS, renew=True)


async def test_deleting_removes_the_certificate_and_its_secret_and_deleting_again_is_fine(
    kubernetes_api: KubernetesApiServer, kubernetes_client: client.ApiClient
) -> None:
    adapter = certificates(kubernetes_client)
    await adapter.request(NAME, HOSTS)
    kubernetes_api.mark_certificate_ready(NAME, START, END)
    assert kubernetes_api.get("Secret", NAME) is not None

    await adapter.delete(NAME)
    await adapter.delete(NAME)

    assert kubernetes_api.objects("Certificate") == []
    assert kubernetes_api.objects("Secret") == []
    assert (await adapter.status(NAME)).state is CertificateState.ABSENT


async def test_a_certificate_issued_by_a_live_cert_manager_becomes_ready_without_help() -> None:
    with KubernetesApiServer(auto_issue=0.05) as server:
        api_client = kubernetes_api_client(server.url)
        adapter = certificates(api_client)
        await adapter.request(NAME, HOSTS)

        deadline = time.monotonic() + 5
        while (status := await adapter.status(NAME)).state is not CertificateState.READY:
            assert time.monotonic() < deadline, status
            await asyncio.sleep(0.02)
        api_client.close()  # type: ignore[no-untyped-call]

    assert status.not_after is not None and status.not_before is not None
    assert status.not_after - status.not_before == dt.timedelta(days=90)


async def test_cert_manager_api_errors_become_infrastructure_errors(
    kubernetes_api: KubernetesApiServer, kubernetes_client: client.ApiClient
) -> None:
    adapter = certificates(kubernetes_client)
    kubernetes_api.fail_next(503, reason="ServiceUnavailable", times=3)

    with pytest.raises(InfrastructureError, match="503"):
        await adapter.request(NAME, HOSTS)
    with pytest.raises(InfrastructureError):
        await adapter.status(NAME)
    with pytest.raises(InfrastructureError):
        await adapter.delete(NAME)

"""The ACME issuer's certificate stores: files, and TLS Secrets through the official Kubernetes
client against the HTTP stand-in of the API (tests/support/kubernetes_api.py)."""

from __future__ import annotations

import asyncio
import base64
import stat
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from kubernetes import client as k8s

from smarter.adapters.certificate_stores import (
    CertificateStore,
    FileCertificateStore,
    KubernetesSecretCertificateStore,
    StoredCertificate,
    certificate_store_from,
)
from smarter.application.infrastructure import InfrastructureError
from tests.support.kubernetes_api import KubernetesApiServer

NAMESPACE = "smarter"
CERTIFICATE = StoredCertificate(
    cert_pem="-----BEGIN CERTIFICATE-----\nleaf\n-----END CERTIFICATE-----\n",
    key_pem="-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n",
)


@pytest.fixture(scope="module")
def kubernetes_api() -> Iterator[KubernetesApiServer]:
    with KubernetesApiServer() as server:
        yield server


def api_client_for(server: KubernetesApiServer) -> k8s.ApiClient:
    configuration = k8s.Configuration(host=server.url)
    return k8s.ApiClient(configuration)


@pytest.fixture(params=["files", "kubernetes"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, kubernetes_api: KubernetesApiServer
) -> AsyncIterator[CertificateStore]:
    if request.param == "files":
        yield FileCertificateStore(tmp_path / "certificates")
    else:
        api_client = api_client_for(kubernetes_api)
        yield KubernetesSecretCertificateStore(api_client, NAMESPACE)
        api_client.close()  # type: ignore[no-untyped-call]


def unique(name: str, request: pytest.FixtureRequest) -> str:
    # The stand-in lives for the module: names differ per test and store.
    suffix = "-".join(part for part in request.node.callspec.id.split("-") if part)
    return f"{name}-{abs(hash(request.node.name)) % 10**8}-{suffix}"


async def test_a_stored_certificate_reads_back_and_is_gone_after_delete(
    store: CertificateStore, request: pytest.FixtureRequest
) -> None:
    name = unique("bot", request)
    assert await store.get(name) is None
    await store.put(name, CERTIFICATE)
    assert await store.get(name) == CERTIFICATE
    renewed = StoredCertificate(cert_pem=CERTIFICATE.cert_pem + "x", key_pem="new key")
    await store.put(name, renewed)
    assert await store.get(name) == renewed
    await store.delete(name)
    assert await store.get(name) is None
    await store.delete(name)  # missing is fine


async def test_a_marker_is_created_only_once(
    store: CertificateStore, request: pytest.FixtureRequest
) -> None:
    name = unique("wild", request)
    assert await store.get_marker(name, "pending") is None
    assert await store.create_marker(name, "pending", "first")
    assert not await store.create_marker(name, "pending", "second")
    assert await store.get_marker(name, "pending") == "first"
    await store.put_marker(name, "failed", "why")
    assert await store.get_marker(name, "failed") == "why"
    await store.delete_marker(name, "pending")
    await store.delete_marker(name, "pending")
    assert await store.get_marker(name, "pending") is None
    assert await store.get(name) is None  # markers are not certificates


async def test_concurrent_marker_creations_have_one_winner(
    store: CertificateStore, request: pytest.FixtureRequest
) -> None:
    name = unique("race", request)
    results = await asyncio.gather(
        *(store.create_marker(name, "pending", str(i)) for i in range(8))
    )
    assert sorted(results) == [False] * 7 + [True]


async def test_the_first_account_key_stored_is_the_one_kept(store: CertificateStore) -> None:
    first = await store.ensure_account_key("key one")
    assert await store.ensure_account_key("key two") == first


def test_files_are_named_after_the_certificate_and_the_key_is_private(tmp_path: Path) -> None:
    store = FileCertificateStore(tmp_path)
    asyncio.run(store.put("bot", CERTIFICATE))
    assert (tmp_path / "bot.crt").read_text() == CERTIFICATE.cert_pem
    assert stat.S_IMODE((tmp_path / "bot.key").stat().st_mode) == 0o600
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bot.crt", "bot.key"]


async def test_the_kubernetes_store_writes_a_tls_secret_by_server_side_apply(
    kubernetes_api: KubernetesApiServer,
) -> None:
    api_client = api_client_for(kubernetes_api)
    store = KubernetesSecretCertificateStore(api_client, NAMESPACE)
    await store.put("tls-bot", CERTIFICATE)
    secret = kubernetes_api.get("Secret", "tls-bot", NAMESPACE)
    assert secret is not None
    assert secret["type"] == "kubernetes.io/tls"
    assert base64.b64decode(secret["data"]["tls.crt"]).decode() == CERTIFICATE.cert_pem
    assert base64.b64decode(secret["data"]["tls.key"]).decode() == CERTIFICATE.key_pem
    managers = [entry["manager"] for entry in secret["metadata"]["managedFields"]]
    assert managers == ["smarter"]
    api_client.close()  # type: ignore[no-untyped-call]


async def test_kubernetes_errors_become_infrastructure_errors(
    kubernetes_api: KubernetesApiServer,
) -> None:
    api_client = api_client_for(kubernetes_api)
    store = KubernetesSecretCertificateStore(api_client, NAMESPACE)
    kubernetes_api.fail_next(503)
    with pytest.raises(InfrastructureError, match="503"):
        await store.get("tls-any")
    api_client.close()  # type: ignore[no-untyped-call]


def test_the_setting_chooses_the_store(tmp_path: Path, kubernetes_api: KubernetesApiServer) -> None:
    made: list[k8s.ApiClient] = []

    def factory() -> k8s.ApiClient:
        made.append(api_client_for(kubernetes_api))
        return made[-1]

    assert isinstance(certificate_store_from(str(tmp_path), factory), FileCertificateStore)
    assert made == []
    assert isinstance(
        certificate_store_from("kubernetes", factory), KubernetesSecretCertificateStore
    )
    assert len(made) == 1
    made[0].close()  # type: ignore[no-untyped-call]

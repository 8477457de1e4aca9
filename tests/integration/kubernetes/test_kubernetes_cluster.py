"""KubernetesCluster through the official client against the Kubernetes API stand-in."""

from __future__ import annotations

import pytest
from kubernetes import client

from smarter.adapters.kubernetes_calls import kubernetes_api_client
from smarter.adapters.kubernetes_cluster import KubernetesCluster
from smarter.application.infrastructure import InfrastructureError, Ingress
from tests.support.kubernetes_api import KubernetesApiServer

NAMESPACE = "smarter"
ANNOTATIONS = {"nginx.ingress.kubernetes.io/proxy-read-timeout": "300"}
INGRESS = Ingress(
    name="bot-acme-api-example-com",
    host="bot.acme.api.example.com",
    tls_secret="wildcard-acme-api-example-com",
    labels={"smarter.sh/account": "3141-5926-5358", "smarter.sh/client": "42"},
)


def cluster(
    api_client: client.ApiClient, annotations: dict[str, str] | None = None
) -> KubernetesCluster:
    return KubernetesCluster(
        api_client,
        NAMESPACE,
        "nginx",
        ANNOTATIONS if annotations is None else annotations,
        "smarter",
        8000,
    )


async def test_applying_an_ingress_creates_one_host_rule_with_tls_class_annotations_and_labels(
    kubernetes_api: KubernetesApiServer, kubernetes_client: client.ApiClient
) -> None:
    await cluster(kubernetes_client).apply_ingress(INGRESS)

    [ingress] = kubernetes_api.objects("Ingress", NAMESPACE)
    assert ingress["apiVersion"] == "networking.k8s.io/v1"
    assert ingress["metadata"]["name"] == INGRESS.name
    assert ingress["metadata"]["labels"] == {
        "app.kubernetes.io/managed-by": "smarter",
        "smarter.sh/account": "3141-5926-5358",
        "smarter.sh/client": "42",
    }
    assert ingress["metadata"]["annotations"] == ANNOTATIONS
    spec = ingress["spec"]
    assert spec["ingressClassName"] == "nginx"
    assert spec["tls"] == [{"hosts": [INGRESS.host], "secretName": INGRESS.tls_secret}]
    assert spec["rules"] == [
        {
            "host": INGRESS.host,
            "http": {
                "paths": [
                    {
                        "path": "/",
                        "pathType": "Prefix",
                        "backend": {"service": {"name": "smarter", "port": {"number": 8000}}},
                    }
                ]
            },
        }
    ]


async def test_the_ingress_is_server_side_applied_by_the_smarter_field_manager_with_force(
    kubernetes_api: KubernetesApiServer, kubernetes_client: client.ApiClient
) -> None:
    await cluster(kubernetes_client).apply_ingress(INGRESS)

    [patch] = kubernetes_api.requests_to("PATCH", "Ingress")
    assert (
        patch.path == f"/apis/networking.k8s.io/v1/namespaces/{NAMESPACE}/ingresses/{INGRESS.name}"
    )
    assert patch.content_type == "application/apply-patch+yaml"
    assert patch.query == {"fieldManager": "smarter", "force": "true"}
    [ingress] = kubernetes_api.objects("Ingress")
    [entry] = ingress["metadata"]["managedFields"]
    assert (entry["manager"], entry["operation"]) == ("smarter", "Apply")


async def test_applying_the_same_ingress_again_changes_nothing(
    kubernetes_api: KubernetesApiServer, kubernetes_client: client.ApiClient
) -> None:
    adapter = cluster(kubernetes_client)
    await adapter.apply_ingress(INGRESS)
    [first] = kubernetes_api.objects("Ingress")

    await adapter.apply_ingress(INGRESS)

    [second] = kubernetes_api.objects("Ingress")
    assert second == first  # same resourceVersion, uid, generation and managed fields
    assert len(kubernetes_api.requests_to("PATCH", "Ingress")) == 2


async def test_changed_settings_are_merged_and_an_annotation_no_longer_configured_goes(
    kubernetes_api: KubernetesApiServer, kubernetes_client: client.ApiClient
) -> None:
    await cluster(kubernetes_client).apply_ingress(INGRESS)
    [before] = kubernetes_api.objects("Ingress")

    changed = {"cert-manager.io/cluster-issuer": "letsencrypt"}
    await cluster(kubernetes_client, changed).apply_ingress(INGRESS)

    [after] = kubernetes_api.objects("Ingress")
    assert after["metadata"]["annotations"] == changed
    assert int(after["metadata"]["resourceVersion"]) > int(before["metadata"]["resourceVersion"])
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert after["metadata"]["creationTimestamp"] == before["metadata"]["creationTimestamp"]
    assert after["metadata"]["generation"] == 1  # metadata only: the spec did not change


async def test_a_new_host_or_secret_changes_the_spec_of_the_same_ingress(
    kubernetes_api: KubernetesApiServer, kubernetes_client: client.ApiClient
) -> None:
    adapter = cluster(kubernetes_client)
    await adapter.apply_ingress(INGRESS)

    moved = Ingress(
        name=INGRESS.name,
        host="bot.example.org",
        tls_secret="bot-example-org",
        labels=INGRESS.labels,
    )
    await adapter.apply_ingress(moved)

    [ingress] = kubernetes_api.objects("Ingress")
    assert ingress["metadata"]["generation"] == 2
    assert ingress["spec"]["tls"] == [
        {"hosts": ["bot.example.org"], "secretName": "bot-example-org"}
    ]
    assert [rule["host"] for rule in ingress["spec"]["rules"]] == ["bot.example.org"]
    assert await adapter.get_ingress(INGRESS.name) == moved


async def test_applying_takes_back_fields_another_manager_changed(
    kubernetes_api: KubernetesApiServer, kubernetes_client: client.ApiClient
) -> None:
    adapter = cluster(kubernetes_client)
    await adapter.apply_ingress(INGRESS)
    client.NetworkingV1Api(kubernetes_client).patch_namespaced_ingress(
        INGRESS.name,
        NAMESPACE,
        {"spec": {"ingressClassName": "traefik"}},
        field_manager="kubectl-edit",
        _content_type="application/merge-patch+json",
    )

    await adapter.apply_ingress(INGRESS)

    [ingress] = kubernetes_api.objects("Ingress")
    assert ingress["spec"]["ingressClassName"] == "nginx"


async def test_get_reads_back_the_applied_ingress_and_none_when_there_is_none(
    kubernetes_client: client.ApiClient,
) -> None:
    adapter = cluster(kubernetes_client)
    assert await adapter.get_ingress(INGRESS.name) is None

    await adapter.apply_ingress(INGRESS)

    assert await adapter.get_ingress(INGRESS.name) == INGRESS


async def test_deleting_an_ingress_twice_succeeds(
    kubernetes_api: KubernetesApiServer, kubernetes_client: client.ApiClient
) -> None:
    adapter = cluster(kubernetes_client)
    await adapter.apply_ingress(INGRESS)

    await adapter.delete_ingress(INGRESS.name)
    await adapter.delete_ingress(INGRESS.name)

    assert kubernetes_api.objects("Ingress") == []
    assert len(kubernetes_api.requests_to("DELETE", "Ingress")) == 2
    assert await adapter.get_ingress(INGRESS.name) is None


@pytest.mark.parametrize("status", [500, 503, 429, 403])
async def test_api_errors_become_infrastructure_errors(
    kubernetes_api: KubernetesApiServer, kubernetes_client: client.ApiClient, status: int
) -> None:
    adapter = cluster(kubernetes_client)
    kubernetes_api.fail_next(status, times=3)

    with pytest.raises(InfrastructureError, match=str(status)):
        await adapter.apply_ingress(INGRESS)
    with pytest.raises(InfrastructureError):
        await adapter.get_ingress(INGRESS.name)
    with pytest.raises(InfrastructureError):
        await adapter.delete_ingress(INGRESS.name)


async def test_an_ingress_the_api_rejects_is_an_infrastructure_error_with_the_api_message(
    kubernetes_client: client.ApiClient,
) -> None:
    bad = Ingress(name="Not_A_Name", host="x.example.com", tls_secret="x", labels={})

    with pytest.raises(InfrastructureError, match=r"422 .*is invalid"):
        await cluster(kubernetes_client).apply_ingress(bad)


async def test_an_unreachable_api_is_an_infrastructure_error() -> None:
    with KubernetesApiServer() as server:
        url = server.url
    api_client = kubernetes_api_client(url)
    adapter = KubernetesCluster(api_client, NAMESPACE, "nginx", {}, "smarter", 8000, timeout=(1, 1))

    with pytest.raises(InfrastructureError, match="unreachable"):
        await adapter.apply_ingress(INGRESS)
    api_client.close()  # type: ignore[no-untyped-call]


async def test_a_client_for_a_url_sends_the_configured_bearer_token(
    kubernetes_api: KubernetesApiServer,
) -> None:
    api_client = kubernetes_api_client(kubernetes_api.url + "/", token="sa-token")

    await cluster(api_client).get_ingress(INGRESS.name)
    api_client.close()  # type: ignore[no-untyped-call]

    assert [r.authorization for r in kubernetes_api.requests] == ["Bearer sa-token"]

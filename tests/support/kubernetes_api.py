"""A stand-in of the Kubernetes API on loopback, for the official client in integration tests.

No real cluster runs on these machines, so the tests talk HTTP to this server instead. It serves
the three kinds the platform writes, at the real API's paths:

- Ingress      `/apis/networking.k8s.io/v1/namespaces/{ns}/ingresses[/{name}[/status]]`
- Certificate  `/apis/cert-manager.io/v1/namespaces/{ns}/certificates[/{name}[/status]]`
- Secret       `/api/v1/namespaces/{ns}/secrets[/{name}]`

and follows the real API where the platform's code could tell the difference:

- GET an object, or a list (`kind: <Kind>List`, `metadata.resourceVersion`; `labelSelector` with
  `key=value` terms).
- POST creates (201; 409 `AlreadyExists` when the name is taken).
- PATCH `application/apply-patch+yaml` is server-side apply: `fieldManager` is required (400
  otherwise); it creates (201) or merges (200). Field ownership is tracked per manager: a field
  a manager stops applying is removed (unless someone else owns it too); applying a field that
  another manager set to a different value (by apply, or by an update) is a 409 `Conflict`
  unless `force=true`, which moves the field; `metadata.managedFields` lists the managers and
  their fields; an apply that changes nothing does not bump `resourceVersion`.
- PATCH `application/merge-patch+json` is RFC 7386; the strategic merge patch of built-in kinds
  is treated as a merge patch, and is a 415 for custom resources (as on a real server). Like
  PUT, it is an update that takes over the fields it changes, without conflicts.
- PUT replaces, with an optimistic check of `metadata.resourceVersion` (409 `Conflict`). A write
  without a Content-Type is JSON; a patch without one is a 415.
- DELETE answers a `Status` for built-in kinds and the deleted object for custom resources (what
  the real API does), honours `preconditions.resourceVersion`, and 404 when missing.
- Kinds with a status (Ingress, Certificate) keep it apart: writes to the object leave `status`
  alone, writes to `/status` change nothing else. `metadata.generation` counts spec changes;
  `uid` and `creationTimestamp` are set once. Secrets turn `stringData` into base64 `data`.
- Errors are `Status` bodies (`reason`, `code`, `message`): 400, 404, 405, 409, 415, 422 (names
  and labels are validated). Every answer is `application/json`.

Simplifications: JSON Patch is not served (415); lists are atomic (no merge keys); there is no
watch, no defaulting, no admission and no namespace objects (any namespace exists).

Tests drive cert-manager's part by hand (`mark_certificate_issuing`, `mark_certificate_ready`
which also writes the TLS secret with a real self-signed certificate, `mark_certificate_failed`),
or let the server do it: with `auto_issue=<seconds>` every Certificate that needs a certificate
(new, changed spec, or renewal triggered through its `Issuing` condition) is issued that long
after the write. `fail_next(status)` makes the next requests fail, to test error handling.

Every request is also recorded as what the API server authorizes it as (`server.accesses`: RBAC
verb, API group and resource, e.g. `patch` and `create` for a server-side apply that creates),
so that tests can derive the RBAC rules a client needs from what it did.

Use: `with KubernetesApiServer() as server: ... server.url ... server.objects("Ingress") ...
server.requests ... server.accesses`.
Run by hand: `python -m tests.support.kubernetes_api --port 8443`.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import copy
import datetime as dt
import itertools
import json
import re
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

Object = dict[str, Any]
Path = tuple[str, ...]

APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON = "application/json"
REQUEST_LOG = "/__smarter/requests"  # not Kubernetes: `requests` as JSON, for benchmarks
CERT_MANAGER = "cert-manager-certificates"  # the field manager cert-manager's controllers use


@dataclass(frozen=True)
class Resource:
    group: str  # "" for the core API
    version: str
    plural: str
    kind: str
    builtin: bool  # built-in kinds answer DELETE with a Status, custom resources with the object
    has_status: bool  # a `/status` subresource, and `metadata.generation`

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """How the API names the resource in messages: `ingresses.networking.k8s.io`."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


RESOURCES = {
    r.plural: r
    for r in (
        Resource("networking.k8s.io", "v1", "ingresses", "Ingress", True, True),
        Resource("cert-manager.io", "v1", "certificates", "Certificate", False, True),
        Resource("", "v1", "secrets", "Secret", True, False),
    )
}
_BY_KIND = {r.kind.lower(): r for r in RESOURCES.values()} | {p: r for p, r in RESOURCES.items()}
_PATH = re.compile(
    r"^/(?:api/(?P<core>v1)|apis/(?P<group>[^/]+)/(?P<version>[^/]+))"
    r"/namespaces/(?P<namespace>[^/]+)/(?P<plural>[^/]+)"
    r"(?:/(?P<name>[^/]+)(?:/(?P<sub>[^/]+))?)?/?$"
)
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")


class ApiError(Exception):
    """An answer with a `Status` body."""

    def __init__(self, code: int, reason: str, message: str, details: Object | None = None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self) -> Object:
        body: Object = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            body["details"] = self.details
        return body


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    content_type: str
    body: Any
    authorization: str = ""


@dataclass(frozen=True, order=True)
class Access:
    """What the API server authorizes a request as: an RBAC verb on a resource of an API group
    (`certificates/status` for a subresource; "" is the core group)."""

    group: str
    resource: str
    verb: str


_VERBS = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
_COLLECTION_VERBS = {"GET": "list", "DELETE": "deletecollection"}


def _access(method: str, path: str, query: dict[str, str]) -> Access | None:
    match = _PATH.match(path)
    if match is None or method not in _VERBS:
        return None
    resource = match["plural"] + (f"/{match['sub']}" if match["sub"] else "")
    verb = _VERBS[method]
    if match["name"] is None:
        watch = method == "GET" and query.get("watch") in ("true", "1")
        verb = "watch" if watch else _COLLECTION_VERBS.get(method, verb)
    return Access("" if match["core"] else match["group"], resource, verb)


@dataclass
class _Failure:
    status: int
    reason: str
    times: int
    method: str | None


@dataclass
class _Stored:
    object: Object
    # Each applier's last applied configuration, by manager and subresource ("" or "status").
    applied: dict[tuple[str, str], Object] = field(default_factory=dict)


def now_text() -> str:
    return _time_text(dt.datetime.now(dt.UTC))


def _time_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class KubernetesApiServer:
    """The stand-in, served by a ThreadingHTTPServer on a free loopback port."""

    def __init__(self, *, port: int = 0, auto_issue: float | None = None) -> None:
        self.auto_issue = auto_issue
        self.requests: list[RecordedRequest] = []
        self.accesses: set[Access] = set()
        self._store: dict[tuple[str, str, str], _Stored] = {}
        self._lock = threading.RLock()
        self._versions = itertools.count(1000)
        self._failures: list[_Failure] = []
        self._timers: list[threading.Timer] = []
        self._pending: set[tuple[str, str]] = set()  # Certificates auto_issue is working on
        self._version = 999
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> KubernetesApiServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            for timer in self._timers:
                timer.cancel()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> KubernetesApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- inspection, for tests -------------------------------------------------------------

    def objects(self, kind: str, namespace: str | None = None) -> list[Object]:
        """Copies of the stored objects of a kind ("Ingress" or "ingresses"), by name."""
        resource = _BY_KIND[kind.lower()]
        with self._lock:
            found = [
                copy.deepcopy(stored.object)
                for (plural, ns, _), stored in sorted(self._store.items())
                if plural == resource.plural and namespace in (None, ns)
            ]
        return found

    def get(self, kind: str, name: str, namespace: str | None = None) -> Object | None:
        return next(
            (o for o in self.objects(kind, namespace) if o["metadata"]["name"] == name), None
        )

    def requests_to(self, method: str, kind: str | None = None) -> list[RecordedRequest]:
        plural = _BY_KIND[kind.lower()].plural if kind else ""
        return [r for r in self.requests if r.method == method and f"/{plural}" in r.path]

    def fail_next(
        self,
        status: int,
        *,
        reason: str = "InternalError",
        times: int = 1,
        method: str | None = None,
    ) -> None:
        """Answer the next `times` requests (of `method`, if given) with this error status."""
        with self._lock:
            self._failures.append(_Failure(status, reason, times, method))

    # --- cert-manager's part ---------------------------------------------------------------

    def mark_certificate_issuing(self, name: str, namespace: str | None = None) -> Object:
        """What cert-manager's trigger controller writes when a Certificate needs issuing."""

        def change(status: Object, certificate: Object) -> None:
            generation = certificate["metadata"].get("generation", 1)
            conditions = {c["type"]: c for c in status.get("conditions", [])}
            if conditions.get("Ready", {}).get("status") != "True":
                conditions["Ready"] = _condition(
                    "Ready",
                    "False",
                    "DoesNotExist",
                    "Issuing certificate as Secret does not exist",
                    generation,
                )
            if conditions.get("Issuing", {}).get("status") != "True":
                conditions["Issuing"] = _condition(
                    "Issuing",
                    "True",
                    "DoesNotExist",
                    "Issuing certificate as Secret does not exist",
                    generation,
                )
            status["conditions"] = list(conditions.values())

        return self._change_certificate_status(name, namespace, change)

    def mark_certificate_ready(
        self,
        name: str,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        namespace: str | None = None,
    ) -> Object:
        """Issue: write the TLS secret (a real self-signed certificate for the dnsNames), set
        `Ready=True`, `notBefore`, `notAfter` and `renewalTime` (at two thirds), as cert-manager
        does."""
        start = not_before or dt.datetime.now(dt.UTC).replace(microsecond=0)
        end = not_after or start + dt.timedelta(days=90)
        certificate = self._certificate(name, namespace)
        namespace = certificate["metadata"]["namespace"]
        spec = certificate.get("spec", {})
        self._write_tls_secret(spec.get("secretName", name), namespace, name, spec, start, end)

        def change(status: Object, certificate: Object) -> None:
            generation = certificate["metadata"].get("generation", 1)
            status.clear()
            status.update(
                conditions=[
                    _condition(
                        "Ready",
                        "True",
                        "Ready",
                        "Certificate is up to date and has not expired",
                        generation,
                    )
                ],
                notBefore=_time_text(start),
                notAfter=_time_text(end),
                renewalTime=_time_text(start + (end - start) * 2 / 3),
                revision=int(certificate.get("status", {}).get("revision", 0)) + 1,
            )

        return self._change_certificate_status(name, namespace, change)

    def mark_certificate_failed(
        self,
        name: str,
        message: str = "The certificate request has failed to complete",
        namespace: str | None = None,
    ) -> Object:
        """An issuance that failed: `Issuing=False` with reason `Failed`, `lastFailureTime`."""

        def change(status: Object, certificate: Object) -> None:
            generation = certificate["metadata"].get("generation", 1)
            conditions = {c["type"]: c for c in status.get("conditions", [])}
            conditions.setdefault(
                "Ready",
                _condition(
                    "Ready",
                    "False",
                    "DoesNotExist",
                    "Issuing certificate as Secret does not exist",
                    generation,
                ),
            )
            conditions["Issuing"] = _condition("Issuing", "False", "Failed", message, generation)
            status["conditions"] = list(conditions.values())
            status["lastFailureTime"] = now_text()
            status["failedIssuanceAttempts"] = int(status.get("failedIssuanceAttempts", 0)) + 1

        return self._change_certificate_status(name, namespace, change)

    def _certificate(self, name: str, namespace: str | None) -> Object:
        found = self.get("Certificate", name, namespace)
        if found is None:
            raise KeyError(f"no Certificate named {name!r}")
        return found

    def _change_certificate_status(
        self, name: str, namespace: str | None, change: Callable[[Object, Object], None]
    ) -> Object:
        with self._lock:
            certificate = self._certificate(name, namespace)
            key = ("certificates", certificate["metadata"]["namespace"], name)
            stored = self._store[key]
            status = copy.deepcopy(stored.object.get("status", {}))
            change(status, stored.object)
            updated = copy.deepcopy(stored.object)
            updated["status"] = status
            applied = copy.deepcopy(stored.applied)
            _take_over(
                applied,
                CERT_MANAGER,
                "status",
                _owned(stored.object, "status"),
                _owned(updated, "status"),
            )
            _record_manager(
                updated,
                CERT_MANAGER,
                "Update",
                "status",
                applied[(CERT_MANAGER, "status")],
                RESOURCES["certificates"],
            )
            updated["metadata"]["resourceVersion"] = self._next_version()
            _sync_managed_fields(updated, applied)
            stored.object, stored.applied = updated, applied
            return copy.deepcopy(updated)

    def _write_tls_secret(
        self,
        secret: str,
        namespace: str,
        certificate: str,
        spec: Object,
        start: dt.datetime,
        end: dt.datetime,
    ) -> None:
        crt, key = _self_signed(spec.get("dnsNames") or [certificate], start, end)
        issuer = spec.get("issuerRef", {})
        body: Object = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": secret,
                "namespace": namespace,
                "annotations": {
                    "cert-manager.io/certificate-name": certificate,
                    "cert-manager.io/issuer-name": issuer.get("name", ""),
                    "cert-manager.io/issuer-kind": issuer.get("kind", "Issuer"),
                    "cert-manager.io/alt-names": ",".join(spec.get("dnsNames", [])),
                },
            },
            "type": "kubernetes.io/tls",
            "data": {"tls.crt": _b64(crt), "tls.key": _b64(key), "ca.crt": _b64(crt)},
        }
        with self._lock:
            self._apply(RESOURCES["secrets"], namespace, secret, "", body, CERT_MANAGER, force=True)

    @staticmethod
    def _needs_issuance(certificate: Object) -> bool:
        generation = certificate["metadata"].get("generation", 1)
        conditions = {c["type"]: c for c in certificate.get("status", {}).get("conditions", [])}
        ready, issuing = conditions.get("Ready", {}), conditions.get("Issuing", {})
        return bool(
            issuing.get("status") == "True"
            or ready.get("status") != "True"
            or ready.get("observedGeneration") != generation
        )

    # --- the API ---------------------------------------------------------------------------

    def handle(
        self, method: str, target: str, content_type: str, raw: bytes, authorization: str = ""
    ) -> tuple[int, Object]:
        """Answer one request: (status code, JSON body)."""
        url = urlsplit(target)
        if url.path == REQUEST_LOG:  # the log itself, for a benchmark in another process
            with self._lock:
                return 200, {"requests": [[r.method, r.path] for r in self.requests]}
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        media = content_type.split(";")[0].strip().lower()
        access = _access(method, url.path, query)
        with self._lock:
            self.requests.append(
                RecordedRequest(method, url.path, query, media, _loads_quietly(raw), authorization)
            )
            if access is not None:
                self.accesses.add(access)
            failure = next(
                (f for f in self._failures if f.times > 0 and f.method in (None, method)), None
            )
            if failure is not None:
                failure.times -= 1
                return failure.status, ApiError(
                    failure.status, failure.reason, "injected failure"
                ).status()
        try:
            status, body = self._route(method, url.path, query, media, raw)
        except ApiError as error:
            return error.code, error.status()
        if access is not None and media == APPLY and status == HTTPStatus.CREATED:
            with self._lock:  # an apply that creates needs the create verb as well
                self.accesses.add(Access(access.group, access.resource, "create"))
        return status, body

    def _route(
        self, method: str, path: str, query: dict[str, str], media: str, raw: bytes
    ) -> tuple[int, Object]:
        match = _PATH.match(path)
        resource = RESOURCES.get(match["plural"]) if match else None
        if match is None or resource is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        group, version = ("", "v1") if match["core"] else (match["group"], match["version"])
        if (group, version) != (resource.group, resource.version):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        namespace, name, sub = match["namespace"], match["name"], match["sub"] or ""
        if sub and (sub != "status" or not resource.has_status):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        with self._lock:
            if name is None:
                if method == "GET":
                    return 200, self._list(resource, namespace, query.get("labelSelector", ""))
                if method == "POST":
                    body = _parse(raw, media or JSON, (JSON, "application/yaml"))
                    return 201, self._create(resource, namespace, body, query)
                raise ApiError(
                    405,
                    "MethodNotAllowed",
                    f"the server does not allow this method on {resource.qualified}",
                )
            if method == "GET":
                return 200, copy.deepcopy(self._existing(resource, namespace, name).object)
            if method == "PUT":
                # No Content-Type is JSON for creates and updates (the API server's default, and
                # what the client sends for custom objects), but not for patches.
                body = _parse(raw, media or JSON, (JSON, "application/yaml"))
                return 200, self._replace(resource, namespace, name, sub, body, query)
            if method == "PATCH":
                return self._patch(resource, namespace, name, sub, media, raw, query)
            if method == "DELETE" and not sub:
                options = _loads_quietly(raw) or {}
                return 200, self._delete(resource, namespace, name, options)
        raise ApiError(
            405,
            "MethodNotAllowed",
            f"the server does not allow this method on {resource.qualified}",
        )

    def _list(self, resource: Resource, namespace: str, selector: str) -> Object:
        wanted = _selector(selector)
        items = [
            copy.deepcopy(stored.object)
            for (plural, ns, _), stored in sorted(self._store.items())
            if plural == resource.plural
            and ns == namespace
            and all(
                stored.object["metadata"].get("labels", {}).get(k) == v for k, v in wanted.items()
            )
        ]
        return {
            "kind": f"{resource.kind}List",
            "apiVersion": resource.api_version,
            "metadata": {"resourceVersion": str(self._current_version())},
            "items": items,
        }

    def _create(
        self, resource: Resource, namespace: str, body: Object, query: dict[str, str]
    ) -> Object:
        name = _check_identity(resource, namespace, None, body)
        key = (resource.plural, namespace, name)
        if key in self._store:
            raise ApiError(
                409,
                "AlreadyExists",
                f'{resource.qualified} "{name}" already exists',
                {"name": name, "group": resource.group, "kind": resource.plural},
            )
        obj = _incoming(resource, body)
        if resource.has_status:
            obj.pop("status", None)
        _validate(resource, name, obj)
        self._stamp_new(obj, resource, namespace, name)
        manager = query.get("fieldManager", "unknown")
        owned = _owned(obj, "")
        _record_manager(obj, manager, "Update", "", owned, resource)
        self._store[key] = _Stored(obj, {(manager, ""): owned})
        self._after_write(resource, namespace, name)
        return copy.deepcopy(obj)

    def _replace(
        self,
        resource: Resource,
        namespace: str,
        name: str,
        sub: str,
        body: Object,
        query: dict[str, str],
    ) -> Object:
        stored = self._existing(resource, namespace, name)
        _check_identity(resource, namespace, name, body)
        current = stored.object
        sent_version = body.get("metadata", {}).get("resourceVersion")
        if sent_version and sent_version != current["metadata"]["resourceVersion"]:
            raise _conflict_modified(resource, name)
        incoming = _incoming(resource, body)
        if sub:
            updated = copy.deepcopy(current)
            updated["status"] = incoming.get("status", {})
        else:
            updated = incoming
            updated["metadata"] = {**current["metadata"], **_user_metadata(incoming)}
            for key in ("labels", "annotations"):
                if key not in incoming["metadata"]:
                    updated["metadata"].pop(key, None)
            if resource.has_status and "status" in current:
                updated["status"] = current["status"]
            else:
                updated.pop("status", None)
        _validate(resource, name, updated)
        return self._commit(
            resource,
            namespace,
            name,
            stored,
            updated,
            query.get("fieldManager", "unknown"),
            "Update",
            sub,
        )

    def _patch(
        self,
        resource: Resource,
        namespace: str,
        name: str,
        sub: str,
        media: str,
        raw: bytes,
        query: dict[str, str],
    ) -> tuple[int, Object]:
        force = query.get("force", "false")
        if force not in ("true", "false"):
            raise ApiError(400, "BadRequest", f"invalid value for force: {force!r}")
        if media == APPLY:
            manager = query.get("fieldManager")
            if not manager:
                raise ApiError(
                    400, "BadRequest", "PATCH requests of type apply must set fieldManager"
                )
            body = _parse(raw, media, (APPLY,))
            if "managedFields" in body.get("metadata", {}):
                raise ApiError(400, "BadRequest", "metadata.managedFields must be nil")
            _check_identity(resource, namespace, name, body, apply=True)
            created = (resource.plural, namespace, name) not in self._store
            if created and sub:
                raise _not_found(resource, name)
            obj = self._apply(resource, namespace, name, sub, body, manager, force=force == "true")
            return (201 if created else 200), obj
        if force == "true":
            raise ApiError(400, "BadRequest", "force may only be set for apply patches")
        if media == MERGE or (media == STRATEGIC and resource.builtin):
            patch = _parse(raw, media, (MERGE, STRATEGIC))
            stored = self._existing(resource, namespace, name)
            updated = _merge_patch(copy.deepcopy(stored.object), patch)
            _check_identity(resource, namespace, name, updated)
            if resource.has_status:
                if sub:
                    status = updated.get("status", {})
                    updated = copy.deepcopy(stored.object)
                    updated["status"] = status
                elif "status" in stored.object:
                    updated["status"] = stored.object["status"]
                else:
                    updated.pop("status", None)
            _validate(resource, name, updated)
            manager = query.get("fieldManager", "unknown")
            return 200, self._commit(
                resource, namespace, name, stored, updated, manager, "Update", sub
            )
        raise _unsupported(media, [APPLY, MERGE] + ([STRATEGIC] if resource.builtin else []))

    def _apply(
        self,
        resource: Resource,
        namespace: str,
        name: str,
        sub: str,
        body: Object,
        manager: str,
        *,
        force: bool,
    ) -> Object:
        key = (resource.plural, namespace, name)
        config = _incoming(resource, body)
        config["metadata"] = _user_metadata(config)
        if resource.has_status:
            config = (
                {"status": config.get("status", {})}
                if sub
                else {k: v for k, v in config.items() if k != "status"}
            )
        config = {k: v for k, v in config.items() if k not in ("apiVersion", "kind")}
        if not config.get("metadata"):
            config.pop("metadata", None)
        stored = self._store.get(key)
        if stored is None:
            obj: Object = {
                "apiVersion": resource.api_version,
                "kind": resource.kind,
                "metadata": {},
            }
            _deep_merge(obj, copy.deepcopy(config))
            _validate(resource, name, obj)
            self._stamp_new(obj, resource, namespace, name)
            _record_manager(obj, manager, "Apply", sub, config, resource)
            self._store[key] = _Stored(obj, {(manager, sub): config})
            self._after_write(resource, namespace, name)
            return copy.deepcopy(obj)

        mine = _leaves(config)
        conflicts = [
            (other, path)
            for (other, other_sub), other_config in stored.applied.items()
            if (other, other_sub) != (manager, sub)
            for path, value in _leaves(other_config).items()
            if path in mine and mine[path] != value
        ]
        if conflicts and not force:
            fields = ", ".join(f'conflict with "{m}": .{".".join(p)}' for m, p in conflicts)
            raise ApiError(
                409,
                "Conflict",
                f"Apply failed with {len(conflicts)} conflict(s): {fields}",
                {
                    "name": name,
                    "group": resource.group,
                    "kind": resource.plural,
                    "causes": [
                        {
                            "reason": "FieldManagerConflict",
                            "message": f'conflict with "{m}"',
                            "field": "." + ".".join(p),
                        }
                        for m, p in conflicts
                    ],
                },
            )
        applied = copy.deepcopy(stored.applied)
        for other, path in conflicts:
            for (m, _), other_config in applied.items():
                if m == other:
                    _remove_path(other_config, path)
        others = set().union(
            *(_leaves(c) for (m, s), c in applied.items() if (m, s) != (manager, sub))
        )
        updated = copy.deepcopy(stored.object)
        for path in _leaves(applied.get((manager, sub), {})):
            if path not in mine and path not in others:
                _remove_path(updated, path)
        _deep_merge(updated, copy.deepcopy(config))
        applied[(manager, sub)] = config
        _validate(resource, name, updated)
        return self._commit(
            resource, namespace, name, stored, updated, manager, "Apply", sub, applied
        )

    def _commit(
        self,
        resource: Resource,
        namespace: str,
        name: str,
        stored: _Stored,
        updated: Object,
        manager: str,
        operation: str,
        sub: str,
        applied: dict[tuple[str, str], Object] | None = None,
    ) -> Object:
        """Store `updated` unless it changes nothing (then nothing is bumped, as on a real API).

        An "Update" (PUT, merge patch) takes over the fields it changes from the appliers."""
        if applied is None:
            applied = copy.deepcopy(stored.applied)
            _take_over(applied, manager, sub, _owned(stored.object, sub), _owned(updated, sub))
        config = applied.get((manager, sub))
        if config or operation == "Apply":
            _record_manager(updated, manager, operation, sub, config or {}, resource)
        _sync_managed_fields(updated, applied)
        if _without_times(updated) == _without_times(stored.object):
            return copy.deepcopy(stored.object)
        spec_changed = _spec(updated) != _spec(stored.object)
        if resource.has_status and spec_changed:
            generation = int(stored.object["metadata"].get("generation", 1))
            updated["metadata"]["generation"] = generation + 1
        updated["metadata"]["resourceVersion"] = self._next_version()
        stored.object = updated
        stored.applied = {key: config for key, config in applied.items() if config}
        self._after_write(resource, namespace, name)
        return copy.deepcopy(updated)

    def _delete(self, resource: Resource, namespace: str, name: str, options: Object) -> Object:
        stored = self._existing(resource, namespace, name)
        precondition = (options.get("preconditions") or {}).get("resourceVersion")
        if precondition and precondition != stored.object["metadata"]["resourceVersion"]:
            raise _conflict_modified(resource, name)
        del self._store[(resource.plural, namespace, name)]
        self._next_version()
        if not resource.builtin:
            return copy.deepcopy(stored.object)
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {
                "name": name,
                "group": resource.group,
                "kind": resource.plural,
                "uid": stored.object["metadata"]["uid"],
            },
        }

    def _after_write(self, resource: Resource, namespace: str, name: str) -> None:
        """With `auto_issue`, play cert-manager: a Certificate that needs a certificate is marked
        issuing at once and issued `auto_issue` seconds later, outside the request's lock."""
        if resource.plural != "certificates" or self.auto_issue is None:
            return
        if (namespace, name) in self._pending:
            return
        if self._needs_issuance(self._store[(resource.plural, namespace, name)].object):
            self._pending.add((namespace, name))
            self._later(0.0, self._auto_issuing, namespace, name)

    def _auto_issuing(self, namespace: str, name: str) -> None:
        with self._lock:
            try:
                self.mark_certificate_issuing(name, namespace)
            except KeyError:  # deleted in the meantime
                self._pending.discard((namespace, name))
                return
        self._later(self.auto_issue or 0.0, self._auto_ready, namespace, name)

    def _auto_ready(self, namespace: str, name: str) -> None:
        with self._lock:
            self._pending.discard((namespace, name))
            with contextlib.suppress(KeyError):  # deleted in the meantime
                self.mark_certificate_ready(name, namespace=namespace)

    def _later(self, delay: float, action: Any, *args: Any) -> None:
        timer = threading.Timer(delay, action, args)
        timer.daemon = True
        with self._lock:
            self._timers = [t for t in self._timers if t.is_alive()]
            self._timers.append(timer)
        timer.start()

    def _existing(self, resource: Resource, namespace: str, name: str) -> _Stored:
        stored = self._store.get((resource.plural, namespace, name))
        if stored is None:
            raise _not_found(resource, name)
        return stored

    def _stamp_new(self, obj: Object, resource: Resource, namespace: str, name: str) -> None:
        metadata = obj.setdefault("metadata", {})
        metadata.update(
            name=name,
            namespace=namespace,
            uid=str(uuid.uuid4()),
            creationTimestamp=now_text(),
            resourceVersion=self._next_version(),
        )
        if resource.has_status:
            metadata["generation"] = 1

    def _next_version(self) -> str:
        self._version = next(self._versions)
        return str(self._version)

    def _current_version(self) -> int:
        return self._version


# --- object helpers ------------------------------------------------------------------------


def _condition(kind: str, status: str, reason: str, message: str, generation: int) -> Object:
    return {
        "type": kind,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": now_text(),
        "observedGeneration": generation,
    }


def _incoming(resource: Resource, body: Object) -> Object:
    """A client's object without the fields the server owns; Secrets' stringData encoded."""
    obj = copy.deepcopy(body)
    obj["apiVersion"], obj["kind"] = resource.api_version, resource.kind
    obj["metadata"] = _user_metadata(obj)
    if resource.kind == "Secret" and "stringData" in obj:
        data = obj.setdefault("data", {})
        for key, value in obj.pop("stringData").items():
            data[key] = _b64(str(value).encode())
    return obj


def _user_metadata(obj: Object) -> Object:
    metadata = obj.get("metadata") or {}
    return {
        k: v
        for k, v in metadata.items()
        if k in ("labels", "annotations", "finalizers", "ownerReferences")
    }


def _spec(obj: Object) -> Object:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def _without_times(obj: Object) -> Object:
    trimmed = copy.deepcopy(obj)
    for entry in trimmed["metadata"].get("managedFields", []):
        entry.pop("time", None)
    return trimmed


def _record_manager(
    obj: Object, manager: str, operation: str, sub: str, owned: Object, resource: Resource
) -> None:
    """Set this writer's `metadata.managedFields` entry (`fieldsV1`: the fields it owns), in
    place if it has one."""
    entry: Object = {
        "manager": manager,
        "operation": operation,
        "apiVersion": resource.api_version,
        "time": now_text(),
        "fieldsType": "FieldsV1",
        "fieldsV1": _fields_v1(owned),
    }
    if sub:
        entry["subresource"] = sub
    entries = obj["metadata"].setdefault("managedFields", [])
    for index, existing in enumerate(entries):
        if (existing["manager"], existing["operation"], existing.get("subresource", "")) == (
            manager,
            operation,
            sub,
        ):
            entries[index] = entry
            return
    entries.append(entry)


def _owned(obj: Object, sub: str) -> Object:
    """The fields a writer can own: labels, annotations and the spec (or the status)."""
    if sub:
        return {"status": copy.deepcopy(obj.get("status", {}))}
    owned = copy.deepcopy(_spec(obj))
    metadata = {k: v for k, v in obj["metadata"].items() if k in ("labels", "annotations")}
    if metadata:
        owned["metadata"] = copy.deepcopy(metadata)
    return owned


def _take_over(
    applied: dict[tuple[str, str], Object], manager: str, sub: str, before: Object, after: Object
) -> None:
    """The writer of an update owns what it changed; what it removed belongs to nobody."""
    old, new = _leaves(before), _leaves(after)
    changed = {path: value for path, value in new.items() if path not in old or old[path] != value}
    for path in changed.keys() | (old.keys() - new.keys()):
        for config in applied.values():
            _remove_path(config, path)
    mine = applied.setdefault((manager, sub), {})
    for path, value in changed.items():
        node = mine
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = copy.deepcopy(value)


def _sync_managed_fields(obj: Object, applied: dict[tuple[str, str], Object]) -> None:
    """Entries follow ownership: a writer that owns nothing any more is dropped."""
    entries = []
    for entry in obj["metadata"].get("managedFields", []):
        owned = applied.get((entry["manager"], entry.get("subresource", "")))
        if owned:
            entries.append({**entry, "fieldsV1": _fields_v1(owned)})
    obj["metadata"]["managedFields"] = entries


def _fields_v1(config: Object) -> Object:
    return {f"f:{k}": (_fields_v1(v) if isinstance(v, dict) else {}) for k, v in config.items()}


def _leaves(tree: Mapping[str, Any], prefix: Path = ()) -> dict[Path, Any]:
    found: dict[Path, Any] = {}
    for key, value in tree.items():
        path = (*prefix, key)
        if isinstance(value, dict) and value:
            found.update(_leaves(value, path))
        else:
            found[path] = value
    return found


def _remove_path(tree: Object, path: Path) -> None:
    """Remove the field at `path`, and the maps it leaves empty (as `omitempty` does)."""
    if not path or not isinstance(tree, dict) or path[0] not in tree:
        return
    if len(path) == 1:
        del tree[path[0]]
        return
    child = tree[path[0]]
    _remove_path(child, path[1:])
    if child == {}:
        del tree[path[0]]


def _deep_merge(target: Object, source: Mapping[str, Any]) -> None:
    for key, value in source.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_merge(target[key], value)
        else:
            target[key] = value


def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386."""
    if not isinstance(patch, dict):
        return patch
    result = target if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge_patch(result.get(key), value)
    return result


def _check_identity(
    resource: Resource, namespace: str, name: str | None, body: Object, *, apply: bool = False
) -> str:
    sent = (body.get("apiVersion"), body.get("kind"))
    if sent != (resource.api_version, resource.kind) and (apply or any(sent)):
        raise ApiError(
            400,
            "BadRequest",
            f"the API version in the data ({sent[0]}) and kind ({sent[1]}) "
            f"do not match {resource.api_version} {resource.kind}",
        )
    metadata = body.get("metadata") or {}
    sent_name = metadata.get("name")
    if name is not None and sent_name not in (None, name):
        raise ApiError(
            400,
            "BadRequest",
            f"the name of the object ({sent_name}) does not match the name on the URL ({name})",
        )
    if metadata.get("namespace") not in (None, namespace):
        raise ApiError(
            400,
            "BadRequest",
            "the namespace of the provided object does not match the namespace sent on the request",
        )
    final = name or sent_name
    if not final:
        raise ApiError(
            422,
            "Invalid",
            f"{resource.kind} is invalid: metadata.name: Required value: "
            "name or generateName is required",
        )
    return str(final)


def _validate(resource: Resource, name: str, obj: Object) -> None:
    problems = []
    if len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
        problems.append(
            f"metadata.name: Invalid value: {name!r}: not a lowercase RFC 1123 subdomain"
        )
    for key, value in (obj["metadata"].get("labels") or {}).items():
        prefix, _, label = str(key).rpartition("/")
        if (
            len(label) > 63
            or not _LABEL_NAME.match(label)
            or (prefix and not _DNS_SUBDOMAIN.match(prefix))
        ):
            problems.append(f"metadata.labels: Invalid value: {key!r}: not a valid label name")
        if (
            not isinstance(value, str)
            or len(value) > 63
            or (value and not _LABEL_NAME.match(value))
        ):
            problems.append(f"metadata.labels: Invalid value: {value!r}: not a valid label value")
    for key, value in (obj["metadata"].get("annotations") or {}).items():
        if not isinstance(value, str):
            problems.append(
                f"metadata.annotations[{key}]: Invalid value: annotations must be strings"
            )
    if problems:
        group = f".{resource.group}" if resource.group else ""
        raise ApiError(
            422,
            "Invalid",
            f'{resource.kind}{group} "{name}" is invalid: ' + "; ".join(problems),
            {"name": name, "group": resource.group, "kind": resource.kind},
        )


def _selector(text: str) -> dict[str, str]:
    wanted = {}
    for term in filter(None, (t.strip() for t in text.split(","))):
        key, sep, value = term.partition("=")
        if not sep or key.endswith("!"):
            raise ApiError(
                400,
                "BadRequest",
                f"this stand-in only understands key=value selectors, not {term!r}",
            )
        wanted[key.strip()] = value.lstrip("=").strip()
    return wanted


def _parse(raw: bytes, media: str, accepted: tuple[str, ...]) -> Object:
    if media not in accepted:
        raise _unsupported(media, list(accepted))
    try:
        body = yaml.safe_load(raw.decode()) if "yaml" in media else json.loads(raw or b"null")
    except (ValueError, yaml.YAMLError) as error:
        raise ApiError(400, "BadRequest", f"the request body is not valid: {error}") from error
    if not isinstance(body, dict):
        raise ApiError(400, "BadRequest", "the request body must be an object")
    return body


def _loads_quietly(raw: bytes) -> Any:
    try:
        return yaml.safe_load(raw.decode()) if raw else None
    except (ValueError, yaml.YAMLError):
        return raw


def _unsupported(media: str, accepted: list[str]) -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format ({media or 'none'}) - "
        "accepted media types include: " + ", ".join(accepted),
    )


def _not_found(resource: Resource, name: str) -> ApiError:
    return ApiError(
        404,
        "NotFound",
        f'{resource.qualified} "{name}" not found',
        {"name": name, "group": resource.group, "kind": resource.plural},
    )


def _conflict_modified(resource: Resource, name: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {resource.qualified} "{name}": the object has been '
        "modified; please apply your changes to the latest version and try again",
        {"name": name, "group": resource.group, "kind": resource.plural},
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _self_signed(hosts: list[str], start: dt.datetime, end: dt.datetime) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0][:64])])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


# --- HTTP ----------------------------------------------------------------------------------


def _handler_for(api: KubernetesApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the client's connection pool expects

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes: without this, Nagle's algorithm and the
            # client's delayed ACK add 40 ms to every answer on a kept-alive connection.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            status, body = api.handle(
                self.command,
                self.path,
                self.headers.get("Content-Type", ""),
                raw,
                self.headers.get("Authorization", ""),
            )
            data = json.dumps(body).encode()
            self.send_response(status, HTTPStatus(status).phrase)
            self.send_header("Content-Type", JSON)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the request log is `api.requests`

    return Handler


def main() -> None:  # pragma: no cover - manual use
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8443)
    parser.add_argument("--auto-issue", type=float, default=1.0, help="seconds until issuance")
    args = parser.parse_args()
    with KubernetesApiServer(port=args.port, auto_issue=args.auto_issue) as server:
        print(f"Kubernetes API stand-in on {server.url}", flush=True)
        threading.Event().wait()


if __name__ == "__main__":  # pragma: no cover
    main()

"""Where the ACME issuer keeps what it made: certificates with their keys, order markers and
its ACME account key. Adapter-internal (only `AcmeCertificates` uses it), so the Protocol lives
here, not in the application layer.

Two stores, chosen by the `certificate_store` setting (`certificate_store_from`):

- `FileCertificateStore(directory)`: `<name>.crt` (full chain) and `<name>.key` (mode 0600),
  markers in `<name>.<kind>`, the account key in `_acme-account.key`. Every write goes to a
  temporary file renamed into place, so a reader never sees half a certificate.
- `KubernetesSecretCertificateStore(api_client, namespace)`: a `kubernetes.io/tls` Secret named
  `<name>` (`tls.crt`, `tls.key`) written by server-side apply (field manager `smarter`), the
  Secret an Ingress names; markers in Opaque Secrets `<name>.acme-<kind>`, the account key in
  the Secret `smarter-acme-account`. The official client is synchronous: calls run in threads.

Markers are small strings (the issuer writes JSON). `create_marker` is atomic (an exclusive file
create; a POST that answers 409 when the Secret exists), which is what keeps two workers from
ordering the same certificate at once.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol, cast

import msgspec
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from smarter.application.infrastructure import InfrastructureError

FIELD_MANAGER = "smarter"
ACCOUNT_SECRET = "smarter-acme-account"
_APPLY = "application/apply-patch+yaml"
_JSON = "application/json"
_LABELS = {"app.kubernetes.io/managed-by": "smarter"}


class StoredCertificate(msgspec.Struct, frozen=True):
    cert_pem: str  # the leaf followed by its chain
    key_pem: str


class CertificateStore(Protocol):
    async def get(self, name: str) -> StoredCertificate | None: ...
    async def put(self, name: str, certificate: StoredCertificate) -> None: ...
    async def delete(self, name: str) -> None:
        """Remove the certificate and its key; missing is fine."""
        ...

    async def get_marker(self, name: str, kind: str) -> str | None: ...
    async def create_marker(self, name: str, kind: str, value: str) -> bool:
        """Write the marker only if there is none: False when one exists already."""
        ...

    async def put_marker(self, name: str, kind: str, value: str) -> None: ...
    async def delete_marker(self, name: str, kind: str) -> None: ...
    async def ensure_account_key(self, candidate_pem: str) -> str:
        """The stored account key; `candidate_pem` is stored and returned if there is none."""
        ...


def certificate_store_from(
    setting: str, api_client_factory: Callable[[], k8s.ApiClient], namespace: str = "smarter"
) -> CertificateStore:
    """`"kubernetes"` → TLS Secrets in `namespace`; anything else is a directory path."""
    if setting == "kubernetes":
        return KubernetesSecretCertificateStore(api_client_factory(), namespace)
    return FileCertificateStore(Path(setting))


# --- files -------------------------------------------------------------------------------


class FileCertificateStore:
    def __init__(self, directory: Path) -> None:
        self._directory = directory

    async def get(self, name: str) -> StoredCertificate | None:
        return await asyncio.to_thread(self._get, name)

    async def put(self, name: str, certificate: StoredCertificate) -> None:
        await asyncio.to_thread(self._put, name, certificate)

    async def delete(self, name: str) -> None:
        await asyncio.to_thread(self._remove, self._path(name, "crt"), self._path(name, "key"))

    async def get_marker(self, name: str, kind: str) -> str | None:
        return await asyncio.to_thread(self._read, self._path(name, kind))

    async def create_marker(self, name: str, kind: str, value: str) -> bool:
        return await asyncio.to_thread(self._create, self._path(name, kind), value, 0o644)

    async def put_marker(self, name: str, kind: str, value: str) -> None:
        await asyncio.to_thread(self._write, self._path(name, kind), value, 0o644)

    async def delete_marker(self, name: str, kind: str) -> None:
        await asyncio.to_thread(self._remove, self._path(name, kind))

    async def ensure_account_key(self, candidate_pem: str) -> str:
        path = self._directory / "_acme-account.key"
        await asyncio.to_thread(self._create, path, candidate_pem, 0o600)
        stored = await asyncio.to_thread(self._read, path)
        assert stored is not None  # created above or by another worker; never deleted
        return stored

    def _path(self, name: str, suffix: str) -> Path:
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"'{name}' is not a certificate name")
        return self._directory / f"{name}.{suffix}"

    def _get(self, name: str) -> StoredCertificate | None:
        cert, key = self._read(self._path(name, "crt")), self._read(self._path(name, "key"))
        if cert is None or key is None:
            return None
        return StoredCertificate(cert_pem=cert, key_pem=key)

    def _put(self, name: str, certificate: StoredCertificate) -> None:
        # The key first: a reader that finds the new certificate also finds its key.
        self._write(self._path(name, "key"), certificate.key_pem, 0o600)
        self._write(self._path(name, "crt"), certificate.cert_pem, 0o644)

    @staticmethod
    def _read(path: Path) -> str | None:
        try:
            return path.read_text()
        except FileNotFoundError:
            return None

    def _write(self, path: Path, text: str, mode: int) -> None:
        """Atomic replace: the file is complete or as it was, never half written."""
        with self._complete_file(text, mode) as temporary:
            os.replace(temporary, path)

    def _create(self, path: Path, text: str, mode: int) -> bool:
        """Atomic create-if-absent: a complete temporary file is hard-linked into place
        (link fails when the name exists), so the file appears complete or not at all."""
        with self._complete_file(text, mode) as temporary:
            try:
                os.link(temporary, path)
            except FileExistsError:
                return False
            return True

    @contextlib.contextmanager
    def _complete_file(self, text: str, mode: int) -> Iterator[str]:
        """A temporary file in the directory holding `text` on disk; gone afterwards unless
        the block moved it into place."""
        self._directory.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=self._directory, prefix=".tmp-")
        try:
            os.fchmod(descriptor, mode)
            with os.fdopen(descriptor, "w") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            yield temporary
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)

    @staticmethod
    def _remove(*paths: Path) -> None:
        for path in paths:
            path.unlink(missing_ok=True)


# --- Kubernetes Secrets --------------------------------------------------------------------


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _unb64(data: Mapping[str, bytes | str] | None, key: str) -> str | None:
    if not data or key not in data:
        return None
    return base64.b64decode(data[key]).decode()  # the API's base64 text


class KubernetesSecretCertificateStore:
    def __init__(self, api_client: k8s.ApiClient, namespace: str) -> None:
        self._api = k8s.CoreV1Api(api_client)
        self._namespace = namespace

    async def get(self, name: str) -> StoredCertificate | None:
        data = await self._read(name)
        cert, key = _unb64(data, "tls.crt"), _unb64(data, "tls.key")
        if not cert or not key:
            return None
        return StoredCertificate(cert_pem=cert, key_pem=key)

    async def put(self, name: str, certificate: StoredCertificate) -> None:
        data = {"tls.crt": _b64(certificate.cert_pem), "tls.key": _b64(certificate.key_pem)}
        await self._apply(self._secret(name, "kubernetes.io/tls", data))

    async def delete(self, name: str) -> None:
        await self._delete(name)

    async def get_marker(self, name: str, kind: str) -> str | None:
        return _unb64(await self._read(self._marker(name, kind)), "value")

    async def create_marker(self, name: str, kind: str, value: str) -> bool:
        body = self._secret(self._marker(name, kind), "Opaque", {"value": _b64(value)})
        return await self._create(body)

    async def put_marker(self, name: str, kind: str, value: str) -> None:
        await self._apply(self._secret(self._marker(name, kind), "Opaque", {"value": _b64(value)}))

    async def delete_marker(self, name: str, kind: str) -> None:
        await self._delete(self._marker(name, kind))

    async def ensure_account_key(self, candidate_pem: str) -> str:
        body = self._secret(ACCOUNT_SECRET, "Opaque", {"account.key": _b64(candidate_pem)})
        await self._create(body)
        stored = _unb64(await self._read(ACCOUNT_SECRET), "account.key")
        if stored is None:
            raise InfrastructureError(f"secret {ACCOUNT_SECRET} has no account.key")
        return stored

    @staticmethod
    def _marker(name: str, kind: str) -> str:
        return f"{name}.acme-{kind}"

    def _secret(self, name: str, secret_type: str, data: dict[str, str]) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": self._namespace, "labels": _LABELS},
            "type": secret_type,
            "data": data,
        }

    async def _call(self, operation: str, name: str, call: Callable[[], Any]) -> Any:
        try:
            return await asyncio.to_thread(call)
        except ApiException as error:
            raise InfrastructureError(
                f"kubernetes {operation} secret {name}: {error.status} {error.reason}"
            ) from error
        except Exception as error:  # connection refused, timeouts: urllib3's own errors
            raise InfrastructureError(f"kubernetes {operation} secret {name}: {error}") from error

    async def _read(self, name: str) -> dict[str, bytes | str] | None:
        def read() -> dict[str, bytes | str] | None:
            try:
                secret = self._api.read_namespaced_secret(name, self._namespace)
            except ApiException as error:
                if error.status == 404:
                    return None
                raise
            return dict(secret.data or {})

        result: dict[str, bytes | str] | None = await self._call("read", name, read)
        return result

    async def _apply(self, body: dict[str, Any]) -> None:
        name = body["metadata"]["name"]
        await self._call(
            "apply",
            name,
            lambda: self._api.patch_namespaced_secret(
                name,
                self._namespace,
                body,
                field_manager=FIELD_MANAGER,
                force=True,
                _content_type=_APPLY,
            ),
        )

    async def _create(self, body: dict[str, Any]) -> bool:
        def create() -> bool:
            try:
                # Content-Type said outright: this client version sends none on create.
                self._api.create_namespaced_secret(
                    self._namespace,
                    cast(Any, body),  # the client takes a plain dict as well
                    field_manager=FIELD_MANAGER,
                    _headers={"Content-Type": _JSON},
                )
            except ApiException as error:
                if error.status == 409:
                    return False
                raise
            return True

        created: bool = await self._call("create", body["metadata"]["name"], create)
        return created

    async def _delete(self, name: str) -> None:
        def delete() -> None:
            try:
                self._api.delete_namespaced_secret(name, self._namespace)
            except ApiException as error:
                if error.status != 404:
                    raise

        await self._call("delete", name, delete)

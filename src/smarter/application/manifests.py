"""Manifests: an LLMClient as `apiVersion: smarter.sh/v1`, `kind: LLMClient` documents.

`metadata` holds the identifying fields, `spec` the rest of the customer's settings and
`status` what the platform observed (ignored on apply). Parsing YAML is the caller's job.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from smarter.application.llm_clients import CreateLLMClient, UpdateLLMClient, load_visible
from smarter.application.ports import Clock, UnitOfWork
from smarter.application.specs import SPEC_FIELDS, spec_from
from smarter.domain.accounts import Principal
from smarter.domain.environments import Platform
from smarter.domain.errors import InvalidValue
from smarter.domain.llm_client import LLMClient

API_VERSION = "smarter.sh/v1"
KIND = "LLMClient"
METADATA_FIELDS = ("name", "description", "version", "tags", "annotations")
STATUS_FIELDS = (
    "deployed",
    "ready",
    "dns_verification_status",
    "tls_certificate_issuance_status",
    "default_url",
    "custom_url",
    "sandbox_url",
    "url",
)


class Applied(msgspec.Struct, kw_only=True):
    client: LLMClient
    created: bool


def manifest_of(client: LLMClient) -> dict[str, Any]:
    spec = msgspec.to_builtins(client.spec)
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {name: spec[name] for name in METADATA_FIELDS},
        "spec": {name: value for name, value in spec.items() if name not in METADATA_FIELDS},
        "status": {"id": client.id, **{name: getattr(client, name) for name in STATUS_FIELDS}},
    }


def fields_of(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The spec fields a manifest describes, after checking its envelope."""
    if not isinstance(manifest, Mapping):
        raise InvalidValue("manifest", "must be a mapping with apiVersion, kind, metadata, spec")
    if manifest.get("apiVersion") != API_VERSION:
        raise InvalidValue("apiVersion", f"must be {API_VERSION}")
    if manifest.get("kind") != KIND:
        raise InvalidValue("kind", f"must be {KIND}")
    unknown = set(manifest) - {"apiVersion", "kind", "metadata", "spec", "status"}
    if unknown:
        raise InvalidValue(sorted(unknown)[0], "is not a manifest section")
    metadata, spec = _section(manifest, "metadata"), _section(manifest, "spec")
    for name in metadata:
        if name not in METADATA_FIELDS:
            raise InvalidValue(f"metadata.{name}", "is not a metadata field")
    for name in spec:
        if name in METADATA_FIELDS or name not in SPEC_FIELDS:
            raise InvalidValue(f"spec.{name}", "is not a spec field")
    if "name" not in metadata:
        raise InvalidValue("metadata.name", "is required")
    return {**metadata, **spec}


def _section(manifest: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """A section as a mapping; an empty one (`spec:` in YAML is null) has no fields, and
    anything else that is not a mapping (`spec: false`) is refused, not read as empty."""
    section = manifest.get(name)
    if section is None:
        return {}
    if not isinstance(section, Mapping):
        raise InvalidValue(name, "must be a mapping")
    return section


class ApplyManifest:
    """Create the client the manifest names, or bring the existing one to match it."""

    def __init__(self, uow: UnitOfWork, clock: Clock, platform: Platform) -> None:
        self._uow = uow
        self._create = CreateLLMClient(uow, clock, platform)
        self._update = UpdateLLMClient(uow, clock)

    async def __call__(self, principal: Principal, manifest: Mapping[str, Any]) -> Applied:
        spec = spec_from(fields_of(manifest))
        existing = await self._uow.clients.get_by_name(principal.account_number, spec.name)
        if existing is None:
            return Applied(client=await self._create(principal, spec), created=True)
        assert existing.id is not None
        # Every field is applied, so a field left out of the manifest returns to its default.
        changes = msgspec.to_builtins(spec)
        client = await self._update(principal, existing.id, changes)
        return Applied(client=client, created=False)


class GetManifest:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal, client_id: int) -> dict[str, Any]:
        return manifest_of(await load_visible(self._uow, principal, client_id))

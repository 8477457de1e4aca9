"""pytest fixtures for the Kubernetes stand-in; a conftest.py imports the ones it needs:

    from tests.support.kubernetes_fixtures import kubernetes_api, kubernetes_client  # noqa: F401

- `kubernetes_api`: a fresh `KubernetesApiServer` on loopback (cert-manager's part is driven by
  the test: `mark_certificate_ready(...)` and friends).
- `kubernetes_client`: the official client's `ApiClient` pointed at it, built the way the
  application builds it (`kubernetes_api_client(url)`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes import client

from smarter.adapters.kubernetes_calls import kubernetes_api_client
from tests.support.kubernetes_api import KubernetesApiServer


@pytest.fixture
def kubernetes_api() -> Iterator[KubernetesApiServer]:
    with KubernetesApiServer() as server:
        yield server


@pytest.fixture
def kubernetes_client(kubernetes_api: KubernetesApiServer) -> Iterator[client.ApiClient]:
    api_client = kubernetes_api_client(kubernetes_api.url)
    yield api_client
    api_client.close()  # type: ignore[no-untyped-call]

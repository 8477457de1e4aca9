"""What the Kubernetes adapters share: building the official client, and running its blocking
calls in a thread with the API's errors translated.

The `kubernetes` client is synchronous (urllib3); each call runs in a worker thread so the event
loop stays free. A 404 becomes `KubernetesNotFound` (each adapter decides whether missing is
fine); every other API error, and a server that cannot be reached, is an `InfrastructureError`
that a later job may retry, carrying the API's own message.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Final, TypeVar

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from smarter.application.infrastructure import InfrastructureError

FIELD_MANAGER: Final = "smarter"
APPLY_PATCH: Final = "application/apply-patch+yaml"
DEFAULT_TIMEOUT: Final = (5.0, 30.0)  # connect, read (seconds): a job's step stays short

T = TypeVar("T")


class KubernetesNotFound(Exception):
    """The API answered 404 for this object."""


def kubernetes_api_client(api_url: str | None, *, token: str | None = None) -> client.ApiClient:
    """A client for `api_url` (with `token` as its bearer token, if any); without a URL, for the
    cluster this process runs in, or else the current kubeconfig."""
    configuration = client.Configuration()
    if api_url:
        configuration.host = api_url.rstrip("/")
        if token:
            configuration.api_key = {"authorization": token}
            configuration.api_key_prefix = {"authorization": "Bearer"}
    else:
        try:
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        except ConfigException:
            config.load_kube_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    return client.ApiClient(configuration)


async def call_api(what: str, action: Callable[[], T]) -> T:
    """Run one blocking client call in a thread. `what` names it in error messages."""
    try:
        return await asyncio.to_thread(action)
    except ApiException as error:
        if error.status == 404:
            raise KubernetesNotFound(f"{what}: {describe(error)}") from error
        raise InfrastructureError(f"{what}: {describe(error)}") from error
    except (urllib3.exceptions.HTTPError, OSError) as error:
        raise InfrastructureError(f"{what}: the Kubernetes API is unreachable ({error})") from error


def describe(error: ApiException) -> str:
    """The status code and the API's own message (from its `Status` body)."""
    message = str(error.reason or "")
    try:
        status = json.loads(error.body or "")
    except (ValueError, TypeError):
        status = None
    if isinstance(status, dict) and status.get("message"):
        message = str(status["message"])
    return f"{error.status} {message}".strip()

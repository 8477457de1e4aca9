"""The Kubernetes adapters against the HTTP stand-in of the Kubernetes API."""

from tests.support.kubernetes_fixtures import kubernetes_api, kubernetes_client  # noqa: F401

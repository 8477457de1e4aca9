"""OpenTelemetry: off by default; with the standard `OTEL_*` variables every request becomes a
server span exported over OTLP/HTTP, console and client hosts alike."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from smarter.entrypoints.http.app import create_app
from smarter.entrypoints.settings import ConfigurationError, Settings
from smarter.entrypoints.telemetry import tracer_provider_from
from smarter.entrypoints.wiring import make_container
from tests.fakes import FakeClock, FakeUnitOfWork
from tests.integration.http.conftest import FakesProvider, client_for
from tests.support.otlp_receiver import OtlpReceiver

SERVER = 2  # SpanKind.SERVER in OTLP


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"OTEL_SERVICE_NAME": "smarter"},
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"},
        {"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"},
    ],
)
def test_tracing_is_off_unless_an_exporter_or_endpoint_is_set(environ: dict[str, str]) -> None:
    assert tracer_provider_from(environ) is None


@pytest.mark.parametrize(
    "environ",
    [
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"},
        {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"},
        {"OTEL_TRACES_EXPORTER": "console"},
    ],
)
def test_an_exporter_or_an_endpoint_turns_tracing_on(environ: dict[str, str]) -> None:
    provider = tracer_provider_from(environ)

    assert provider is not None
    provider.shutdown()


def test_an_exporter_that_is_not_built_in_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="OTEL_TRACES_EXPORTER=zipkin"):
        tracer_provider_from({"OTEL_TRACES_EXPORTER": "zipkin"})


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as running:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", running.endpoint)
        monkeypatch.setenv("OTEL_SERVICE_NAME", "smarter-test")
        yield running


async def test_requests_on_console_and_client_hosts_are_exported_as_server_spans(
    receiver: OtlpReceiver,
) -> None:
    settings = Settings()
    container = make_container(settings, FakesProvider(FakeUnitOfWork(), FakeClock()))
    async with client_for(create_app(settings, container)) as client:
        resolved = await client.get("/api/v1/hosts/resolve", params={"host": "api.localhost:9357"})
        config = await client.get(
            "/config/", headers={"host": "nobody.1111-2222-3333.api.localhost:9357"}
        )
    # Leaving the client stopped the app, which flushed the spans.

    assert (resolved.status_code, config.status_code) == (200, 404)
    servers = [span for span in receiver.spans() if span.kind == SERVER]
    assert {span.resource["service.name"] for span in servers} == {"smarter-test"}
    routes = {span.attributes.get("http.route") or span.name for span in servers}
    assert any("/api/v1/hosts/resolve" in route for route in routes), routes
    statuses = sorted(
        span.attributes.get("http.status_code", span.attributes.get("http.response.status_code"))
        for span in servers
    )
    assert statuses == [200, 404]

"""OpenTelemetry tracing: off unless the standard `OTEL_*` variables ask for it.

On when an OTLP endpoint is set (`OTEL_EXPORTER_OTLP_ENDPOINT` or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) or `OTEL_TRACES_EXPORTER` names an exporter (`otlp`, or
`console` to print spans), and `OTEL_SDK_DISABLED` is not true. The SDK reads the rest itself:
`OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` (the resource), `OTEL_TRACES_SAMPLER[_ARG]`,
`OTEL_EXPORTER_OTLP_*` (endpoint, headers, timeout; OTLP over HTTP/protobuf), `OTEL_BSP_*`.
Litestar's OpenTelemetry plugin then opens a server span per request on both applications
(console and client hosts); the provider is flushed when the app stops.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

from smarter.entrypoints.settings import ConfigurationError

DEFAULT_SERVICE_NAME = "smarter"
_ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def tracer_provider_from(environ: Mapping[str, str] | None = None) -> TracerProvider | None:
    """A tracer provider exporting spans as the `OTEL_*` variables say, or None (tracing off).
    `environ` decides whether; the SDK reads its own settings from the process environment."""
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    exporter_name = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter_name == "none" or not (exporter_name or any(env.get(k) for k in _ENDPOINTS)):
        return None
    resource = Resource.create(
        {} if env.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: DEFAULT_SERVICE_NAME}
    )
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(_exporter(exporter_name or "otlp")))
    return provider


def _exporter(name: str) -> SpanExporter:
    if name == "console":
        return ConsoleSpanExporter()
    if name != "otlp":
        raise ConfigurationError(f"OTEL_TRACES_EXPORTER={name}: use otlp, console or none")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def tracing_plugin(provider: TracerProvider | None) -> list[OpenTelemetryPlugin]:
    """The plugin list for a Litestar app: empty when tracing is off."""
    if provider is None:
        return []
    return [OpenTelemetryPlugin(OpenTelemetryConfig(tracer_provider=provider))]

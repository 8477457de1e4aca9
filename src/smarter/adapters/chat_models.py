"""ProviderChatModels: the configured providers by name (the ChatModels port).

"echo" (offline, EchoChatModel) is always there; "openai" exists when a key is set; any other
name is an OpenAI-compatible server with its own base URL and key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import msgspec

from smarter.adapters.echo_chat import PROVIDER as ECHO
from smarter.adapters.echo_chat import EchoChatModel
from smarter.adapters.openai_chat import DEFAULT_TRANSPORT, TRANSPORTS, OpenAIChatModel, Transport
from smarter.application.llm import ChatModel

OPENAI: Final = "openai"
NO_KEY: Final = "unused"
"""The key sent to a compatible server configured without one (most local servers ignore it)."""

_EXTRA_KEYS: Final = frozenset({"base_url", "api_key", "timeout", "transport", "stream_usage"})


class ProviderConfig(msgspec.Struct, frozen=True, kw_only=True):
    """How to reach one OpenAI-compatible provider. `base_url` None means OpenAI's own."""

    api_key: str
    base_url: str | None = None
    timeout: float = 60.0
    transport: Transport = DEFAULT_TRANSPORT
    stream_usage: bool = True

    def __repr__(self) -> str:  # never print the key
        return f"ProviderConfig(base_url={self.base_url!r}, transport={self.transport!r})"


class ProviderChatModels:
    """A ChatModel per provider name (names are case-insensitive), plus "echo"."""

    def __init__(self, providers: Mapping[str, ProviderConfig] | None = None) -> None:
        self._models: dict[str, OpenAIChatModel | EchoChatModel] = {ECHO: EchoChatModel()}
        for raw_name, config in (providers or {}).items():
            name = _name(raw_name)
            if name in self._models:
                raise ValueError(f"the provider '{name}' is configured twice (or is 'echo')")
            self._models[name] = OpenAIChatModel(
                api_key=config.api_key,
                base_url=config.base_url,
                timeout=config.timeout,
                transport=config.transport,
                provider=name,
                stream_usage=config.stream_usage,
            )

    def get(self, provider: str) -> ChatModel | None:
        return self._models.get(provider.lower())

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._models)

    async def aclose(self) -> None:
        for model in self._models.values():
            await model.aclose()


def chat_models_from(
    openai_api_key: str | None,
    openai_base_url: str | None,
    timeout: float,
    extra_providers: Mapping[str, Mapping[str, str]],
    *,
    transport: Transport = DEFAULT_TRANSPORT,
) -> ProviderChatModels:
    """The providers the settings describe.

    `extra_providers` maps a name to string settings: `base_url` (required), `api_key`,
    `timeout` (seconds), `transport` ("httpx" or "aiohttp"), `stream_usage` ("true"/"false").
    Raises ValueError, naming the provider, for a setting it cannot use.
    """
    providers: dict[str, ProviderConfig] = {}
    if openai_api_key:
        providers[OPENAI] = ProviderConfig(
            api_key=openai_api_key, base_url=openai_base_url, timeout=timeout, transport=transport
        )
    for raw_name, values in extra_providers.items():
        name = _name(raw_name)
        if name in providers or name == ECHO:
            raise ValueError(f"the provider '{name}' is configured twice (or is 'echo')")
        providers[name] = _extra(name, values, timeout, transport)
    return ProviderChatModels(providers)


def _name(raw: str) -> str:
    name = raw.strip().lower()
    if not name:
        raise ValueError("a provider needs a name")
    return name


def _extra(
    name: str, values: Mapping[str, str], timeout: float, transport: Transport
) -> ProviderConfig:
    unknown = sorted(set(values) - _EXTRA_KEYS)
    if unknown:
        raise ValueError(
            f"provider '{name}': unknown setting(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(_EXTRA_KEYS))}"
        )
    base_url = (values.get("base_url") or "").strip()
    if not base_url.startswith(("http://", "https://")):
        raise ValueError(f"provider '{name}': base_url must be an http(s) URL")
    chosen = values.get("transport", transport)
    if chosen not in TRANSPORTS:
        raise ValueError(f"provider '{name}': transport must be one of {', '.join(TRANSPORTS)}")
    try:
        seconds = float(values.get("timeout", timeout))
    except ValueError:
        raise ValueError(f"provider '{name}': timeout must be a number of seconds") from None
    if seconds <= 0:
        raise ValueError(f"provider '{name}': timeout must be positive")
    usage = values.get("stream_usage", "true").strip().lower()
    if usage not in ("true", "false"):
        raise ValueError(f"provider '{name}': stream_usage must be true or false")
    return ProviderConfig(
        api_key=values.get("api_key") or NO_KEY,
        base_url=base_url,
        timeout=seconds,
        transport=chosen,  # type: ignore[arg-type]  # checked against TRANSPORTS above
        stream_usage=usage == "true",
    )

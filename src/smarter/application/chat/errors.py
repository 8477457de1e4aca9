"""The chat path's refusals; the HTTP layer maps each to its status."""

from __future__ import annotations

from smarter.application.llm import UpstreamError
from smarter.domain.errors import DomainError


class ClientNotReady(DomainError):
    """The client exists but does not serve chat on this host (yet): 503."""


class OriginRefused(DomainError):
    """A browser page from an origin the client does not allow: 403."""


class RateLimited(DomainError):
    def __init__(self, retry_after: float) -> None:
        super().__init__("too many requests: slow down and retry later")
        self.retry_after = retry_after


class ProviderMissing(UpstreamError):
    def __init__(self, provider: str) -> None:
        super().__init__(503, f"the provider '{provider}' is not configured on this platform")

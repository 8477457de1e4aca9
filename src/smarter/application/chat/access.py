"""Who may chat: the client's API keys and its rate limit."""

from __future__ import annotations

from smarter.application.chat.errors import RateLimited
from smarter.application.chat_ports import ClientEntry, RateLimiter
from smarter.application.errors import Unauthenticated
from smarter.domain.llm_client import LLMClient
from smarter.domain.secrets import hash_secret, same_digest


def authorize(entry: ClientEntry, presented: str | None) -> int | None:
    """The id of the client's key that was presented; None when the client needs no key.

    Only this client's digests are compared, each in constant time, all of them every time.
    """
    if not entry.api_keys:
        return None
    if not presented:
        raise Unauthenticated("this LLMClient requires an API key: send it in x-api-key")
    digest = hash_secret(presented)
    found: int | None = None
    for known, key_id in entry.api_keys.items():
        if same_digest(known, digest):
            found = key_id
    if found is None:
        raise Unauthenticated("the API key is wrong or revoked")
    return found


class Admission:
    """Requests per minute per API key, or per client and caller address for public clients."""

    def __init__(self, limiter: RateLimiter, per_minute: int) -> None:
        self._limiter, self._per_minute = limiter, per_minute

    async def __call__(self, client: LLMClient, api_key_id: int | None, caller: str) -> None:
        key = f"key:{api_key_id}" if api_key_id is not None else f"ip:{client.id}:{caller}"
        wait = await self._limiter.hit(key, self._per_minute, 60.0)
        if wait is not None:
            raise RateLimited(wait)

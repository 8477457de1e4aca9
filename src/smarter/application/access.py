"""Who may do what inside one account."""

from __future__ import annotations

from smarter.application.errors import PermissionDenied
from smarter.domain.accounts import Principal
from smarter.domain.errors import NotFound
from smarter.domain.llm_client import LLMClient


def require_admin(principal: Principal, action: str) -> None:
    if not principal.is_account_admin:
        raise PermissionDenied(f"only an account admin may {action}")


def ensure_visible(principal: Principal, client: LLMClient) -> LLMClient:
    """Admins see every client of their account; other users only the clients they own."""
    if principal.is_account_admin or client.owner_id == principal.user_id:
        return client
    raise NotFound(f"no LLMClient {client.id}")

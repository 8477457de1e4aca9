"""The columns account tokens and client API keys share (each row adds its owner's id)."""

from __future__ import annotations

from typing import Any

from smarter.adapters.sql.rows import AccountTokenRow, LLMClientAPIKeyRow, utc_now
from smarter.domain.accounts import StoredSecret

_READ = ("name", "digest", "display_prefix", "id", "created_at", "revoked_at")


def secret_fields(row: AccountTokenRow | LLMClientAPIKeyRow) -> dict[str, Any]:
    """The shared fields of a stored secret, for its domain object."""
    return {name: getattr(row, name) for name in _READ}


def secret_columns(secret: StoredSecret) -> dict[str, Any]:
    """The shared columns of a new secret's row."""
    return {
        "name": secret.name,
        "digest": secret.digest,
        "display_prefix": secret.display_prefix,
        "created_at": secret.created_at or utc_now(),
        "revoked_at": secret.revoked_at,
    }

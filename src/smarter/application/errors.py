"""Errors of the use cases, beyond the domain's own."""

from __future__ import annotations

from smarter.domain.errors import DomainError


class Unauthenticated(DomainError):
    """No valid credential was presented."""


class PermissionDenied(DomainError):
    """The caller is known but may not do this (e.g. a non-admin managing users)."""


class TooManyAttempts(DomainError):
    """Too many sign-in attempts for one user or from one address; try again later."""

    def __init__(self, retry_after: float) -> None:
        super().__init__("too many sign-in attempts; try again in a few minutes")
        self.retry_after = retry_after


class NotConfigured(DomainError):
    """The platform lacks a setting this feature needs (the message names it)."""

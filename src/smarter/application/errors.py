"""Errors of the use cases, beyond the domain's own."""

from __future__ import annotations

from smarter.domain.errors import DomainError


class Unauthenticated(DomainError):
    """No valid credential was presented."""


class PermissionDenied(DomainError):
    """The caller is known but may not do this (e.g. a non-admin managing users)."""

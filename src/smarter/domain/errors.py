"""Errors the domain raises. Adapters and entrypoints map them to their own world."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every rule the model enforces."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidValue(DomainError):
    """A value does not satisfy a validation rule; `field` names what was wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class IllegalTransition(DomainError):
    """A status change that the state machine does not allow."""

    def __init__(self, machine: str, current: str, target: str) -> None:
        super().__init__(f"{machine} cannot go from '{current}' to '{target}'")
        self.machine = machine
        self.current = current
        self.target = target


class NotFound(DomainError):
    """The object does not exist, or belongs to another account (never said which)."""


class Conflict(DomainError):
    """The change would break a uniqueness rule."""

"""The domain's errors carry what adapters need to answer with a message."""

from __future__ import annotations

from smarter.domain.errors import (
    Conflict,
    DomainError,
    IllegalTransition,
    InvalidValue,
    NotFound,
)


def test_an_invalid_value_names_the_field_and_the_reason() -> None:
    error = InvalidValue("name", "must not be empty")
    assert (error.field, error.reason, error.message) == (
        "name",
        "must not be empty",
        "name: must not be empty",
    )
    assert str(error) == "name: must not be empty"


def test_an_illegal_transition_names_the_machine_and_both_states() -> None:
    error = IllegalTransition("dns_verification_status", "Not Verified", "Verified")
    assert str(error) == "dns_verification_status cannot go from 'Not Verified' to 'Verified'"


def test_every_domain_error_is_a_domain_error_with_a_message() -> None:
    for error in (
        NotFound("no such client"),
        Conflict("name taken"),
        InvalidValue("f", "bad"),
        IllegalTransition("m", "a", "b"),
    ):
        assert isinstance(error, DomainError)
        assert error.message == str(error)

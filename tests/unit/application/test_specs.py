"""Loose input (a JSON patch, a manifest) becomes a validated LLMClientSpec or a named error."""

from __future__ import annotations

from typing import Any

import pytest

from smarter.application.specs import SPEC_FIELDS, patched, spec_from
from smarter.domain.errors import InvalidValue
from smarter.domain.llm_client import LLMClientSpec


def test_the_spec_fields_are_those_of_the_domains_spec() -> None:
    assert "name" in SPEC_FIELDS
    assert "app_file_attachment" in SPEC_FIELDS
    assert "deployed" not in SPEC_FIELDS
    assert "id" not in SPEC_FIELDS


def test_a_spec_is_made_from_a_mapping_with_defaults_for_what_is_missing() -> None:
    spec = spec_from({"name": "example", "default_max_tokens": 10})

    assert spec == LLMClientSpec(name="example", default_max_tokens=10)


def test_an_integer_is_accepted_as_a_temperature() -> None:
    assert spec_from({"name": "example", "default_temperature": 1}).default_temperature == 1.0


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        ({}, "name", "required"),
        ({"name": "x", "colour": "red"}, "colour", "not a field"),
        ({"name": "x", "default_max_tokens": "10"}, "default_max_tokens", "Expected `int`"),
        ({"name": "x", "default_max_tokens": True}, "default_max_tokens", "Expected `int`"),
        ({"name": "x", "tags": ["a", None]}, "tags", "Expected `str`"),
        ({"name": "x", "annotations": {"k": 1}}, "annotations", "Expected `str`"),
        ({"name": "x", "annotations": {1: "v"}}, "annotations", "key"),
        ({"name": "x", 1: "v"}, "body", "Expected `str`"),
        ({"name": "x", "default_temperature": -0.1}, "default_temperature", "between"),
    ],
)
def test_bad_input_is_invalid_naming_the_field_and_the_problem(
    data: dict[Any, Any], field: str, fragment: str
) -> None:
    with pytest.raises(InvalidValue) as error:
        spec_from(data)

    assert error.value.field == field
    assert fragment in error.value.reason


def test_a_patch_changes_only_the_fields_it_names() -> None:
    spec = LLMClientSpec(name="example", tags=["a"], app_name="App")

    changed = patched(spec, {"app_name": "New"})

    assert changed == LLMClientSpec(name="example", tags=["a"], app_name="New")
    assert spec.app_name == "App"


def test_a_patch_may_clear_an_optional_url() -> None:
    spec = LLMClientSpec(name="example", app_logo_url="https://example.org/logo.png")

    assert patched(spec, {"app_logo_url": None}).app_logo_url is None


def test_a_validation_message_without_a_location_blames_the_body() -> None:
    from smarter.application.specs import _split

    assert _split("Expected `object`, got `array`") == ("body", "Expected `object`, got `array`")

"""Accounts, users and their credentials."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smarter.domain.account_number import AccountNumber
from smarter.domain.accounts import AccountToken, LLMClientAPIKey, User, validate_username
from smarter.domain.errors import InvalidValue

ACCOUNT = AccountNumber("3141-5926-5359")
AT = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "username", ["admin", "user123", "john.doe", "john_doe", "j-d", "0day", "a" * 63]
)
def test_a_lower_case_username_of_up_to_63_characters_is_valid(username: str) -> None:
    assert validate_username(username) == username
    assert User(account_number=ACCOUNT, username=username).username == username


@pytest.mark.parametrize(
    "username",
    ["", "Admin", "_admin", ".admin", "-admin", "a b", "a@b", "a" * 64, "jöhn", "\uff41"],
)
def test_any_other_username_is_rejected_naming_the_field(username: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        User(account_number=ACCOUNT, username=username)
    assert caught.value.field == "username"


def test_a_user_is_not_an_account_admin_unless_said() -> None:
    assert User(account_number=ACCOUNT, username="user123").is_account_admin is False


def test_a_token_or_api_key_is_active_until_revoked() -> None:
    token = AccountToken(user_id=1, name="ci", digest="d", display_prefix="smt_tok_abcd")
    key = LLMClientAPIKey(llm_client_id=1, name="web", digest="d", display_prefix="smt_key_abcd")
    assert token.is_active and key.is_active
    token.revoked_at = AT
    key.revoked_at = AT
    assert not token.is_active
    assert not key.is_active

"""Accounts, users and console tokens: who exists, who may act, and how tokens are kept."""

from __future__ import annotations

import re

import msgspec
import pytest

from smarter.application.accounts import (
    ActAs,
    Authenticate,
    CreateAccount,
    CreateUser,
    GetAccount,
    IssueToken,
    ListTokens,
    ListUsers,
    NewUser,
    RevokeToken,
)
from smarter.application.errors import PermissionDenied, Unauthenticated
from smarter.domain.account_number import AccountNumber
from smarter.domain.errors import Conflict, InvalidValue, NotFound
from smarter.domain.secrets import DISPLAY_PREFIX_LENGTH, hash_secret
from tests.fakes import FakeClock, FakeUnitOfWork
from tests.unit.application.conftest import ACCOUNT, OTHER_ACCOUNT, World

# -- CreateAccount ---------------------------------------------------------------------------


async def test_a_new_account_gets_a_number_of_three_groups_of_four_digits() -> None:
    uow, clock = FakeUnitOfWork(), FakeClock()

    created = await CreateAccount(uow, clock)(name="Acme")

    assert re.fullmatch(r"\d{4}-\d{4}-\d{4}", created.account.account_number)
    stored = uow.accounts.rows[created.account.account_number]
    assert (stored.name, stored.created_at) == ("Acme", clock.now())
    assert uow.commits == 1


async def test_a_new_account_may_be_given_its_number() -> None:
    created = await CreateAccount(FakeUnitOfWork(), FakeClock())(number=ACCOUNT)

    assert created.account.account_number == "3141-5926-5359"


async def test_an_account_number_that_is_taken_is_a_conflict() -> None:
    uow = FakeUnitOfWork()
    create = CreateAccount(uow, FakeClock())
    await create(number=ACCOUNT)

    with pytest.raises(Conflict):
        await create(number=ACCOUNT)
    assert list(uow.accounts.rows) == [ACCOUNT]


async def test_the_first_user_of_a_new_account_is_its_admin() -> None:
    uow = FakeUnitOfWork()

    created = await CreateAccount(uow, FakeClock())(admin_username="boss")

    assert created.admin.is_account_admin
    assert created.admin.username == "boss"
    assert created.admin.account_number == created.account.account_number
    assert created.admin.id is not None
    assert uow.users.rows[created.admin.id].is_account_admin


async def test_the_first_admin_is_called_admin_unless_named() -> None:
    created = await CreateAccount(FakeUnitOfWork(), FakeClock())()

    assert created.admin.username == "admin"


async def test_an_invalid_admin_username_is_rejected_naming_the_field() -> None:
    with pytest.raises(InvalidValue) as error:
        await CreateAccount(FakeUnitOfWork(), FakeClock())(admin_username="Not Valid")

    assert error.value.field == "username"


async def test_the_first_token_is_returned_once_in_plaintext_and_only_its_hash_is_stored() -> None:
    uow = FakeUnitOfWork()

    created = await CreateAccount(uow, FakeClock())()

    plaintext = created.token.plaintext
    assert plaintext.startswith("smt_tok_")
    assert created.token.token.id is not None
    stored = uow.tokens.rows[created.token.token.id]
    assert stored.digest != plaintext
    assert stored.digest == hash_secret(plaintext)
    assert stored.display_prefix == plaintext[:DISPLAY_PREFIX_LENGTH]
    assert stored.user_id == created.admin.id
    assert plaintext not in msgspec.json.encode(stored).decode()
    assert plaintext not in msgspec.json.encode(created.token.token).decode()


async def test_the_first_token_of_a_new_account_authenticates_its_admin() -> None:
    uow = FakeUnitOfWork()
    created = await CreateAccount(uow, FakeClock())()

    principal = await Authenticate(uow)(created.token.plaintext)

    assert principal.user_id == created.admin.id
    assert principal.account_number == created.account.account_number
    assert principal.is_account_admin
    assert principal.token_id == created.token.token.id


async def test_a_user_reads_their_own_account(world: World) -> None:
    account = await GetAccount(world.uow)(world.user)

    assert (account.account_number, account.name) == (ACCOUNT, "Mine")


# -- Authenticate ----------------------------------------------------------------------------


async def test_a_valid_token_authenticates_its_user(world: World) -> None:
    principal = await Authenticate(world.uow)(world.tokens["user123"])

    assert principal == world.user


@pytest.mark.parametrize("plaintext", [None, ""])
async def test_a_missing_token_is_unauthenticated(world: World, plaintext: str | None) -> None:
    with pytest.raises(Unauthenticated, match="required"):
        await Authenticate(world.uow)(plaintext)


@pytest.mark.parametrize(
    "plaintext",
    ["smt_tok_not-a-real-token", "wrong", "x" * 10_000],
)
async def test_a_wrong_token_is_unauthenticated(world: World, plaintext: str) -> None:
    with pytest.raises(Unauthenticated, match="not valid"):
        await Authenticate(world.uow)(plaintext)


async def test_a_tokens_digest_is_not_a_token(world: World) -> None:
    digest = hash_secret(world.tokens["user123"])

    with pytest.raises(Unauthenticated):
        await Authenticate(world.uow)(digest)


async def test_a_revoked_token_is_unauthenticated(world: World) -> None:
    assert world.user.token_id is not None
    await RevokeToken(world.uow, world.clock)(world.user, world.user.token_id)

    with pytest.raises(Unauthenticated):
        await Authenticate(world.uow)(world.tokens["user123"])


# -- CreateUser and ListUsers ----------------------------------------------------------------


async def test_an_admin_adds_a_user_who_gets_a_working_first_token(world: World) -> None:
    user, token = await CreateUser(world.uow, world.clock)(
        world.admin, NewUser(username="newbie", email="newbie@example.org")
    )

    assert user.id is not None
    stored = world.uow.users.rows[user.id]
    assert (stored.username, stored.email, stored.is_account_admin) == (
        "newbie",
        "newbie@example.org",
        False,
    )
    assert stored.account_number == ACCOUNT
    assert stored.created_at == world.clock.now()
    assert world.uow.tokens.rows[token.token.id or 0].digest == hash_secret(token.plaintext)
    principal = await Authenticate(world.uow)(token.plaintext)
    assert (principal.user_id, principal.is_account_admin) == (user.id, False)
    assert world.uow.commits == 1


async def test_an_admin_may_add_another_admin(world: World) -> None:
    user, _ = await CreateUser(world.uow, world.clock)(
        world.admin, NewUser(username="deputy", is_account_admin=True)
    )

    assert user.is_account_admin


async def test_a_non_admin_cannot_add_users(world: World) -> None:
    before = dict(world.uow.users.rows)

    with pytest.raises(PermissionDenied):
        await CreateUser(world.uow, world.clock)(world.user, NewUser(username="sneaky"))
    assert world.uow.users.rows == before
    assert world.uow.commits == 0


async def test_a_username_taken_in_the_account_is_a_conflict(world: World) -> None:
    with pytest.raises(Conflict):
        await CreateUser(world.uow, world.clock)(world.admin, NewUser(username="user123"))


async def test_a_username_taken_in_another_account_is_free(world: World) -> None:
    user, _ = await CreateUser(world.uow, world.clock)(world.stranger, NewUser(username="user123"))

    assert user.account_number == OTHER_ACCOUNT


@pytest.mark.parametrize("username", ["", "User", "-dash", "with space", "ünïcode", "a" * 64])
async def test_an_invalid_username_is_rejected_naming_the_field(
    world: World, username: str
) -> None:
    with pytest.raises(InvalidValue) as error:
        await CreateUser(world.uow, world.clock)(world.admin, NewUser(username=username))

    assert error.value.field == "username"


async def test_the_users_listed_are_those_of_the_callers_account(world: World) -> None:
    users = await ListUsers(world.uow)(world.user)

    assert sorted(u.username for u in users) == ["admin", "colleague", "user123"]
    assert {u.account_number for u in users} == {ACCOUNT}


# -- IssueToken ------------------------------------------------------------------------------


async def test_a_user_issues_a_token_for_themselves(world: World) -> None:
    issued = await IssueToken(world.uow, world.clock)(world.user, "laptop")

    assert issued.token.user_id == world.user.user_id
    assert issued.token.name == "laptop"
    assert issued.token.created_at == world.clock.now()
    stored = world.uow.tokens.rows[issued.token.id or 0]
    assert stored.digest == hash_secret(issued.plaintext) != issued.plaintext
    assert (await Authenticate(world.uow)(issued.plaintext)).user_id == world.user.user_id
    assert world.uow.commits == 1


async def test_a_user_may_name_themselves_as_the_tokens_owner(world: World) -> None:
    issued = await IssueToken(world.uow, world.clock)(world.user, "ci", world.user.user_id)

    assert issued.token.user_id == world.user.user_id


async def test_a_non_admin_cannot_issue_a_token_for_another_user(world: World) -> None:
    before = dict(world.uow.tokens.rows)

    with pytest.raises(PermissionDenied):
        await IssueToken(world.uow, world.clock)(world.user, "theirs", world.colleague.user_id)
    assert world.uow.tokens.rows == before


async def test_an_admin_issues_a_token_for_another_user_of_the_account(world: World) -> None:
    issued = await IssueToken(world.uow, world.clock)(world.admin, "for-you", world.user.user_id)

    assert issued.token.user_id == world.user.user_id
    principal = await Authenticate(world.uow)(issued.plaintext)
    assert principal.user_id == world.user.user_id
    assert not principal.is_account_admin


async def test_an_admin_cannot_issue_a_token_for_a_user_of_another_account(world: World) -> None:
    with pytest.raises(NotFound):
        await IssueToken(world.uow, world.clock)(world.admin, "x", world.stranger.user_id)


# -- ListTokens ------------------------------------------------------------------------------


async def test_an_admin_lists_every_token_of_the_account_and_no_other(world: World) -> None:
    tokens = await ListTokens(world.uow)(world.admin)

    owners = sorted(t.user_id for t in tokens)
    assert owners == sorted([world.admin.user_id, world.user.user_id, world.colleague.user_id])


async def test_a_non_admin_lists_only_their_own_tokens(world: World) -> None:
    await IssueToken(world.uow, world.clock)(world.user, "second")

    tokens = await ListTokens(world.uow)(world.user)

    assert len(tokens) == 2
    assert {t.user_id for t in tokens} == {world.user.user_id}


async def test_listed_tokens_hold_no_plaintext(world: World) -> None:
    tokens = await ListTokens(world.uow)(world.admin)

    encoded = msgspec.json.encode(tokens).decode()
    for plaintext in world.tokens.values():
        assert plaintext not in encoded


# -- RevokeToken -----------------------------------------------------------------------------


async def test_a_user_revokes_their_own_token(world: World) -> None:
    token_id = world.user.token_id or 0

    token = await RevokeToken(world.uow, world.clock)(world.user, token_id)

    assert token.revoked_at == world.clock.now()
    assert not token.is_active
    assert world.uow.tokens.rows[token_id].revoked_at == world.clock.now()
    assert world.uow.commits == 1


async def test_revoking_a_revoked_token_changes_nothing(world: World) -> None:
    revoke = RevokeToken(world.uow, world.clock)
    token_id = world.user.token_id or 0
    first = await revoke(world.user, token_id)
    world.clock.advance(60)

    again = await revoke(world.user, token_id)

    assert again.revoked_at == first.revoked_at
    assert world.uow.tokens.rows[token_id].revoked_at == first.revoked_at
    assert world.uow.commits == 1


async def test_a_non_admin_cannot_revoke_another_users_token(world: World) -> None:
    with pytest.raises(PermissionDenied):
        await RevokeToken(world.uow, world.clock)(world.user, world.colleague.token_id or 0)

    assert world.uow.tokens.rows[world.colleague.token_id or 0].is_active


async def test_an_admin_revokes_another_users_token(world: World) -> None:
    await RevokeToken(world.uow, world.clock)(world.admin, world.user.token_id or 0)

    with pytest.raises(Unauthenticated):
        await Authenticate(world.uow)(world.tokens["user123"])


async def test_a_token_of_another_account_is_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        await RevokeToken(world.uow, world.clock)(world.admin, world.stranger.token_id or 0)

    assert world.uow.tokens.rows[world.stranger.token_id or 0].is_active


# -- ActAs (the CLI's principal) -------------------------------------------------------------


async def test_the_cli_acts_as_the_first_admin_by_default(world: World) -> None:
    await CreateUser(world.uow, world.clock)(
        world.admin, NewUser(username="deputy", is_account_admin=True)
    )

    principal = await ActAs(world.uow)(ACCOUNT)

    assert principal.user_id == world.admin.user_id
    assert principal.is_account_admin
    assert principal.token_id is None


async def test_the_cli_acts_as_a_named_user(world: World) -> None:
    principal = await ActAs(world.uow)(ACCOUNT, "user123")

    assert (principal.user_id, principal.username) == (world.user.user_id, "user123")
    assert not principal.is_account_admin
    assert principal.account_number == ACCOUNT


async def test_the_cli_cannot_act_as_an_unknown_user(world: World) -> None:
    with pytest.raises(NotFound, match="nobody"):
        await ActAs(world.uow)(ACCOUNT, "nobody")


async def test_the_cli_cannot_act_as_a_user_of_another_account(world: World) -> None:
    await CreateUser(world.uow, world.clock)(world.stranger, NewUser(username="outsider"))

    with pytest.raises(NotFound):
        await ActAs(world.uow)(ACCOUNT, "outsider")


async def test_the_cli_cannot_act_in_an_unknown_account(world: World) -> None:
    with pytest.raises(NotFound):
        await ActAs(world.uow)(AccountNumber("0000-0000-0000"))


async def test_the_cli_finds_no_admin_in_an_account_without_one() -> None:
    uow = FakeUnitOfWork()
    await CreateAccount(uow, FakeClock())(number=ACCOUNT)
    for user in uow.users.rows.values():
        user.is_account_admin = False

    with pytest.raises(NotFound, match="admin"):
        await ActAs(uow)(ACCOUNT)

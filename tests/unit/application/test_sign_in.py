"""Console passwords: sign-in, throttling, invitations, deactivation, usage totals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from smarter.adapters.memory_rate_limiter import MemoryRateLimiter
from smarter.application.accounts import Authenticate, ChangeUser
from smarter.application.errors import PermissionDenied, TooManyAttempts, Unauthenticated
from smarter.application.sign_in import (
    WRONG_CREDENTIALS,
    AcceptInvitation,
    CurrentUser,
    InviteUser,
    OpenInvitation,
    SetPassword,
    SignIn,
    SignInPolicy,
)
from smarter.application.usage import ClientUsage
from smarter.domain.errors import Conflict, InvalidValue, NotFound
from smarter.domain.history import ChatRequestRecord
from tests.fakes import FakePasswordHasher

from .conftest import ACCOUNT, OTHER_ACCOUNT, World

PASSWORD = "correct horse battery"


def sign_in(world: World, policy: SignInPolicy | None = None) -> SignIn:
    return SignIn(world.uow, FakePasswordHasher(), MemoryRateLimiter(), policy or SignInPolicy())


async def test_a_user_signs_in_with_the_password_an_operator_set(world: World) -> None:
    await SetPassword(world.uow, FakePasswordHasher())(ACCOUNT, "user123", PASSWORD)

    principal = await sign_in(world)(str(ACCOUNT), "User123 ", PASSWORD, "10.0.0.1")

    assert principal.user_id == world.user.user_id
    assert not principal.is_account_admin
    assert world.uow.users.password_hashes[world.user.user_id] != PASSWORD


@pytest.mark.parametrize(
    ("account", "username", "password"),
    [
        (str(ACCOUNT), "user123", "wrong password"),
        (str(ACCOUNT), "nobody", PASSWORD),
        (str(OTHER_ACCOUNT), "user123", PASSWORD),
        ("not-an-account", "user123", PASSWORD),
        (str(ACCOUNT), "colleague", PASSWORD),  # has no password
    ],
)
async def test_every_wrong_credential_gets_the_same_answer(
    world: World, account: str, username: str, password: str
) -> None:
    await SetPassword(world.uow, FakePasswordHasher())(ACCOUNT, "user123", PASSWORD)

    with pytest.raises(Unauthenticated) as refused:
        await sign_in(world)(account, username, password, "10.0.0.1")

    assert refused.value.message == WRONG_CREDENTIALS


async def test_sign_in_attempts_are_limited_per_user_and_per_address(world: World) -> None:
    await SetPassword(world.uow, FakePasswordHasher())(ACCOUNT, "user123", PASSWORD)
    use_case = sign_in(world, SignInPolicy(attempts_per_user=3, attempts_per_address=4))
    for _ in range(3):
        with pytest.raises(Unauthenticated):
            await use_case(str(ACCOUNT), "user123", "guess", "10.0.0.1")

    with pytest.raises(TooManyAttempts):  # even the right password, from another address
        await use_case(str(ACCOUNT), "user123", PASSWORD, "10.0.0.2")
    await SetPassword(world.uow, FakePasswordHasher())(ACCOUNT, "colleague", PASSWORD)
    await use_case(str(ACCOUNT), "colleague", PASSWORD, "10.0.0.1")  # the 4th from this address
    with pytest.raises(TooManyAttempts):
        await use_case(str(ACCOUNT), "admin", PASSWORD, "10.0.0.1")


async def test_an_outdated_hash_is_replaced_at_sign_in(world: World) -> None:
    await SetPassword(world.uow, FakePasswordHasher("v1"))(ACCOUNT, "user123", PASSWORD)

    await sign_in(world)(str(ACCOUNT), "user123", PASSWORD, "10.0.0.1")

    assert world.uow.users.password_hashes[world.user.user_id].startswith("v2$")


async def test_a_short_password_is_refused(world: World) -> None:
    with pytest.raises(InvalidValue) as refused:
        await SetPassword(world.uow, FakePasswordHasher())(ACCOUNT, "user123", "short")
    assert refused.value.field == "password"


async def test_an_invitation_sets_the_password_once_and_signs_the_user_in(world: World) -> None:
    issued = await InviteUser(world.uow, world.clock)(world.admin, world.colleague.user_id)
    assert (await OpenInvitation(world.uow, world.clock)(issued.plaintext)).username == "colleague"

    accept = AcceptInvitation(world.uow, world.clock, FakePasswordHasher())
    principal = await accept(issued.plaintext, PASSWORD)

    assert principal.user_id == world.colleague.user_id
    await sign_in(world)(str(ACCOUNT), "colleague", PASSWORD, "10.0.0.1")
    with pytest.raises(NotFound):
        await accept(issued.plaintext, "another password")


async def test_an_invitation_expires_after_a_week(world: World) -> None:
    issued = await InviteUser(world.uow, world.clock)(world.admin, world.colleague.user_id)
    world.clock.advance(timedelta(days=7, seconds=1).total_seconds())

    with pytest.raises(NotFound):
        await OpenInvitation(world.uow, world.clock)(issued.plaintext)


async def test_only_admins_invite_and_only_their_own_accounts_users(world: World) -> None:
    with pytest.raises(PermissionDenied):
        await InviteUser(world.uow, world.clock)(world.user, world.colleague.user_id)
    with pytest.raises(NotFound):
        await InviteUser(world.uow, world.clock)(world.stranger, world.colleague.user_id)


async def test_a_deactivated_user_loses_sessions_tokens_and_sign_in(world: World) -> None:
    await SetPassword(world.uow, FakePasswordHasher())(ACCOUNT, "user123", PASSWORD)

    await ChangeUser(world.uow)(world.admin, world.user.user_id, is_active=False)

    with pytest.raises(Unauthenticated):
        await CurrentUser(world.uow)(ACCOUNT, world.user.user_id)
    with pytest.raises(Unauthenticated):
        await Authenticate(world.uow)(world.tokens["user123"])
    with pytest.raises(Unauthenticated):
        await sign_in(world)(str(ACCOUNT), "user123", PASSWORD, "10.0.0.1")


async def test_an_admin_cannot_demote_or_deactivate_themselves(world: World) -> None:
    with pytest.raises(Conflict):
        await ChangeUser(world.uow)(world.admin, world.admin.user_id, is_account_admin=False)


async def test_making_a_user_admin_shows_in_their_next_request(world: World) -> None:
    await ChangeUser(world.uow)(world.admin, world.user.user_id, is_account_admin=True)

    assert (await CurrentUser(world.uow)(ACCOUNT, world.user.user_id)).is_account_admin


async def test_usage_has_thirty_days_with_errors_and_token_totals(world: World) -> None:
    client_id = await world.create_client(world.admin)
    now = world.clock.now()
    for days_ago, status, tokens in ((0, 200, 5), (0, 502, 0), (3, 200, 7), (31, 200, 100)):
        await world.uow.history.add(
            ChatRequestRecord(
                llm_client_id=client_id,
                request_id=f"r{days_ago}-{status}",
                session_key="s",
                mode="default",
                status_code=status,
                latency_ms=1.0,
                request={},
                prompt_tokens=tokens,
                completion_tokens=1,
                created_at=now - timedelta(days=days_ago),
            )
        )

    report = await ClientUsage(world.uow, world.clock)(world.admin, client_id)

    assert len(report.days) == 30 and report.days[-1].day == now.date()
    assert (report.total.requests, report.total.errors) == (3, 1)
    assert (report.total.prompt_tokens, report.total.completion_tokens) == (12, 3)
    assert report.days[-1].requests == 2 and report.days[-4].requests == 1
    with pytest.raises(NotFound):
        await ClientUsage(world.uow, world.clock)(world.stranger, client_id)

"""Passwords for the web console: sign-in, setting a password, one-time invitations.

Console tokens stay the API's credential; a password only opens a console session. Sign-in
attempts are counted per user and per address before any password is checked, so that
guessing is slow and a flood of attempts costs no hashing.
"""

from __future__ import annotations

from datetime import timedelta

import msgspec

from smarter.application.access import require_admin
from smarter.application.chat_ports import RateLimiter
from smarter.application.errors import TooManyAttempts, Unauthenticated
from smarter.application.ports import Clock, PasswordHasher, UnitOfWork
from smarter.domain.account_number import AccountNumber, parse_account_number
from smarter.domain.accounts import Invitation, Principal, User
from smarter.domain.errors import DomainError, InvalidValue, NotFound
from smarter.domain.secrets import hash_secret, new_secret

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
MAX_USERNAME_LENGTH = 63
INVITATION_LIFETIME = timedelta(days=7)
WRONG_CREDENTIALS = "wrong account number, username or password"


class SignInPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """How many sign-in attempts one user, and one address, may make per window."""

    attempts_per_user: int = 10
    attempts_per_address: int = 100
    window_seconds: float = 900.0


class IssuedInvitation(msgspec.Struct, kw_only=True):
    """An invitation as created: its secret goes into the link, shown this once."""

    invitation: Invitation
    user: User
    plaintext: str


def validate_password(password: str) -> str:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidValue(
            "password",
            f"must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters long",
        )
    return password


def principal_of(user: User) -> Principal:
    assert user.id is not None
    return Principal(
        user_id=user.id,
        username=user.username,
        account_number=user.account_number,
        is_account_admin=user.is_account_admin,
    )


class SignIn:
    """The user behind an account number, username and password, or Unauthenticated."""

    def __init__(
        self,
        uow: UnitOfWork,
        passwords: PasswordHasher,
        limiter: RateLimiter,
        policy: SignInPolicy,
    ) -> None:
        self._uow, self._passwords = uow, passwords
        self._limiter, self._policy = limiter, policy

    async def __call__(self, account: str, username: str, password: str, address: str) -> Principal:
        username = username.strip().lower()[: MAX_USERNAME_LENGTH + 1]
        await self._count(f"sign-in:address:{address}", self._policy.attempts_per_address)
        await self._count(
            f"sign-in:user:{account.strip()[:20]}:{username}", self._policy.attempts_per_user
        )
        user, stored = await self._find(account, username)
        # A hash is checked even for an unknown user, so the answer takes as long either way.
        matches = await self._passwords.verify(stored or await self._dummy(), password)
        if user is None or stored is None or not matches or not user.is_active:
            raise Unauthenticated(WRONG_CREDENTIALS)
        assert user.id is not None
        if self._passwords.needs_rehash(stored):
            await self._uow.users.set_password_hash(user.id, await self._passwords.hash(password))
            await self._uow.commit()
        return principal_of(user)

    async def _count(self, key: str, limit: int) -> None:
        wait = await self._limiter.hit(key, limit, self._policy.window_seconds)
        if wait is not None:
            raise TooManyAttempts(wait)

    async def _find(self, account: str, username: str) -> tuple[User | None, str | None]:
        try:
            number = parse_account_number(account.strip())
        except DomainError:
            return None, None
        user = await self._uow.users.find(number, username)
        if user is None or user.id is None:
            return None, None
        return user, await self._uow.users.password_hash(user.id)

    _dummy_hash: str | None = None

    async def _dummy(self) -> str:
        if SignIn._dummy_hash is None:
            SignIn._dummy_hash = await self._passwords.hash(new_secret("dummy").plaintext)
        return SignIn._dummy_hash


class CurrentUser:
    """The principal of a console session: the user as now stored, if still active."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, account: AccountNumber, user_id: int) -> Principal:
        try:
            user = await self._uow.users.get(account, user_id)
        except NotFound:
            raise Unauthenticated("the session's user no longer exists") from None
        if not user.is_active:
            raise Unauthenticated("this user has been deactivated")
        return principal_of(user)


class SetPassword:
    """An operator (the CLI) sets a user's password."""

    def __init__(self, uow: UnitOfWork, passwords: PasswordHasher) -> None:
        self._uow, self._passwords = uow, passwords

    async def __call__(self, account: AccountNumber, username: str, password: str) -> User:
        user = await self._uow.users.find(account, username)
        if user is None or user.id is None:
            raise NotFound(f"no user {username} in account {account}")
        hashed = await self._passwords.hash(validate_password(password))
        await self._uow.users.set_password_hash(user.id, hashed)
        await self._uow.commit()
        user.has_password = True
        return user


class InviteUser:
    """An admin creates a one-time link with which a user of the account sets a password."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def __call__(self, principal: Principal, user_id: int) -> IssuedInvitation:
        require_admin(principal, "invite users")
        user = await self._uow.users.get(principal.account_number, user_id)
        secret = new_secret("inv")
        now = self._clock.now()
        invitation = await self._uow.invitations.add(
            Invitation(
                account_number=principal.account_number,
                user_id=user_id,
                digest=secret.digest,
                expires_at=now + INVITATION_LIFETIME,
                created_at=now,
            )
        )
        await self._uow.commit()
        return IssuedInvitation(invitation=invitation, user=user, plaintext=secret.plaintext)


async def _open_invitation(uow: UnitOfWork, clock: Clock, plaintext: str) -> Invitation:
    invitation = None
    if 0 < len(plaintext) <= 128:
        invitation = await uow.invitations.find(hash_secret(plaintext))
    if invitation is None or not invitation.usable(clock.now()):
        raise NotFound("this invitation link is not valid: it was used, or it has expired")
    return invitation


class OpenInvitation:
    """The user an unused, unexpired invitation is for."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def __call__(self, plaintext: str) -> User:
        invitation = await _open_invitation(self._uow, self._clock, plaintext)
        return await self._uow.users.get(invitation.account_number, invitation.user_id)


class AcceptInvitation:
    """Set the invited user's password with the link, once; they are then signed in."""

    def __init__(self, uow: UnitOfWork, clock: Clock, passwords: PasswordHasher) -> None:
        self._uow, self._clock, self._passwords = uow, clock, passwords

    async def __call__(self, plaintext: str, password: str) -> Principal:
        invitation = await _open_invitation(self._uow, self._clock, plaintext)
        user = await self._uow.users.get(invitation.account_number, invitation.user_id)
        if not user.is_active or user.id is None:
            raise NotFound("this invitation link is not valid: the user was deactivated")
        hashed = await self._passwords.hash(validate_password(password))
        await self._uow.users.set_password_hash(user.id, hashed)
        invitation.used_at = self._clock.now()
        await self._uow.invitations.save(invitation)
        await self._uow.commit()
        return principal_of(user)

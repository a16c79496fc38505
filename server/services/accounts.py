"""Staff accounts, managed by admins in the console (and by the operator at the command line).

An admin lists the accounts, adds one, changes its role, route or disabled state, gives it a new
setup link (a forgotten password) and resets its two-factor sign-in (a lost phone). Nobody does any
of this to their own account (``staff.*`` rows of domain/permissions.py). A new account has no
usable password: the admin gets a one-time setup link (valid for ``setup_link_lifetime``, spent by
its first use, kept only as a hash), and the member of staff chooses their password with it. No
password is ever typed by an admin or sent anywhere.

Every change that alters what an account may do or who can sign in with it (disabling, a new role
or route, a password reset, a two-factor reset) ends that account's sessions in the same
transaction and then publishes StaffSessionsEnded or StaffDisabled, which closes its sockets at
once (transports/sockets/session_watch.py). Everything is audited (object type ``staff_user``,
the account's id; never a password, link or code)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from argon2 import PasswordHasher

from server.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.domain.permissions import Action, Ownership, require, roles_allowed
from server.domain.staff import Role, StaffUser, check_password_strength, check_route, check_username
from server.domain.text import clean_text
from server.domain.tokens import new_token, secret_hash
from server.services.events import EventBus, StaffDisabled, StaffSessionsEnded
from server.services.ports.clock import Clock
from server.services.ports.staff import StaffAccount
from server.services.ports.unit_of_work import Repositories, UnitOfWork

#: Stored as the password hash of an account that has no password yet (or had it reset): not an
#: argon2 hash, so no password verifies against it.
NO_PASSWORD: Final = "!no-password"  # noqa: S105 (no password at all)
#: The audit log's object type for staff accounts; the object id is the account's id.
STAFF_OBJECT: Final = "staff_user"


class _Keep:
    """The value of a field that a change leaves as it is."""


KEEP: Final = _Keep()


@dataclass(frozen=True)
class AccountPolicy:
    setup_link_lifetime: timedelta
    #: The routes (districts) of the escalation routes file: a social_services account has one.
    routes: frozenset[str]


@dataclass(frozen=True)
class IssuedSetupLink:
    """The link's secret, handed to the admin this once, and when it stops working."""

    token: str
    expires_at: datetime


@dataclass(frozen=True)
class SetupTarget:
    """What the setup page shows before the password is chosen."""

    username: str
    display_name: str
    expires_at: datetime


async def insert_account(
    repos: Repositories,
    username: str,
    display_name: str | None,
    password_hash: str,
    role: Role,
    route: str | None,
    now: datetime,
) -> int:
    """Stores a new account after checking its username; the one way accounts are created."""
    try:
        check_username(username)
    except ValueError as error:
        raise InvalidInput(str(error), code="invalid_username") from None
    if await repos.staff.credentials(username) is not None:
        raise Conflict("that username is taken", code="user_exists")
    return await repos.staff.add_user(
        username, clean_text(display_name or username), password_hash, role, now, route
    )


async def end_sessions_of(
    repos: Repositories, user_id: int, kind: type[StaffSessionsEnded] = StaffSessionsEnded
) -> StaffSessionsEnded:
    """Ends every session of an account, inside the transaction of the change that ends them. The
    caller publishes the returned event after the commit: this process closes that member's
    sockets at once, other processes when their session watch next finds the sessions gone."""
    await repos.staff.delete_sessions_of(user_id)
    return kind(user_id)


class AccountService:
    def __init__(
        self,
        uow: UnitOfWork,
        events: EventBus,
        clock: Clock,
        policy: AccountPolicy,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self.uow = uow
        self.events = events
        self.clock = clock
        self.policy = policy
        self.hasher = hasher or PasswordHasher()

    # ---- admins ----

    async def list_accounts(self, actor: StaffUser) -> list[StaffAccount]:
        require(actor.role, Action.STAFF_LIST, Ownership.NONE)
        async with self.uow.read() as repos:
            return await repos.staff.accounts()

    async def add_account(
        self,
        actor: StaffUser,
        username: str,
        role: Role,
        display_name: str | None = None,
        route: str | None = None,
    ) -> tuple[StaffUser, IssuedSetupLink]:
        """A new account without a password, and the setup link with which its owner chooses one."""
        require(actor.role, Action.STAFF_ADD, Ownership.NONE)
        self._check_route(role, route)
        now = self.clock()
        link = self._new_link(now)
        async with self.uow.write() as repos:
            user_id = await insert_account(repos, username, display_name, NO_PASSWORD, role, route, now)
            await repos.staff.add_setup_link(secret_hash(link.token), user_id, now, link.expires_at)
            await repos.staff.audit(actor.id, "staff.add", STAFF_OBJECT, str(user_id), now, role.value)
            user = await repos.staff.get_user(user_id)
        assert user is not None
        return user, link

    async def change_account(
        self,
        actor: StaffUser | None,
        username: str,
        *,
        role: Role | None = None,
        route: str | _Keep | None = KEEP,
        active: bool | None = None,
    ) -> StaffUser:
        """Changes an account's role and route, or disables or enables it. ``route`` left out keeps
        a social_services account's route and removes it with any other role. ``actor`` None is the
        operator at the command line. Ends the account's sessions unless it was only enabled."""
        target, now = await self._target(actor, Action.STAFF_EDIT, username), self.clock()
        new_role = role or target.role
        if isinstance(route, _Keep):
            new_route = target.route if new_role is Role.SOCIAL_SERVICES else None
        else:
            new_route = route
        regranted = (new_role, new_route) != (target.role, target.route)
        if regranted:
            self._check_route(new_role, new_route)
        disabling = active is False and target.active
        enabling = active is True and not target.active
        ended: StaffSessionsEnded | None = None
        async with self.uow.write() as repos:
            actor_id = actor.id if actor else None
            if regranted:
                await repos.staff.set_role(target.id, new_role, new_route)
                await repos.staff.audit(
                    actor_id, "staff.role_change", STAFF_OBJECT, str(target.id), now, new_role.value
                )
                ended = await end_sessions_of(repos, target.id)
            if disabling or enabling:
                await repos.staff.set_active(target.username, bool(active))
                action = "staff.enable" if enabling else "staff.disable"
                await repos.staff.audit(actor_id, action, STAFF_OBJECT, str(target.id), now)
            if disabling:
                ended = await end_sessions_of(repos, target.id, StaffDisabled)
            changed = await repos.staff.get_user(target.id)
        if ended is not None:
            await self.events.publish(ended)
        assert changed is not None
        return changed

    async def reset_password(
        self, actor: StaffUser | None, username: str
    ) -> tuple[StaffUser, IssuedSetupLink]:
        """The old password stops working at once and the account's sessions end; the admin gets a
        new setup link for its owner (earlier links stop working)."""
        target, now = await self._target(actor, Action.STAFF_PASSWORD_RESET, username), self.clock()
        link = self._new_link(now)
        async with self.uow.write() as repos:
            await repos.staff.set_password_hash(target.id, NO_PASSWORD)
            await repos.staff.add_setup_link(secret_hash(link.token), target.id, now, link.expires_at)
            ended = await end_sessions_of(repos, target.id)
            await repos.staff.audit(
                actor.id if actor else None, "staff.password_reset", STAFF_OBJECT, str(target.id), now
            )
        await self.events.publish(ended)
        return target, link

    async def reset_totp(self, actor: StaffUser | None, username: str) -> StaffUser:
        """Removes a staff member's TOTP and recovery codes, so they enroll again at next sign-in,
        and ends their sessions (whoever holds them signs in again)."""
        target, now = await self._target(actor, Action.STAFF_TOTP_RESET, username), self.clock()
        async with self.uow.write() as repos:
            await repos.staff.clear_totp(target.id)
            ended = await end_sessions_of(repos, target.id)
            await repos.staff.audit(
                actor.id if actor else None, "staff.totp_reset", STAFF_OBJECT, str(target.id), now
            )
        await self.events.publish(ended)
        return target

    # ---- the owner of a setup link ----

    async def setup_target(self, token: str) -> SetupTarget:
        """Whose account a setup link is for, while it can still be used."""
        async with self.uow.read() as repos:
            link = await repos.staff.setup_link(secret_hash(token))
            self._check_usable(link.used_at if link else None, link.expires_at if link else None)
            assert link is not None
            user = await repos.staff.get_user(link.user_id)
        if user is None:
            raise NotFound("this setup link is not valid", code="setup_link_invalid")
        return SetupTarget(user.username, user.display_name, link.expires_at)

    async def complete_setup(self, token: str, password: str) -> StaffUser:
        """Sets the account's password with a setup link, spending the link."""
        try:
            check_password_strength(password)
        except ValueError as error:
            raise InvalidInput(str(error), code="weak_password") from None
        await self.setup_target(token)
        password_hash = await asyncio.to_thread(self.hasher.hash, password)
        now = self.clock()
        async with self.uow.write() as repos:
            link = await repos.staff.setup_link(secret_hash(token))
            if link is None or not await repos.staff.spend_setup_link(secret_hash(token), now):
                self._check_usable(link.used_at if link else None, link.expires_at if link else None)
                raise NotFound("this setup link was used already", code="setup_link_used")
            await repos.staff.set_password_hash(link.user_id, password_hash)
            await repos.staff.audit(link.user_id, "staff.password_set", STAFF_OBJECT, str(link.user_id), now)
            user = await repos.staff.get_user(link.user_id)
        assert user is not None
        return user

    # ---- helpers ----

    def _check_usable(self, used_at: datetime | None, expires_at: datetime | None) -> None:
        if expires_at is None:
            raise NotFound("this setup link is not valid", code="setup_link_invalid")
        if used_at is not None:
            raise NotFound("this setup link was used already", code="setup_link_used")
        if expires_at <= self.clock():
            raise NotFound("this setup link has expired", code="setup_link_expired")

    def _new_link(self, now: datetime) -> IssuedSetupLink:
        return IssuedSetupLink(new_token(), now + self.policy.setup_link_lifetime)

    def _check_route(self, role: Role, route: str | None) -> None:
        try:
            check_route(role, route, self.policy.routes)
        except ValueError as error:
            raise InvalidInput(str(error), code="invalid_route") from None

    async def _target(self, actor: StaffUser | None, action: Action, username: str) -> StaffUser:
        """The account ``username``, once ``actor`` may do ``action`` to it. A role that may never do
        it is refused before the name is looked up, so no name is revealed to it."""
        if actor is not None and actor.role not in roles_allowed(action):
            raise Forbidden(f"{actor.role.value} may not {action.value}")
        async with self.uow.read() as repos:
            found = await repos.staff.credentials(username)
        if found is None:
            raise NotFound("no such user")
        target = found[0]
        if actor is not None:
            require(actor.role, action, Ownership.OWN if actor.id == target.id else Ownership.OTHER)
        return target

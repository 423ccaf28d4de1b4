"""Logging in and out: by badge scan or user and PIN, against the roster cached on the device."""

from __future__ import annotations

from dataclasses import dataclass

from floor_app.domain.events import UserLoggedIn, UserLoggedOut
from floor_app.domain.users import Role, User
from floor_app.store import Store
from floor_app.store.repositories import UserRepository

from .errors import AccessDenied, reports_store_failures


@dataclass(frozen=True, slots=True)
class LoggedIn:
    """Who is logged in on this device, and as what."""

    user: User
    role: Role


@reports_store_failures
class SessionService:
    """Login and logout. Works offline: the roster is in the local store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def identify_badge(self, badge: str) -> User:
        """The active user with this badge, without logging in (to offer a role choice)."""
        with self.store.read() as session:
            user = UserRepository(session).by_badge(badge.strip().upper())
        if user is None:
            raise AccessDenied(
                f"badge {badge} is not known on this device",
                hint="ask a supervisor to add you to the roster",
                code="login.unknown_badge",
                params={"badge": badge},
            )
        self._start(user, None)
        return user

    def identify_pin(self, user_id: str, pin: str) -> User:
        """The active user with this user id and PIN, without logging in."""
        with self.store.read() as session:
            user = UserRepository(session).get(user_id.strip().lower())
        if user is None or not user.check_pin(pin):
            raise AccessDenied(
                "user or PIN is wrong", hint="try again, or scan your badge", code="login.wrong_pin"
            )
        self._start(user, None)
        return user

    def login_badge(self, badge: str, role: Role | None = None) -> LoggedIn:
        """Log in the user whose badge was scanned, in ``role`` (or their only/first role)."""
        with self.store.unit_of_work() as uow:
            user = uow.users.by_badge(badge.strip().upper())
            if user is None:
                raise AccessDenied(
                    f"badge {badge} is not known on this device",
                    hint="ask a supervisor to add you to the roster",
                    code="login.unknown_badge",
                    params={"badge": badge},
                )
            session = self._start(user, role)
            uow.emit(UserLoggedIn(user=user.user_id, role=session.role.value, method="badge"))
            uow.meta.set("current_user", user.user_id)
            uow.commit()
        return session

    def login_pin(self, user_id: str, pin: str, role: Role | None = None) -> LoggedIn:
        """Log in with user id and PIN."""
        with self.store.unit_of_work() as uow:
            user = uow.users.get(user_id.strip().lower())
            if user is None or not user.check_pin(pin):
                raise AccessDenied(
                    "user or PIN is wrong",
                    hint="try again, or scan your badge",
                    code="login.wrong_pin",
                )
            session = self._start(user, role)
            uow.emit(UserLoggedIn(user=user.user_id, role=session.role.value, method="pin"))
            uow.meta.set("current_user", user.user_id)
            uow.commit()
        return session

    def logout(self, user_id: str, reason: str = "logout") -> None:
        """Log out (``reason`` is "logout" or "idle")."""
        with self.store.unit_of_work() as uow:
            uow.emit(UserLoggedOut(user=user_id, reason=reason))
            uow.meta.set("current_user", "")
            uow.commit()

    @staticmethod
    def _start(user: User, role: Role | None) -> LoggedIn:
        if not user.active:
            raise AccessDenied(
                f"{user.name} is disabled",
                hint="see a supervisor",
                code="login.disabled",
                params={"name": user.name},
            )
        if role is None:
            role = sorted(user.roles)[0] if len(user.roles) == 1 else _preferred(user)
        if not user.can_act_as(role):
            raise AccessDenied(
                f"{user.name} may not work as {role}",
                hint=f"roles: {', '.join(sorted(user.roles))}",
                code="login.role_not_allowed",
                params={"name": user.name, "role": role.value},
            )
        return LoggedIn(user, role)


def _preferred(user: User) -> Role:
    for role in (Role.PICKER, Role.PACKER, Role.SUPERVISOR):
        if role in user.roles:
            return role
    raise AccessDenied(f"{user.name} has no role", code="login.no_role", params={"name": user.name})

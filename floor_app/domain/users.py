"""People on the floor: badges, roles and PINs."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum

from .errors import DomainError


class Role(StrEnum):
    """What a user may do on a device."""

    PICKER = "picker"
    PACKER = "packer"
    SUPERVISOR = "supervisor"


def hash_pin(user: str, pin: str) -> str:
    """A salted hash of a PIN (the user id is the salt; PINs are short, so this is a gate,
    not a vault: devices lock after failed tries)."""
    if not pin.isdigit() or not 4 <= len(pin) <= 8:
        raise DomainError("a PIN is 4 to 8 digits", code="login.pin_format")
    return hashlib.pbkdf2_hmac("sha256", pin.encode(), f"floor:{user}".encode(), 20_000).hex()


@dataclass(frozen=True, slots=True)
class User:
    """A user. ``roles`` lists what they may log in as; supervisors may also override."""

    user_id: str
    name: str
    badge: str
    roles: frozenset[Role]
    pin_hash: str = ""
    active: bool = True
    language: str = ""

    def check_pin(self, pin: str) -> bool:
        """True when ``pin`` is this user's PIN."""
        if not self.pin_hash:
            return False
        try:
            candidate = hash_pin(self.user_id, pin)
        except DomainError:
            return False
        return hmac.compare_digest(candidate, self.pin_hash)

    def can_act_as(self, role: Role) -> bool:
        """True when the user may work in ``role`` (supervisors may do everything)."""
        return self.active and (role in self.roles or Role.SUPERVISOR in self.roles)

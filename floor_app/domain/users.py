"""People on the floor: badges, roles and PINs."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .errors import DomainError


class Role(StrEnum):
    """What a user may do on a device."""

    PICKER = "picker"
    PACKER = "packer"
    SUPERVISOR = "supervisor"


#: argon2id at OWASP's smallest recommended cost (19 MiB, 2 passes): about 30 ms on a handheld,
#: where the hash is checked offline, and slow enough that a copied roster does not give the
#: PINs away in a lunch break.
_PIN_HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


def _check_pin_format(pin: str) -> None:
    if not pin.isdigit() or not 4 <= len(pin) <= 8:
        raise DomainError("a PIN is 4 to 8 digits", code="login.pin_format")


def hash_pin(user: str, pin: str) -> str:
    """A slow, salted hash of a PIN (argon2id, in its standard encoded form). PINs are short,
    so this is a gate, not a vault: devices also lock after failed tries."""
    del user  # the hash carries its own random salt
    _check_pin_format(pin)
    return _PIN_HASHER.hash(pin)


def _legacy_hash(user: str, pin: str) -> str:
    """The hash of stores and hub databases from before argon2 (PBKDF2, the user id as salt)."""
    return hashlib.pbkdf2_hmac("sha256", pin.encode(), f"floor:{user}".encode(), 20_000).hex()


def pin_matches(user: str, pin_hash: str, pin: str) -> bool:
    """True when ``pin`` is the PIN ``pin_hash`` was made from (either form)."""
    if not pin_hash:
        return False
    try:
        _check_pin_format(pin)
    except DomainError:
        return False
    if pin_hash.startswith("$argon2"):
        try:
            return _PIN_HASHER.verify(pin_hash, pin)
        except (VerificationError, InvalidHashError):
            return False
    return hmac.compare_digest(_legacy_hash(user, pin), pin_hash)


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
        return pin_matches(self.user_id, self.pin_hash, pin)

    def can_act_as(self, role: Role) -> bool:
        """True when the user may work in ``role`` (supervisors may do everything)."""
        return self.active and (role in self.roles or Role.SUPERVISOR in self.roles)

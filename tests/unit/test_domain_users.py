"""Users: PIN hashing and checking, roles and what a user may act as."""

import hashlib

import pytest

from floor_app.domain.errors import DomainError
from floor_app.domain.users import Role, User, hash_pin, pin_matches

pytestmark = pytest.mark.unit


def user(roles: set[Role], *, pin: str = "1234", active: bool = True) -> User:
    return User("alice", "Alice Walker", "B1001", frozenset(roles), hash_pin("alice", pin), active)


def test_pin_hash_is_slow_and_salted() -> None:
    first, second = hash_pin("alice", "1234"), hash_pin("alice", "1234")
    assert first.startswith("$argon2id$")
    assert first != second  # a random salt each time
    assert pin_matches("alice", first, "1234") and pin_matches("alice", second, "1234")
    assert not pin_matches("alice", first, "1235")
    assert "1234" not in first


def test_a_hash_from_before_argon2_still_logs_in() -> None:
    legacy = hashlib.pbkdf2_hmac("sha256", b"1234", b"floor:alice", 20_000).hex()
    assert pin_matches("alice", legacy, "1234")
    assert not pin_matches("alice", legacy, "4321")
    assert not pin_matches("bob", legacy, "1234")


def test_a_damaged_hash_never_matches() -> None:
    assert not pin_matches("alice", "$argon2id$v=19$garbage", "1234")


@pytest.mark.parametrize("pin", ["", "123", "123456789", "12a4", "12 34", " 1234"])
def test_pin_must_be_four_to_eight_digits(pin: str) -> None:
    with pytest.raises(DomainError, match="4 to 8 digits"):
        hash_pin("alice", pin)


@pytest.mark.parametrize("pin", ["1234", "12345678"])
def test_pin_lengths_at_the_limits(pin: str) -> None:
    assert pin_matches("alice", hash_pin("alice", pin), pin)


def test_check_pin() -> None:
    u = user({Role.PICKER})
    assert u.check_pin("1234")
    assert not u.check_pin("4321")
    assert not u.check_pin("")
    assert not u.check_pin("abcd")


def test_user_without_a_pin_never_matches() -> None:
    u = User("bob", "Bob", "B1002", frozenset({Role.PICKER}))
    assert not u.check_pin("1234")
    assert not u.check_pin("")


@pytest.mark.parametrize(
    ("roles", "may"),
    [
        ({Role.PICKER}, {Role.PICKER}),
        ({Role.PACKER}, {Role.PACKER}),
        ({Role.PICKER, Role.PACKER}, {Role.PICKER, Role.PACKER}),
        ({Role.SUPERVISOR}, set(Role)),
    ],
)
def test_can_act_as(roles: set[Role], may: set[Role]) -> None:
    u = user(roles)
    assert {r for r in Role if u.can_act_as(r)} == may


def test_a_disabled_user_may_do_nothing() -> None:
    u = user({Role.SUPERVISOR}, active=False)
    assert not any(u.can_act_as(r) for r in Role)

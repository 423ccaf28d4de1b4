"""Mosquitto 2 password entries: ``user:$7$iterations$salt$hash`` (PBKDF2-SHA512).

This is the format ``mosquitto_passwd`` writes and Mosquitto 2 checks (``$7$``, 12 bytes of
salt, a 64-byte derived key, both standard base64). Generating it here needs no broker
tools on the machine that provisions; the tests prove the broker accepts it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

PBKDF2_ITERATIONS = 101
"""Mosquitto 2's own default; the broker runs PBKDF2 on every CONNECT with a password."""
SALT_BYTES = 12
KEY_BYTES = 64


def new_password() -> str:
    """A random device password (32 URL-safe characters, 192 bits)."""
    return secrets.token_urlsafe(24)


def hash_password(
    password: str, *, iterations: int = PBKDF2_ITERATIONS, salt: bytes | None = None
) -> str:
    """The ``$7$...`` hash of ``password`` for Mosquitto's password file."""
    if not password:
        raise ValueError("a device password must not be empty")
    if iterations < 1:
        raise ValueError("PBKDF2 iterations must be at least 1")
    salt = salt if salt is not None else os.urandom(SALT_BYTES)
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, KEY_BYTES)
    b64 = base64.b64encode
    return f"$7${iterations}${b64(salt).decode()}${b64(key).decode()}"


def verify_password(password: str, hashed: str) -> bool:
    """True when ``password`` matches a ``$7$`` (PBKDF2-SHA512) hash."""
    parts = hashed.split("$")
    if len(parts) != 5 or parts[0] or parts[1] != "7":
        raise ValueError("not a Mosquitto $7$ (PBKDF2-SHA512) password hash")
    try:
        iterations = int(parts[2])
        salt = base64.b64decode(parts[3], validate=True)
        expected = base64.b64decode(parts[4], validate=True)
    except ValueError:
        raise ValueError("malformed Mosquitto password hash") from None
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, len(expected))
    return hmac.compare_digest(key, expected)


def render_password_file(entries: dict[str, str]) -> str:
    """The password file for ``{username: hash}``, sorted by user name."""
    return "".join(f"{user}:{hashed}\n" for user, hashed in sorted(entries.items()))


def parse_password_file(text: str) -> dict[str, str]:
    """``{username: hash}`` from a password file (blank lines and ``#`` comments skipped)."""
    out: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, hashed = line.partition(":")
        if not sep or not user:
            raise ValueError(f"password file line {number} is not 'user:hash'")
        out[user] = hashed
    return out

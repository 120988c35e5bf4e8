"""Password hashing with argon2id (argon2-cffi's maintained defaults)."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from agent_monitor.errors import InvalidRecordError


@lru_cache(maxsize=1)
def hasher() -> PasswordHasher:
    return PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hasher().hash("not a password of anyone: equalizes timing for unknown users")


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; an unknown user (``None``) costs the same time and fails."""
    try:
        hasher().verify(password_hash if password_hash is not None else _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    return hasher().check_needs_rehash(password_hash)


def check_password_strength(password: str, username: str, min_length: int) -> None:
    """Refuse passwords that are too short or are the username (a one-line error)."""
    if len(password) < min_length:
        raise InvalidRecordError(f"the password must be at least {min_length} characters")
    if password.strip().lower() == username.strip().lower():
        raise InvalidRecordError("the password cannot be the username")

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


#: zxcvbn refuses passwords over 72 characters (and its cost grows quickly with length): a longer
#: password is judged on its first this many characters
ESTIMATE_CHARS = 72
#: what each zxcvbn score means to a user
SCORE_WORDS = (
    "too guessable",
    "very guessable",
    "somewhat guessable",
    "safely unguessable",
    "very unguessable",
)


def check_password_strength(password: str, username: str, min_length: int, min_score: int = 3) -> None:
    """Refuse passwords that are too short, are the username, or that the zxcvbn strength
    estimator scores below ``min_score`` (0-4; 3 = "safely unguessable": about 10^8 guesses
    needed). The message says why and gives zxcvbn's suggestion."""
    from zxcvbn import zxcvbn

    if len(password) < min_length:
        raise InvalidRecordError(f"the password must be at least {min_length} characters")
    if password.strip().lower() == username.strip().lower():
        raise InvalidRecordError("the password cannot be the username")
    result = zxcvbn(password[:ESTIMATE_CHARS], user_inputs=[username])
    score = int(result["score"])
    if score < min_score:
        feedback = result.get("feedback") or {}
        hint = feedback.get("warning") or " ".join(feedback.get("suggestions") or [])
        raise InvalidRecordError(
            f"the password is {SCORE_WORDS[score]} (strength {score} of 4, at least {min_score} needed)"
            + (f": {hint}" if hint else "; use a longer passphrase of uncommon words")
        )

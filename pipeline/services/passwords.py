"""Password rules (length, not composition) and memory-hard hashing with Argon2id."""

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 12
MAX_LENGTH = 128

_hasher = PasswordHasher()


@cache
def _common_passwords() -> frozenset[str]:
    # The 30,000 most common passwords from leaked-password corpora, as shipped with zxcvbn.
    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, email: str = "") -> str | None:
    """Say what is wrong with a new password, or None if it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"Password must be {MIN_LENGTH} characters or more"
    if len(password) > MAX_LENGTH:
        return f"Password must be {MAX_LENGTH} characters or fewer"
    lowered = password.lower()
    if lowered in _common_passwords() or len(set(lowered)) <= 2:
        return "Choose a password that is harder to guess: this one is among the most common passwords"
    if email and lowered in {email.lower(), email.lower().split("@")[0]}:
        return "Choose a password that is not your email address"
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Verifying against this when no account matches keeps the response time the same.
DUMMY_HASH = _hasher.hash("a password for timing when no account exists")

"""Password hashing (argon2id, SECURITY.md 7) and the password policy (SECURITY.md 8)."""
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from intranet.core.i18n import lazy_gettext as _l

MIN_LENGTH = 8
MAX_LENGTH = 128

hasher = PasswordHasher()  # argon2id with the library's current recommended parameters

# Verifying against this keeps a login for an unknown user as slow as for a known one.
_DUMMY_HASH = hasher.hash("timing-equaliser-not-a-password")


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    try:
        return hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher.check_needs_rehash(password_hash)


@cache
def _common() -> frozenset[str]:
    text = resources.files("intranet").joinpath("data/common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


def problems(password: str, username: str = "") -> list:
    """Reasons the password is refused, in the user's language; empty if it is acceptable."""
    found = []
    if len(password) < MIN_LENGTH:
        found.append(_l("Use at least %(n)s characters.", n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        found.append(_l("Use at most %(n)s characters.", n=MAX_LENGTH))
    lowered = password.lower()
    if lowered in _common() or (username and username.lower() in lowered):
        found.append(_l("This password is too common or contains your user name."))
    return found

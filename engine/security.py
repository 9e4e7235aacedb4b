"""Passwords (argon2) and bearer tokens (random, stored as SHA-256)."""
from __future__ import annotations

import hashlib
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 8


def configure(**parameters) -> None:
    """Change argon2's cost (tests lower it; production keeps argon2-cffi's defaults)."""
    global _hasher
    _hasher = PasswordHasher(**parameters)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def password_problems(password: str, username: str | None = None) -> list[str]:
    """等保 complexity (口令复杂度): at least 8 characters from at least three of: lower, upper, digits,
    symbols; and not the username inside it. Returns what is wrong, empty when the password will do."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"at least {MIN_PASSWORD_LENGTH} characters")
    classes = sum(bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"))
    if classes < 3:
        problems.append("characters of at least three kinds (lower case, upper case, digits, symbols)")
    # Names shorter than three letters would forbid half the alphabet and add no safety.
    if username and len(username) >= 3 and username.lower() in password.lower():
        problems.append("must not contain the username")
    return problems


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()

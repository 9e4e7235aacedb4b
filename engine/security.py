"""Passwords (argon2) and bearer tokens (random, stored as SHA-256)."""
from __future__ import annotations

import hashlib
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .texts import text

_hasher = PasswordHasher()
_dummy: tuple[PasswordHasher, str] | None = None
MIN_PASSWORD_LENGTH = 8
# zxcvbn's score: 0 and 1 are guessed in under a million tries (its lists of the commonest
# passwords, words and names, keyboard walks, repeats, sequences, dates); 2 is the least accepted.
MIN_STRENGTH = 2
# Longer passwords are not scored: zxcvbn's time grows with the length and passphrases are fine.
SCORED_LENGTH = 64


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


def verify_nothing(password: str) -> bool:
    """Spend what checking a password costs, for a sign-in whose user does not exist: the answer's
    timing must not tell an unknown username from a wrong password. Always False."""
    global _dummy
    if _dummy is None or _dummy[0] is not _hasher:
        _dummy = (_hasher, _hasher.hash(secrets.token_urlsafe(16)))
    verify_password(_dummy[1], password)
    return False


def password_problems(password: str, username: str | None = None, known: tuple = ()) -> list[str]:
    """等保 complexity (口令复杂度): at least 8 characters from at least three of: lower, upper, digits,
    symbols; not the username inside it; and not among the commonest or easily guessed passwords
    (`known`: more words of this account, such as its display name). Returns what is wrong, in
    Chinese, empty when the password will do."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(text("password.too_short", length=MIN_PASSWORD_LENGTH))
    classes = sum(bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"))
    if classes < 3:
        problems.append(text("password.kinds"))
    # Names shorter than three letters would forbid half the alphabet and add no safety.
    if username and len(username) >= 3 and username.lower() in password.lower():
        problems.append(text("password.username"))
    if not problems:
        problems += _guessable(password, [w for w in (username, *known) if w])
    return problems


def _guessable(password: str, words: list[str]) -> list[str]:
    """zxcvbn (Dropbox's estimator: frequency lists of leaked passwords, words and names, keyboard
    patterns): a well-kept list of the commonest passwords instead of one of our own."""
    if len(password) > SCORED_LENGTH:
        return []
    from zxcvbn import zxcvbn  # here: its dictionaries take 50 ms to load, and only this needs them

    result = zxcvbn(password, user_inputs=[*words, "duban", "督办"])
    if result["score"] >= MIN_STRENGTH:
        return []
    common = any(match.get("dictionary_name") == "passwords" for match in result["sequence"])
    return [text("password.common" if common else "password.guessable")]


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()

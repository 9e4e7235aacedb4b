"""Secrets of connectors (SMTP password, gateway key, webhook URL and 加签 secret), sealed in the database.

Sealed with a key derived from DUBAN_SECRET_KEY, which is not in the database (a stolen backup reads
nothing): HMAC-SHA256 in counter mode as the keystream, then HMAC-SHA256 over nonce and ciphertext
(encrypt-then-MAC), keys for the two apart. Standard library only: no new dependency for a few short
strings. Every machine of an installation shares DUBAN_SECRET_KEY already (sessions need it); changing
it makes the sealed secrets unreadable, and a connector then says so and asks for them again.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os

VERSION = b"d1"
_NONCE = 16
_TAG = 32


class Unreadable(Exception):
    """Raised when sealed text was not sealed under this installation's key (or was changed)."""


def _keys(secret_key: str) -> tuple[bytes, bytes]:
    root = hmac.new(secret_key.encode(), b"duban connector secrets", hashlib.sha256).digest()
    return (hmac.new(root, b"encrypt", hashlib.sha256).digest(),
            hmac.new(root, b"authenticate", hashlib.sha256).digest())


def _stream(key: bytes, nonce: bytes, size: int) -> bytes:
    blocks = (hmac.new(key, nonce + n.to_bytes(8, "big"), hashlib.sha256).digest() for n in range(size // 32 + 1))
    return b"".join(blocks)[:size]


def seal(secret_key: str, values: dict) -> str:
    """The values (a dict of strings) sealed as one printable token."""
    encrypt, authenticate = _keys(secret_key)
    plain = json.dumps(values, ensure_ascii=False, sort_keys=True).encode()
    nonce = os.urandom(_NONCE)
    cipher = bytes(a ^ b for a, b in zip(plain, _stream(encrypt, nonce, len(plain)), strict=True))
    tag = hmac.new(authenticate, VERSION + nonce + cipher, hashlib.sha256).digest()
    return (VERSION + b":" + base64.urlsafe_b64encode(nonce + cipher + tag)).decode()


def unseal(secret_key: str, token: str | None) -> dict:
    """The values sealed in `token` ({} for none); Unreadable if another key sealed it or it was altered."""
    if not token:
        return {}
    version, _, body = token.encode().partition(b":")
    try:
        raw = base64.urlsafe_b64decode(body)
    except ValueError:
        raise Unreadable(token[:8]) from None
    if version != VERSION or len(raw) < _NONCE + _TAG:
        raise Unreadable(token[:8])
    encrypt, authenticate = _keys(secret_key)
    nonce, cipher, tag = raw[:_NONCE], raw[_NONCE:-_TAG], raw[-_TAG:]
    if not hmac.compare_digest(tag, hmac.new(authenticate, version + nonce + cipher, hashlib.sha256).digest()):
        raise Unreadable(token[:8])
    plain = bytes(a ^ b for a, b in zip(cipher, _stream(encrypt, nonce, len(cipher)), strict=True))
    return json.loads(plain)

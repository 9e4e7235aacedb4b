"""Secrets of connectors (SMTP password, gateway key, webhook URL and 加签 secret), sealed in the database.

Sealed with AES-256-GCM (the `cryptography` package) under a key derived by HKDF-SHA256 from
DUBAN_SECRET_KEY, which is not in the database (a stolen backup reads nothing); the version prefix is
authenticated with the text. Every machine of an installation shares DUBAN_SECRET_KEY already (sessions
need it); changing it makes the sealed secrets unreadable, and a connector then says so and asks for them
again, as it does for text sealed by an earlier version of this module.
"""
from __future__ import annotations

import base64
import binascii
import json
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = "d2"
_NONCE = 12  # GCM's standard nonce, random per sealing
_TAG = 16


class Unreadable(Exception):
    """Raised when sealed text was not sealed under this installation's key (or was changed)."""


@lru_cache(maxsize=8)
def _cipher(secret_key: str) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"duban connector secrets").derive(secret_key.encode())
    return AESGCM(key)


def seal(secret_key: str, values: dict) -> str:
    """The values (a dict of strings) sealed as one printable token."""
    plain = json.dumps(values, ensure_ascii=False, sort_keys=True).encode()
    nonce = os.urandom(_NONCE)
    sealed = _cipher(secret_key).encrypt(nonce, plain, VERSION.encode())
    return f"{VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def unseal(secret_key: str, token: str | None) -> dict:
    """The values sealed in `token` ({} for none); Unreadable if another key sealed it or it was altered."""
    if not token:
        return {}
    version, _, body = token.partition(":")
    try:
        raw = base64.urlsafe_b64decode(body.encode())
    except (ValueError, binascii.Error):
        raise Unreadable(token[:8]) from None
    if version != VERSION or len(raw) < _NONCE + _TAG:
        raise Unreadable(token[:8])
    try:
        plain = _cipher(secret_key).decrypt(raw[:_NONCE], raw[_NONCE:], VERSION.encode())
    except InvalidTag:
        raise Unreadable(token[:8]) from None
    return json.loads(plain)

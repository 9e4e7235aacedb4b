"""What every machine of one installation must agree on, checked where they all meet: the database.

The secret key signs session cookies and (unless DUBAN_AUDIT_KEY is set) keys the audit chain. A
machine without DUBAN_SECRET_KEY generates its own into var/secret_key; a second machine doing the
same on the same database would sign cookies the first rejects (a person is signed out whenever the
load balancer sends them elsewhere) and seal audit records under another key (the chain breaks).
The key itself is not put in the database, so that whoever can read or write it cannot forge
sessions or re-seal audit records: only its fingerprint is, and a node whose generated key does
not match it refuses to start. A key set in DUBAN_SECRET_KEY is the operator's word: it takes
over (a rotation, or moving off a generated key), with a warning. One-shot commands (`duban deploy`,
`duban user ...`) write audit records too: they are refused the same way, without registering a key.
"""
from __future__ import annotations

import hashlib
import hmac
import logging

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError, ProgrammingError

from .db import dialect_insert
from .errors import Conflict
from .models import InstallationSetting
from .texts import text

log = logging.getLogger(__name__)

SECRET_KEY_CHECK = "secret_key_check"


def key_fingerprint(secret_key: str) -> str:
    """Names the key without revealing it (nor the audit key derived from it, under another label)."""
    return hmac.new(secret_key.encode(), b"duban secret key check", hashlib.sha256).hexdigest()


def claim_secret_key(duban) -> None:
    """At the start of a web, worker or scheduler node: this node's secret key is the installation's,
    or the node refuses to start (Conflict, with what to do)."""
    settings, now = duban.settings, duban.clock.now()
    mine = key_fingerprint(settings.secret_key)
    with duban.db.transaction() as session:
        insert = dialect_insert(session)
        session.execute(insert(InstallationSetting.__table__)
                        .values(name=SECRET_KEY_CHECK, value=mine, updated_at=now)
                        .on_conflict_do_nothing(index_elements=["name"]))
        known = session.scalar(select(InstallationSetting.value).where(InstallationSetting.name == SECRET_KEY_CHECK))
        if known == mine:
            return
        if settings.secret_key_generated:
            raise Conflict(text("installation.key_not_shared", path=str(settings.var_dir / "secret_key")))
        session.execute(update(InstallationSetting).where(InstallationSetting.name == SECRET_KEY_CHECK)
                        .values(value=mine, updated_at=now))
    log.warning("DUBAN_SECRET_KEY differs from the key this database's nodes used until now: it takes over; "
                "sessions signed with the old key end, and every node must now use this one")


def check_secret_key(duban) -> None:
    """Before a one-shot command: this machine's generated key is refused when the installation knows
    another one (Conflict). Registers nothing; an explicit DUBAN_SECRET_KEY is not questioned."""
    settings = duban.settings
    if not settings.secret_key_generated:
        return
    try:
        with duban.db.reading() as session:
            known = session.scalar(select(InstallationSetting.value)
                                   .where(InstallationSetting.name == SECRET_KEY_CHECK))
    except (OperationalError, ProgrammingError):  # no table yet: before `duban db upgrade` made it
        return
    if known is not None and known != key_fingerprint(settings.secret_key):
        raise Conflict(text("installation.key_not_shared", path=str(settings.var_dir / "secret_key")))

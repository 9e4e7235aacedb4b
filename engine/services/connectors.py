"""Built-in connectors (内置连接器), configured by system administrators, not in diagrams: the
installation's notification channels (站内通知 always; e-mail, an SMS gateway, 企业微信/钉钉/政务钉钉
group robots) and HTTP endpoints a diagram may call. Diagrams name them; engine/services/
connector_tasks.py runs the service tasks that do.

Secrets (the SMTP password, the gateway's key, a robot's webhook URL and 加签 secret, an endpoint's
credential) are write-only: sealed under a key derived from DUBAN_SECRET_KEY (engine/connectors/
sealing.py), never shown back; views say only which are set. 发送测试消息 is asked here and sent by a
worker (never inside the request): the scheduler hands it out, as it does e-mail.
"""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import or_, select, update

from ..access import Actor, may_configure_connectors
from ..connectors import guarded_http, sealing, senders
from ..domain.roles import ROLES, SYSTEM_ADMINS
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..models import Connector, User
from ..texts import text
from . import audit

INAPP = "inapp"  # 站内通知: always there, nothing to configure
KINDS = ("email", "sms", "wecom", "dingtalk", "zwdingtalk", "http")
CHANNELS = (INAPP, *KINDS[:-1])
SECRETS = {"email": ("password",), "sms": ("key",), "wecom": ("url",), "dingtalk": ("url", "sign_secret"),
           "zwdingtalk": ("url", "sign_secret"), "http": ("auth_value",)}
# name: (type, default); strings are cut at 2,000 characters.
SETTINGS = {
    "email": {"host": (str, ""), "port": (int, 25), "sender": (str, "duban@localhost"), "username": (str, ""),
              "security": (str, "none"), "timeout_s": (float, 10.0)},
    "sms": {"url": (str, ""), "method": (str, "POST"), "content_type": (str, "json"),
            "body": (str, '{"phone": "{phone}", "message": "{message}"}'), "key_header": (str, ""),
            "allow_private": (bool, False), "timeout_s": (float, 10.0)},
    "wecom": {"allow_private": (bool, False), "timeout_s": (float, 10.0)},
    "http": {"base_url": (str, ""), "hosts": (list, []), "auth_header": (str, "Authorization"),
             "allow_private": (bool, False), "timeout_s": (float, 10.0), "max_bytes": (int, 1_000_000)},
}
SETTINGS["dingtalk"] = SETTINGS["zwdingtalk"] = SETTINGS["wecom"]
CHOICES = {"security": ("none", "starttls", "ssl"), "method": ("POST", "GET", "PUT", "PATCH", "DELETE"),
           "content_type": ("json", "form")}
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
MAX_TIMEOUT_S, MAX_BYTES = 120.0, 20_000_000


def require_admin(actor: Actor) -> None:
    if not may_configure_connectors(actor):
        raise Forbidden(text("users.only", roles=ROLES[SYSTEM_ADMINS[0]], what=text("connector.what")))


# -- reading ---------------------------------------------------------------------------------------

def list_connectors(duban, actor: Actor) -> list[dict]:
    require_admin(actor)
    with duban.db.reading() as session:
        return [view(row) for row in session.scalars(select(Connector).order_by(Connector.kind, Connector.name))]


def get_connector(duban, actor: Actor, name: str) -> dict:
    require_admin(actor)
    with duban.db.reading() as session:
        return view(_row(session, name))


def view(row: Connector) -> dict:
    """What an administrator reads: never a secret, only whether each is set."""
    shown = dict(row.settings or {})
    return {"name": row.name, "kind": row.kind, "kind_name": text(f"connector.kind.{row.kind}"), "title": row.title,
            "enabled": row.enabled, "settings": shown, "secrets_set": sorted(shown.pop("_secrets_set", [])),
            "host": shown.pop("_host", None), "updated_at": row.updated_at, "updated_by": row.updated_by,
            "test": {"state": row.test_state, "to": row.test_to, "at": row.test_at, "message": row.test_message,
                     "state_name": text(f"connector.test.{row.test_state}") if row.test_state else None}}


def _row(session, name: str) -> Connector:
    row = session.get(Connector, name)
    if row is None:
        raise NotFound(text("connector.not_found", name=name))
    return row


# -- writing ---------------------------------------------------------------------------------------

def create(duban, actor: Actor, body: dict, ip: str | None = None) -> dict:
    require_admin(actor)
    name, kind = str(body.get("name") or "").strip(), body.get("kind")
    if not _NAME.match(name) or name == INAPP:
        raise _invalid("name", text("connector.bad_name"))
    if kind not in KINDS:
        raise _invalid("kind", text("field.one_of", choices="、".join(KINDS)))
    with duban.db.transaction() as session:
        if session.get(Connector, name) is not None:
            raise Conflict(text("connector.exists", name=name))
        row = Connector(name=name, kind=kind, title="", settings={}, sealed=None, enabled=True,
                        updated_at=duban.clock.now(), updated_by=actor.username)
        changed = _apply(duban, row, body)
        session.add(row)
        audit.append(session, actor.username, "connector.create", name, {"kind": kind, **changed}, ip,
                     at=duban.clock.now())
        return view(row)


def update_connector(duban, actor: Actor, name: str, body: dict, ip: str | None = None) -> dict:
    require_admin(actor)
    with duban.db.transaction() as session:
        row = _row(session, name)
        changed = _apply(duban, row, body)
        row.updated_at, row.updated_by = duban.clock.now(), actor.username
        audit.append(session, actor.username, "connector.update", name, changed, ip, at=duban.clock.now())
        return view(row)


def delete(duban, actor: Actor, name: str, ip: str | None = None) -> None:
    require_admin(actor)
    with duban.db.transaction() as session:
        session.delete(_row(session, name))
        audit.append(session, actor.username, "connector.delete", name, None, ip, at=duban.clock.now())


def _apply(duban, row: Connector, body: dict) -> dict:
    """Merge the body's title, enabled, settings and secrets into the row; what changed, secrets by name only."""
    changed = {}
    if "title" in body:
        row.title = str(body["title"] or "")[:200]
        changed["title"] = row.title
    if "enabled" in body:
        row.enabled = bool(body["enabled"])
        changed["enabled"] = row.enabled
    settings = {k: v for k, v in (row.settings or {}).items() if not k.startswith("_")}
    for key, value in (body.get("settings") or {}).items():
        settings[key] = _setting(row.kind, key, value)
        changed.setdefault("settings", []).append(key)
    for key, (_kind, default) in SETTINGS[row.kind].items():
        settings.setdefault(key, default)
    secrets = unsealed(duban, row, tolerant=True)
    for key, value in (body.get("secrets") or {}).items():
        if key not in SECRETS[row.kind]:
            raise _invalid(f"secrets.{key}", text("field.one_of", choices="、".join(SECRETS[row.kind])))
        if value in (None, ""):
            secrets.pop(key, None)
        else:
            secrets[key] = str(value)[:2000]
        changed.setdefault("secrets", []).append(key)
    _check(row.kind, settings, secrets)
    row.sealed = sealing.seal(duban.settings.secret_key, secrets) if secrets else None
    settings["_secrets_set"] = sorted(secrets)
    settings["_host"] = _host_of(row.kind, settings, secrets)
    row.settings = settings
    return changed


def _setting(kind: str, key: str, value):
    if key not in SETTINGS[kind]:
        raise _invalid(f"settings.{key}", text("field.one_of", choices="、".join(SETTINGS[kind])))
    wanted = SETTINGS[kind][key][0]
    try:
        if wanted is bool:
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "on", "yes")
        if wanted is list:
            items = value if isinstance(value, list) else re.split(r"[\s,，]+", str(value or ""))
            return [str(v).strip().lower()[:253] for v in items if str(v).strip()][:50]
        if wanted is str:
            value = str(value if value is not None else "")[:2000].strip()
            if key in CHOICES and value not in CHOICES[key]:
                raise ValueError
            return value
        number = wanted(value)
    except (TypeError, ValueError):
        raise _invalid(f"settings.{key}", text("connector.bad_setting", key=key)) from None
    limit = MAX_TIMEOUT_S if key == "timeout_s" else MAX_BYTES if key == "max_bytes" else 65535
    if not 0 < number <= limit:
        raise _invalid(f"settings.{key}", text("connector.bad_setting", key=key))
    return number


def _check(kind: str, settings: dict, secrets: dict) -> None:
    """What a connector needs before it can send: its address, as a URL of the right kind."""
    if kind == "email" and not settings.get("host"):
        raise _invalid("settings.host", text("field.required"))
    urls = {"sms": ("settings.url", settings.get("url")), "http": ("settings.base_url", settings.get("base_url"))}
    urls.update({robot: ("secrets.url", secrets.get("url")) for robot in senders.ROBOTS})
    if kind in urls:
        field, url = urls[kind]
        parts = urlsplit(url or "")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _invalid(field, text("connector.bad_url", url=guarded_http._shown(url or "")))


def _host_of(kind: str, settings: dict, secrets: dict) -> str | None:
    url = secrets.get("url") if kind in senders.ROBOTS else settings.get("url") or settings.get("base_url")
    return urlsplit(url).hostname if url else settings.get("host") or None


def unsealed(duban, row: Connector, tolerant: bool = False) -> dict:
    try:
        return sealing.unseal(duban.settings.secret_key, row.sealed)
    except sealing.Unreadable:
        if tolerant:
            return {}  # a key changed since: the administrator sets the secrets again
        raise guarded_http.Refused(text("connector.secret_unreadable", name=row.name)) from None


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, [{"field": field, "message": message}])


# -- 发送测试消息 -------------------------------------------------------------------------------------

def request_test(duban, actor: Actor, name: str, to: str | None = None, ip: str | None = None) -> dict:
    """Ask a worker to send a test message through the connector (to `to`, or for e-mail the asker)."""
    require_admin(actor)
    with duban.db.transaction() as session:
        row = _row(session, name)
        if not to and row.kind == "email":
            to = session.scalar(select(User.email).where(User.id == actor.id))
        if row.kind in ("email", "sms") and not (to or "").strip():
            raise _invalid("to", text("connector.test_to_required"))
        row.test_state, row.test_to, row.test_by = "pending", (to or "").strip()[:255] or None, actor.username
        row.test_at, row.test_message = duban.clock.now(), None
        audit.append(session, actor.username, "connector.test", name, {"to": row.test_to}, ip, at=duban.clock.now())
        return view(row)


def send_test_now(duban, actor: Actor, name: str, to: str | None = None) -> dict:
    """`duban connector test`: ask for the test and send it in this process (an operator's command, not a
    web request); the connector with its outcome."""
    request_test(duban, actor, name, to)
    with duban.db.transaction() as session:
        session.execute(update(Connector).where(Connector.name == name, Connector.test_state == "pending")
                        .values(test_state="sending", test_at=duban.clock.now()))
    run_test(duban, name)
    return get_connector(duban, actor, name)


def dispatch_tests(duban) -> list[str]:
    """Connectors whose test is asked (or was taken and not finished within the lease), for the workers."""
    now = duban.clock.now()
    stale = now - timedelta(seconds=duban.settings.timer_lease_s)
    with duban.db.reading() as session:  # most sweeps find none: no write transaction for them
        if session.scalar(select(Connector.name).where(Connector.test_state.in_(("pending", "sending"))).limit(1)) \
                is None:
            return []
    with duban.db.transaction() as session:
        names = list(session.scalars(select(Connector.name).where(or_(
            Connector.test_state == "pending", (Connector.test_state == "sending") & (Connector.test_at < stale)))))
        if names:
            session.execute(update(Connector).where(Connector.name.in_(names))
                            .values(test_state="sending", test_at=now))
        return names


def run_test(duban, name: str) -> bool:
    """Send the test message of a connector a worker was handed; its outcome is kept on the connector."""
    with duban.db.reading() as session:
        row = session.get(Connector, name)
        if row is None or row.test_state != "sending":
            return False
        kind, settings, to, by = row.kind, dict(row.settings), row.test_to, row.test_by
        secrets = None
        try:
            secrets = unsealed(duban, row)
        except guarded_http.Refused as refused:
            outcome = ("failed", refused.message)
    if secrets is not None:
        outcome = _send_test(duban, kind, settings, secrets, to, by, name)
    with duban.db.transaction() as session:
        session.execute(update(Connector).where(Connector.name == name, Connector.test_state == "sending")
                        .values(test_state=outcome[0], test_message=outcome[1][:500], test_at=duban.clock.now()))
    return outcome[0] == "ok"


def _send_test(duban, kind, settings, secrets, to, by, name) -> tuple[str, str]:
    message = text("connector.test_body", name=name, by=by or "")
    key = f"test:{name}:{duban.clock.now().isoformat()}"
    try:
        if kind == "email":
            senders.send_mail(settings, secrets, to, text("connector.test_subject"), message)
        elif kind == "sms":
            senders.send_sms(settings, secrets, to, message, key)
        elif kind in senders.ROBOTS:
            senders.send_robot(kind, settings, secrets, message, key)
        else:
            answer = senders.call(settings, secrets, "GET", "", None, key)
            return "ok", text("connector.test_http_ok", status=answer["status"])
    except (guarded_http.Refused, guarded_http.Failed) as failure:
        return "failed", failure.message
    return "ok", text("connector.test_sent", to=to or text(f"connector.kind.{kind}"))

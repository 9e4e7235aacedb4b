"""How each kind of connector sends: e-mail over SMTP, an SMS gateway over HTTP, the group robots of
企业微信, 钉钉 and 政务钉钉 over their webhooks, and a call to an administrator's HTTP endpoint.

Each function does one exchange and says how it went by raising: `Refused` (no retry can help: the
configuration or the request is wrong), `Failed` (a later attempt may work). Nothing here touches the
database; engine/services/connectors.py decides what to send and records what was sent.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import smtplib
import ssl
import time
from email.message import EmailMessage
from urllib.parse import quote_plus, urlsplit

from ..texts import text
from .guarded_http import Failed, Policy, Refused, request

ROBOTS = ("wecom", "dingtalk", "zwdingtalk")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_\u3400-\u9fff][A-Za-z0-9_\u3400-\u9fff]*(?:\.[A-Za-z0-9_\u3400-\u9fff]+)*)\}")


def render(template: str, values: dict, escape=None) -> str:
    """`{name}` and `{name.field}` replaced by the values (missing ones by nothing); nothing else is
    evaluated (no attribute access, no format specifications), whatever the designer wrote."""
    def one(found):
        value = lookup(values, found.group(1))
        shown = "" if value is None else value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        return escape(shown) if escape else shown
    return _PLACEHOLDER.sub(one, template or "")


def lookup(values, path: str):
    for part in path.split("."):
        if isinstance(values, dict):
            values = values.get(part)
        elif isinstance(values, list) and part.isdigit() and int(part) < len(values):
            values = values[int(part)]
        else:
            return None
    return values


def json_text(value: str) -> str:
    """A value put inside a JSON string of a template: escaped, without its quotes."""
    return json.dumps(value, ensure_ascii=False)[1:-1]


def policy_for(url: str, settings: dict, extra_hosts=()) -> Policy:
    host = (urlsplit(url).hostname or "").lower()
    return Policy(hosts=frozenset({host, *(h.lower() for h in extra_hosts)}),
                  allow_private=bool(settings.get("allow_private")),
                  timeout_s=float(settings.get("timeout_s") or 10),
                  max_bytes=int(settings.get("max_bytes") or 1_000_000))


# -- e-mail -------------------------------------------------------------------------------------

def send_mail(settings: dict, secrets: dict, to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.get("sender") or "duban@localhost", to, subject
    message.set_content(body)
    security, timeout = settings.get("security") or "none", float(settings.get("timeout_s") or 10)
    host, port = settings.get("host"), int(settings.get("port") or (465 if security == "ssl" else 25))
    try:
        smtp_class = smtplib.SMTP_SSL if security == "ssl" else smtplib.SMTP
        with smtp_class(host, port, timeout=timeout) as smtp:
            if security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if settings.get("username"):
                smtp.login(settings["username"], secrets.get("password") or "")
            smtp.send_message(message)
    except smtplib.SMTPAuthenticationError as error:
        raise Refused(text("connector.smtp_auth", reason=_reason(error))) from None
    except smtplib.SMTPRecipientsRefused:
        raise Refused(text("connector.smtp_recipient", to=to)) from None
    except (OSError, smtplib.SMTPException) as error:
        raise Failed(text("connector.smtp_failed", host=host, reason=_reason(error))) from None


# -- SMS gateway ----------------------------------------------------------------------------------

def send_sms(settings: dict, secrets: dict, phone: str, message: str, key: str) -> None:
    """One message to one number through the gateway: its body from the administrator's template
    (`{phone}`, `{message}`, `{key}`), its key in a header when the template does not carry it."""
    url = settings.get("url") or ""
    as_json = (settings.get("content_type") or "json") == "json"
    values = {"phone": phone, "message": message, "key": secrets.get("key") or ""}
    body = render(settings.get("body") or '{"phone": "{phone}", "message": "{message}"}', values,
                  json_text if as_json else quote_plus)
    headers = {"Content-Type": "application/json; charset=utf-8" if as_json else
               "application/x-www-form-urlencoded; charset=utf-8", "Idempotency-Key": key}
    if settings.get("key_header") and secrets.get("key"):
        headers[settings["key_header"]] = secrets["key"]
    answer = request(settings.get("method") or "POST", url, policy_for(url, settings), body.encode(), headers)
    _check_status(answer)


# -- group robots -----------------------------------------------------------------------------------

def send_robot(kind: str, settings: dict, secrets: dict, message: str, key: str, now_ms: int | None = None) -> None:
    """A text message to a group robot: `{"msgtype":"text","text":{"content":…}}` (企业微信 and 钉钉 alike);
    钉钉's 加签 robots also get `timestamp` and `sign` in the query. Sent when the robot answers errcode 0."""
    url = secrets.get("url") or ""
    if kind in ("dingtalk", "zwdingtalk") and secrets.get("sign_secret"):
        url = signed_url(url, secrets["sign_secret"], now_ms if now_ms is not None else int(time.time() * 1000))
    body = json.dumps({"msgtype": "text", "text": {"content": message}}, ensure_ascii=False).encode()
    answer = request("POST", url, policy_for(url, settings), body,
                     {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": key})
    _check_status(answer)
    try:
        reply = json.loads(answer.body or b"{}")
    except ValueError:
        raise Failed(text("connector.robot_reply", reply=answer.body[:200].decode(errors="replace"))) from None
    if isinstance(reply, dict) and reply.get("errcode", 0) not in (0, "0"):
        raise Failed(text("connector.robot_refused", code=reply.get("errcode"), reason=reply.get("errmsg") or ""))


def dingtalk_sign(secret: str, now_ms: int) -> str:
    """钉钉's 加签: Base64 of HMAC-SHA256 over "timestamp\\nsecret", keyed by the secret (then URL-encoded)."""
    digest = hmac.new(secret.encode(), f"{now_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed_url(url: str, secret: str, now_ms: int) -> str:
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}timestamp={now_ms}&sign={quote_plus(dingtalk_sign(secret, now_ms))}"


# -- HTTP endpoints ---------------------------------------------------------------------------------

def call(settings: dict, secrets: dict, method: str, path: str, body: str | None, key: str) -> dict:
    """Call the endpoint; its answer as {"status", "body"} (JSON parsed when it is JSON)."""
    base = (settings.get("base_url") or "").rstrip("/")
    url = base + ("/" + path.lstrip("/") if path else "")
    if urlsplit(url).hostname != urlsplit(base).hostname:
        raise Refused(text("connector.host_not_allowed", host=urlsplit(url).hostname or ""))
    headers = {"Accept": "application/json", "Idempotency-Key": key}
    if body is not None:
        headers["Content-Type"] = "application/json; charset=utf-8"
    if settings.get("auth_header") and secrets.get("auth_value"):
        headers[settings["auth_header"]] = secrets["auth_value"]
    policy = policy_for(base, settings, settings.get("hosts") or ())
    answer = request(method, url, policy, body.encode() if body is not None else None, headers)
    _check_status(answer)
    content = answer.body.decode("utf-8", errors="replace")
    if "json" in answer.headers.get("content-type", ""):
        try:
            return {"status": answer.status, "body": json.loads(content)}
        except ValueError:
            pass
    return {"status": answer.status, "body": content[:100_000]}


def _check_status(answer) -> None:
    if 200 <= answer.status < 300:
        return
    reason = answer.body[:200].decode("utf-8", errors="replace")
    if answer.status in (408, 425, 429) or answer.status >= 500:
        raise Failed(text("connector.http_status", status=answer.status, reason=reason))
    raise Refused(text("connector.http_status", status=answer.status, reason=reason))


def _reason(error) -> str:
    return (str(error) or type(error).__name__)[:200]

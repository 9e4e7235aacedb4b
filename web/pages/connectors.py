"""连接器 (system administrators): the installation's notification channels and HTTP endpoints, their
secrets entered but never shown, 发送测试消息 (sent by a worker; the page shows its outcome)."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for

from engine.errors import DubanError
from engine.services import connectors
from engine.texts import text

from .common import current_actor, duban

# Per kind: (key, label, input type, hint); secrets are entered, never filled in.
FIELDS = {
    "email": [("host", "SMTP 服务器", "text", "如 smtp.example.gov.cn"), ("port", "端口", "number", "25、465 或 587"),
              ("security", "加密方式", "select", ""), ("sender", "发件人", "text", "如 duban@example.gov.cn"),
              ("username", "登录用户名", "text", "不需要登录时留空"), ("timeout_s", "超时（秒）", "number", "默认 10")],
    "sms": [("url", "网关地址", "url", "https://"), ("method", "请求方法", "select", ""),
            ("content_type", "请求格式", "select", ""),
            ("body", "请求体模板", "textarea", "可用 {phone}、{message}、{key}"),
            ("key_header", "密钥所在请求头", "text", "如 X-Api-Key；密钥写在模板中时留空"),
            ("allow_private", "允许内网地址", "checkbox", ""), ("timeout_s", "超时（秒）", "number", "默认 10")],
    "robot": [("allow_private", "允许内网地址", "checkbox", ""), ("timeout_s", "超时（秒）", "number", "默认 10")],
    "http": [("base_url", "接口地址", "url", "https://api.example.gov.cn/v1"),
             ("hosts", "另外允许的主机", "text", "以空格或逗号分隔；通常留空"),
             ("auth_header", "凭据所在请求头", "text", "如 Authorization"),
             ("allow_private", "允许内网地址", "checkbox", ""), ("timeout_s", "超时（秒）", "number", "默认 10"),
             ("max_bytes", "应答上限（字节）", "number", "")],
}
SECRET_FIELDS = {"email": [("password", "登录密码")], "sms": [("key", "网关密钥")],
                 "robot": [("url", "Webhook 地址（含 key 或 access_token）"),
                           ("sign_secret", "加签密钥（钉钉，可选）")],
                 "http": [("auth_value", "凭据（如 Bearer …）")]}
SECRET_NAMES = {"password": "登录密码", "key": "网关密钥", "url": "Webhook 地址", "sign_secret": "加签密钥",
                "auth_value": "凭据"}
CHOICES = {"security": {"none": "不加密", "starttls": "STARTTLS", "ssl": "SSL/TLS"},
           "method": {m: m for m in connectors.CHOICES["method"]}, "content_type": {"json": "JSON", "form": "表单"}}
DONE = {"update": "已保存", "enable": "已启用", "disable": "已停用", "delete": "已删除",
        "test": "已请求发送测试消息，稍候刷新查看结果"}


def routes(bp) -> None:
    bp.add_url_rule("/admin/connectors", "connectors", connector_list)
    bp.add_url_rule("/admin/connectors", "new_connector", new_connector, methods=["POST"])
    bp.add_url_rule("/admin/connectors/<name>", "connector_action", connector_action, methods=["POST"])


def group(kind: str) -> str:
    return "robot" if kind in ("wecom", "dingtalk", "zwdingtalk") else kind


def connector_list(error: str | None = None, typed: dict | None = None):
    actor = current_actor()
    rows = connectors.list_connectors(duban(), actor)
    kinds = {kind: text(f"connector.kind.{kind}") for kind in connectors.KINDS}
    return render_template("connectors.html", connectors=rows, kinds=kinds, fields=FIELDS, secret_fields=SECRET_FIELDS,
                           choices=CHOICES, group=group, secret_names=SECRET_NAMES, typed=typed or {},
                           inapp=text("connector.kind.inapp"),
                           error=error or request.args.get("error"), message=request.args.get("done")), \
        422 if error else 200


def _body(kind: str, form) -> dict:
    settings, secrets = {}, {}
    for key, _label, kind_of, _hint in FIELDS[group(kind)]:
        settings[key] = form.get(key) == "on" if kind_of == "checkbox" else form.get(key, "")
    settings = {k: v for k, v in settings.items() if v != ""}
    for key, _label in SECRET_FIELDS[group(kind)]:
        if form.get(f"secret_{key}"):
            secrets[key] = form[f"secret_{key}"]
        if form.get(f"clear_{key}") == "on":
            secrets[key] = None
    return {"title": form.get("title", ""), "settings": settings, "secrets": secrets}


def new_connector():
    actor = current_actor()
    kind = request.form.get("kind", "")
    name = request.form.get("name", "").strip()
    try:
        body = _body(kind, request.form) if kind in connectors.KINDS else {}
        connectors.create(duban(), actor, {"name": name, "kind": kind, **body}, ip=request.remote_addr)
    except DubanError as failure:
        if getattr(failure, "code", "") in ("forbidden", "unauthenticated"):
            raise
        typed = {k: v for k, v in request.form.items() if not k.startswith("secret_") and k != "csrf_token"}
        return connector_list(error=f"未能创建连接器 {name}：{failure.message}", typed=typed)
    return redirect(url_for("pages.connectors", done=f"{name}：已创建"))


def connector_action(name):
    actor = current_actor()
    action = request.form.get("action", "update")
    try:
        if action == "delete":
            connectors.delete(duban(), actor, name, ip=request.remote_addr)
        elif action == "test":
            connectors.request_test(duban(), actor, name, request.form.get("to") or None, ip=request.remote_addr)
        elif action in ("enable", "disable"):
            connectors.update_connector(duban(), actor, name, {"enabled": action == "enable"}, ip=request.remote_addr)
        else:
            action = "update"
            kind = connectors.get_connector(duban(), actor, name)["kind"]
            connectors.update_connector(duban(), actor, name, _body(kind, request.form), ip=request.remote_addr)
    except DubanError as error:
        if getattr(error, "code", "") in ("forbidden", "unauthenticated", "not_found"):
            raise
        return redirect(url_for("pages.connectors", error=f"{name}：{error.message}"))
    return redirect(url_for("pages.connectors", done=f"{name}：{DONE[action]}"))

"""三员分立 pages: the audit log (安全审计员), users and roles (安全管理员), one's own password."""
from __future__ import annotations

from flask import g, redirect, render_template, request, url_for

from engine.domain.roles import ROLES, SECADMIN
from engine.errors import DubanError, InvalidInput
from engine.services import audit, users

from ..auth import current_token
from .common import current_actor, duban


def routes(bp) -> None:
    bp.add_url_rule("/audit", "audit", audit_log)
    bp.add_url_rule("/admin/users", "users", user_list)
    bp.add_url_rule("/admin/users/<username>", "user_action", user_action, methods=["POST"])
    bp.add_url_rule("/account/password", "password", own_password, methods=["GET", "POST"])


def audit_log():
    actor = current_actor()
    filters = {key: request.args.get(key) or None for key in ("actor", "action", "target")}
    page = max(request.args.get("page", 1, type=int), 1)
    rows, total = audit.list_records(duban(), actor, page, 100, filters, ip=request.remote_addr)
    return render_template("audit.html", records=rows, total=total, page=page, filters=filters,
                           chain=audit.report(duban(), actor, ip=request.remote_addr))


def user_list():
    actor = current_actor()
    rows, total = users.list_users(duban(), actor, 1, 500)
    return render_template("users.html", users=rows, total=total, roles=ROLES, message=request.args.get("done"),
                           error=request.args.get("error"), three_admins=users.THREE_ADMINS)


ACTIONS = {
    "grant": lambda actor, name, form: users.grant_role(duban(), actor, name, form.get("role", ""), ip=request.remote_addr),
    "revoke": lambda actor, name, form: users.revoke_role(duban(), actor, name, form.get("role", ""), ip=request.remote_addr),
    "unlock": lambda actor, name, form: users.unlock_user(duban(), actor, name, ip=request.remote_addr),
    "password": lambda actor, name, form: users.set_password(duban(), actor, name, form.get("password", ""),
                                                             ip=request.remote_addr),
}
DONE = {"grant": "已授予角色", "revoke": "已撤销角色", "unlock": "已解锁", "password": "已重置口令"}


def user_action(username):
    actor = current_actor()
    action = request.form.get("action")
    if action not in ACTIONS:
        raise InvalidInput("unknown action", [{"field": "action", "message": "unknown"}])
    try:
        ACTIONS[action](actor, username, request.form)
    except DubanError as error:
        # Someone who may not manage users gets the 403 page; the security administrator reads why
        # an action was refused (三员分立, weak password, ...) above the list.
        if not actor.has(SECADMIN) or getattr(error, "code", "") == "unauthenticated":
            raise
        return redirect(url_for("pages.users", error=f"{username}：{error.message}"))
    return redirect(url_for("pages.users", done=f"{username}：{DONE[action]}"))


def own_password():
    actor = current_actor()
    errors, done = {}, False
    if request.method == "POST":
        if request.form.get("new_password") != request.form.get("confirm"):
            errors["confirm"] = "两次输入的新口令不一致"
        else:
            try:
                users.change_own_password(duban(), actor, request.form.get("old_password", ""),
                                          request.form.get("new_password", ""), ip=request.remote_addr,
                                          keep_token=current_token())
                done = True
            except InvalidInput as error:
                errors = {d.get("field"): d.get("message") for d in error.details} or {None: error.message}
    required = bool(g.get("password_change_required")) and not done
    return render_template("password.html", errors=errors, done=done, required=required), 422 if errors else 200

"""三员分立 pages: the audit log (安全审计员), users and roles (安全管理员), accounts, units and their
import (系统管理员), one's own password."""
from __future__ import annotations

import io
from datetime import date

from flask import g, redirect, render_template, request, send_file, url_for

from engine import services
from engine.errors import DubanError, InvalidInput
from engine.services import (
    CHINA,
    ROLES,
    SECADMIN,
    SYSTEM_ADMINS,
    XLSX,
    accounts,
    audit,
    audit_export,
    org,
    user_import,
    users,
)
from engine.texts import text

from ..auth import current_token
from .common import current_actor, duban, field_errors, page_number


def routes(bp) -> None:
    bp.add_url_rule("/audit", "audit", audit_log)
    bp.add_url_rule("/audit/export", "audit_export", audit_download)
    bp.add_url_rule("/admin/users", "users", user_list)
    bp.add_url_rule("/admin/users", "new_user", new_user, methods=["POST"])
    bp.add_url_rule("/admin/users/<username>", "user_action", user_action, methods=["POST"])
    bp.add_url_rule("/admin/users/<username>/tasks", "user_tasks", user_tasks, methods=["GET", "POST"])
    bp.add_url_rule("/admin/units", "units", unit_list)
    bp.add_url_rule("/admin/units", "new_unit", new_unit, methods=["POST"])
    bp.add_url_rule("/admin/units/<unit_id>", "unit_action", unit_action, methods=["POST"])
    bp.add_url_rule("/admin/import", "import_people", import_people, methods=["GET", "POST"])
    bp.add_url_rule("/admin/import/template.xlsx", "import_template", import_template)
    bp.add_url_rule("/account/password", "password", own_password, methods=["GET", "POST"])


AUDIT_FILTERS = ("actor", "action", "target", "from", "to")


def audit_log():
    actor = current_actor()
    page = page_number()
    try:
        filters, shown = _audit_filters()
    except InvalidInput as error:  # a reversed date range: the form comes back saying so
        audit.require_auditor(actor)
        return _audit_page(actor, [], 0, 1, {key: request.args.get(key) for key in AUDIT_FILTERS}, error.message), 422
    rows, total = audit.list_records(duban(), actor, page, 100, filters, ip=request.remote_addr)
    return _audit_page(actor, rows, total, page, shown)


def _audit_page(actor, rows, total, page, shown, error=None):
    return render_template("audit.html", records=rows, total=total, page=page, filters=shown, error=error,
                           actions=audit.action_names(), chain=audit.report(duban(), actor, ip=request.remote_addr))


def audit_download():
    """The records the page's filters select, as .xlsx (or .csv with format=csv); the export is audited."""
    fmt = request.args.get("format", "xlsx")
    filters, _ = _audit_filters()
    data = audit_export.export(duban(), current_actor(), filters, fmt, ip=request.remote_addr)
    stamp = duban().clock.now().astimezone(CHINA).strftime("%Y%m%d-%H%M")
    return send_file(io.BytesIO(data), mimetype=audit_export.FORMATS[fmt], as_attachment=True,
                     download_name=f"安全审计日志-{stamp}.{fmt}")


def _audit_filters() -> tuple[dict, dict]:
    """(the service's filters, what the form shows) from the query: actor, action, target, and a range of
    Beijing days `from`..`to` (a day that is not a date is refused, 422)."""
    shown = {key: request.args.get(key) or None for key in AUDIT_FILTERS}
    days = {}
    for key in ("from", "to"):
        try:
            days[key] = date.fromisoformat(shown[key]) if shown[key] else None
        except ValueError:
            raise InvalidInput(text("field.iso.date"), [{"field": key, "message": text("field.iso.date")}]) from None
    filters = {key: shown[key] for key in ("actor", "action", "target")}
    return {**filters, **audit_export.day_range(days["from"], days["to"])}, shown


def user_list(error: str | None = None, typed: dict | None = None):
    actor = current_actor()
    rows, total = users.list_users(duban(), actor, 1, 500)
    manages = actor.has(*SYSTEM_ADMINS)
    units = services.list_units(duban())
    return render_template("users.html", users=rows, total=total, roles=ROLES, message=request.args.get("done"),
                           error=error or request.args.get("error"), three_admins=users.THREE_ADMINS,
                           manages=manages, units=units, unit_names={u["id"]: u["name"] for u in units},
                           open_counts=accounts.open_task_counts(duban(), actor) if manages else {},
                           typed=typed or {}, overseers=accounts.OVERSEERS), 422 if error else 200


def new_user():
    """The system administrator's 新建用户 form: on a refusal the list comes back with what was typed."""
    actor = current_actor()
    fields = {key: request.form.get(key, "") for key in ("username", "name", "unit_id", "email", "password")}
    try:
        accounts.create_user(duban(), actor, fields, ip=request.remote_addr)
    except DubanError as error:
        if not actor.has(*SYSTEM_ADMINS) or getattr(error, "code", "") == "unauthenticated":
            raise
        return user_list(error=f"未能创建 {fields['username'] or '用户'}：{error.message}",
                         typed={k: v for k, v in fields.items() if k != "password"})
    return redirect(url_for("pages.users", done=f"{fields['username']}：已创建，首次登录须修改口令"))


ACTIONS = {
    "grant": lambda actor, name, form: users.grant_role(duban(), actor, name, form.get("role", ""),
                                                        ip=request.remote_addr),
    "revoke": lambda actor, name, form: users.revoke_role(duban(), actor, name, form.get("role", ""),
                                                          ip=request.remote_addr),
    "unlock": lambda actor, name, form: users.unlock_user(duban(), actor, name, ip=request.remote_addr),
    "password": lambda actor, name, form: users.set_password(duban(), actor, name, form.get("password", ""),
                                                             ip=request.remote_addr),
    "update": lambda actor, name, form: accounts.update_user(
        duban(), actor, name, {key: form.get(key, "") for key in ("name", "unit_id", "email")}, ip=request.remote_addr),
    "deactivate": lambda actor, name, form: accounts.update_user(duban(), actor, name, {"active": False},
                                                                 ip=request.remote_addr),
    "activate": lambda actor, name, form: accounts.update_user(duban(), actor, name, {"active": True},
                                                               ip=request.remote_addr),
}
# Who reads a refusal above the list (others get the 403 page): the system administrator for the
# account actions, the security administrator for roles, locks and passwords.
ACCOUNT_ACTIONS = ("update", "deactivate", "activate")
MANAGERS = {True: SYSTEM_ADMINS, False: (SECADMIN,)}
DONE = {"grant": "已授予角色", "revoke": "已撤销角色", "unlock": "已解锁", "password": "已重置口令",
        "update": "已保存", "deactivate": "已停用，不能再登录", "activate": "已启用"}


def user_action(username):
    actor = current_actor()
    action = request.form.get("action")
    if action not in ACTIONS:
        raise InvalidInput(text("admin.unknown_action"), [{"field": "action", "message": text("admin.unknown_action")}])
    try:
        ACTIONS[action](actor, username, request.form)
    except DubanError as error:
        # Someone who may not do this gets the 403 page; the administrator whose work it is reads why
        # it was refused (三员分立, weak password, ...) above the list.
        if not actor.has(*MANAGERS[action in ACCOUNT_ACTIONS]) or getattr(error, "code", "") == "unauthenticated":
            raise
        return redirect(url_for("pages.users", error=f"{username}：{error.message}"))
    if action == "deactivate" and accounts.open_tasks(duban(), actor, username):
        return redirect(url_for("pages.user_tasks", username=username, done=f"{username}：{DONE[action]}"))
    return redirect(url_for("pages.users", done=f"{username}：{DONE[action]}"))


def user_tasks(username):
    """An account's open tasks, each handed back to its pool or to a person (system administrator)."""
    actor = current_actor()
    error = None
    if request.method == "POST":
        task_id, to = request.form.get("task_id", ""), request.form.get("to", "").strip() or None
        try:
            accounts.reassign_task(duban(), actor, username, task_id, to, ip=request.remote_addr)
        except DubanError as failure:
            if getattr(failure, "code", "") in ("forbidden", "unauthenticated"):
                raise
            error = failure.message
        else:
            done = f"已转交给 {to}" if to else "已退回待领，承办角色（单位）中的人可重新领取"
            return redirect(url_for("pages.user_tasks", username=username, done=done))
    tasks = accounts.open_tasks(duban(), actor, username)
    user = next((u for u in users.list_users(duban(), actor, 1, 500)[0] if u["username"] == username), None)
    return render_template("user_tasks.html", tasks=tasks, user=user, username=username, error=error, roles=ROLES,
                           message=request.args.get("done")), 422 if error else 200


def unit_list(error: str | None = None, typed: dict | None = None):
    """Units for the system administrator as a tree (each under its 上级单位), with 新建单位 and each
    row's edit form: name, kind, parent, category, 督查联络员; 停用/启用."""
    actor = current_actor()
    org._require_sysadmin(actor, "管理单位")
    units = services.list_units(duban())
    rows, _ = users.list_users(duban(), actor, 1, 5000)
    people, members = {}, {}
    for row in rows:
        people[row["unit"]] = people.get(row["unit"], 0) + 1
        if row["active"]:
            members.setdefault(row["unit"], []).append(row)
    return render_template("units.html", units=org.unit_tree(units), kinds=org.KINDS, categories=org.CATEGORIES,
                           names={u["id"]: u["name"] for u in units}, people=people, members=members,
                           typed=typed or {}, error=error or request.args.get("error"),
                           message=request.args.get("done")), 422 if error else 200


UNIT_FIELDS = ("id", "name", "kind", "parent_id", "category")


def new_unit():
    actor = current_actor()
    fields = {key: request.form.get(key, "") for key in UNIT_FIELDS}
    try:
        org.create_unit(duban(), actor, fields, ip=request.remote_addr)
    except DubanError as failure:
        if getattr(failure, "code", "") in ("forbidden", "unauthenticated"):
            raise
        return unit_list(error=f"未能创建单位 {fields['id'] or ''}：{failure.message}", typed=fields)
    return redirect(url_for("pages.units", done=f"{fields['id']}：已创建"))


UNIT_DONE = {"update": "已保存", "deactivate": "已停用，不再作为承办单位供选择", "activate": "已启用"}


def unit_action(unit_id):
    actor = current_actor()
    action = request.form.get("action", "update")
    if action == "update":
        # Every field is sent: an emptied parent, category or liaison clears it.
        changes = {key: request.form.get(key, "") for key in ("name", "kind", "parent_id", "category", "liaison")}
    elif action in UNIT_DONE:
        changes = {"active": action == "activate"}
    else:
        raise InvalidInput(text("field.one_of", choices="、".join(UNIT_DONE)),
                           [{"field": "action", "message": text("field.one_of", choices="、".join(UNIT_DONE))}])
    try:
        org.update_unit(duban(), actor, unit_id, changes, ip=request.remote_addr)
    except DubanError as error:
        if getattr(error, "code", "") in ("forbidden", "unauthenticated", "not_found"):
            raise
        return redirect(url_for("pages.units", error=f"{unit_id}：{error.message}"))
    return redirect(url_for("pages.units", done=f"{unit_id}：{UNIT_DONE[action]}"))


def import_people():
    """批量导入: the form, the template to download, and after an upload the report row by row."""
    actor = current_actor()
    org._require_sysadmin(actor, "导入用户和单位")
    report, error = None, None
    if request.method == "POST":
        upload = request.files.get("file")
        try:
            if upload is None or not upload.filename:
                raise InvalidInput(text("import.not_xlsx"), [])
            report = user_import.import_workbook(duban(), actor, upload.read(), ip=request.remote_addr)
        except InvalidInput as failure:
            error = failure.message
    return render_template("import.html", report=report, error=error), 422 if error else 200


def import_template():
    data = user_import.template(current_actor())
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name="用户与单位导入模板.xlsx")


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
                errors = field_errors(error)
    required = bool(g.get("password_change_required")) and not done
    return render_template("password.html", errors=errors, done=done, required=required), 422 if errors else 200

"""三员分立 over HTTP: users and roles (security administrator), the audit log (audit administrator),
and everyone's own password."""
from __future__ import annotations

import io

from flask import request, send_file
from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from engine.errors import InvalidInput
from engine.services import ROLES, XLSX, accounts, audit, audit_export, org, user_import, users
from engine.texts import text

from ..auth import current_token
from .common import actor, authenticated_blueprint, duban, paged
from .schemas import Choice, UnitSchema

blp = authenticated_blueprint("users", __name__, "Users and roles (用户与角色, 三员分立)", "/admin/users")
units_blp = authenticated_blueprint("units", __name__, "Units (单位管理, system administrator)", "/admin/units")
import_blp = authenticated_blueprint("import", __name__, "Import units and users from Excel (批量导入)",
                                    "/admin/import")
audit_blp = authenticated_blueprint("audit", __name__, "Audit log (安全审计, audit administrator only)", "/audit")
me_blp = authenticated_blueprint("password", __name__, "Own password (修改口令)", "/me")


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    unit = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    roles = fields.List(fields.String())
    active = fields.Boolean()
    locked = fields.Boolean(metadata={"description": "locked after repeated failed sign-ins"})
    locked_until = fields.DateTime(allow_none=True)
    password_change_required = fields.Boolean(metadata={
        "description": "the password was set by someone else and must be changed at the next sign-in"})


class RoleRequest(Schema):
    role = fields.String(required=True, validate=Choice(ROLES))


class PasswordRequest(Schema):
    password = fields.String(required=True, validate=validate.Length(min=1, max=256), load_only=True,
                             metadata={"description": "8+ characters of three kinds, without the username"})


class OwnPasswordRequest(Schema):
    old_password = fields.String(required=True, validate=validate.Length(min=1, max=256), load_only=True)
    new_password = fields.String(required=True, validate=validate.Length(min=1, max=256), load_only=True,
                                 metadata={"description": "8+ characters of three kinds, without the username"})


class AuditQuery(Schema):
    actor = fields.String(validate=validate.Length(max=64))
    action = fields.String(validate=validate.Length(max=61),
                           metadata={"description": "exact, or a prefix ending in * (instance.*)"})
    target = fields.String(validate=validate.Length(max=200))
    since = fields.AwareDateTime(metadata={"description": "ISO date-time with its zone: records at or after it"})
    until = fields.AwareDateTime(metadata={"description": "ISO date-time with its zone: records before it"})

    @validates_schema
    def _in_order(self, data, **kwargs):
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise ValidationError(text("audit.date_order"), "until")


class AuditExportQuery(AuditQuery):
    format = fields.String(load_default="xlsx", validate=validate.OneOf(sorted(audit_export.FORMATS)),
                           metadata={"description": "xlsx (default) or csv"})


class AuditRecordSchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    actor = fields.String(allow_none=True)
    action = fields.String()
    action_name = fields.String(metadata={"description": "the action in Chinese (登录, 终止流程, ...)"})
    target = fields.String(allow_none=True)
    detail = fields.Dict(allow_none=True)
    ip = fields.String(allow_none=True)
    prev_hash = fields.String()
    hash = fields.String()


class VerifySchema(Schema):
    intact = fields.Boolean()
    broken_at = fields.Integer(allow_none=True, metadata={"description": "id of the first record that fails"})
    records = fields.Integer()
    last_hash = fields.String(metadata={"description": "keep it elsewhere: a later cut of the log shows against it"})
    anchored = fields.Integer(allow_none=True, metadata={
        "description": "the newest record the anchor file outside the database names (var/audit-anchor.log)"})
    problem = fields.String(allow_none=True, metadata={"description": "what is wrong, in Chinese; null when intact"})


class NewUserRequest(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200), metadata={"description": "姓名"})
    unit_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    email = fields.String(allow_none=True, validate=validate.Length(max=255))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256), load_only=True,
                             metadata={"description": "the first password, changed by its owner at the first sign-in"})


class UserChanges(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    unit_id = fields.String(validate=validate.Length(min=1, max=64))
    email = fields.String(allow_none=True, validate=validate.Length(max=255))
    active = fields.Boolean(metadata={"description": "false: cannot sign in, sessions end; history is kept"})


class OpenTaskSchema(Schema):
    id = fields.String()
    name = fields.String()
    instance_id = fields.Integer()
    item_id = fields.Integer(allow_none=True)
    item_title = fields.String(allow_none=True)
    role = fields.String(allow_none=True)
    role_name = fields.String(allow_none=True)
    unit_id = fields.String(allow_none=True)
    unit_name = fields.String(allow_none=True)
    claimed_at = fields.DateTime(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    pooled = fields.Boolean(metadata={"description": "has a role's pool to go back to (else it needs a person)"})


class ReassignRequest(Schema):
    to = fields.String(allow_none=True, validate=validate.Length(max=64), metadata={
        "description": "the successor's username; empty: back to the role's (and unit's) pool"})


class UnitRequest(Schema):
    id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(load_default="unit", metadata={"description": "office, leader, unit, discipline or other"})
    sort = fields.Integer(allow_none=True, validate=validate.Range(min=-(2**31), max=2**31 - 1))
    parent_id = fields.String(allow_none=True, validate=validate.Length(max=64),
                              metadata={"description": "上级单位's id; no cycles"})
    category = fields.String(allow_none=True, validate=validate.Length(max=40), metadata={
        "description": "dept, township, party, vertical, other (or 县直部门, 乡镇（街道）, ...)"})
    liaison = fields.String(allow_none=True, validate=validate.Length(max=64),
                            metadata={"description": "督查联络员: username of an active account of this unit"})
    active = fields.Boolean(load_default=True)


class UnitChanges(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    kind = fields.String()
    sort = fields.Integer(validate=validate.Range(min=-(2**31), max=2**31 - 1))
    parent_id = fields.String(allow_none=True, validate=validate.Length(max=64),
                              metadata={"description": "上级单位's id; null clears; no cycles"})
    category = fields.String(allow_none=True, validate=validate.Length(max=40), metadata={
        "description": "dept, township, party, vertical, other; null clears"})
    liaison = fields.String(allow_none=True, validate=validate.Length(max=64),
                            metadata={"description": "督查联络员's username (this unit's); null clears"})
    active = fields.Boolean(metadata={"description": "false deactivates: refused (409, each listed) while the unit "
                                                     "has active accounts, open tasks or active sub-units"})


class ImportFile(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary",
                                               "description": "the .xlsx filled in from the template"})


class ImportRowSchema(Schema):
    sheet = fields.String(metadata={"description": "单位 or 用户"})
    row = fields.Integer()
    key = fields.String(metadata={"description": "the unit's id or the username"})
    created = fields.Boolean()
    message = fields.String(metadata={"description": "what was done, or why not (Chinese)"})


class ImportReportSchema(Schema):
    created = fields.Integer()
    refused = fields.Integer()
    rows = fields.List(fields.Nested(ImportRowSchema))


@blp.route("")
class Users(MethodView):
    @blp.response(200, UserSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """Accounts with roles and lock state (system and security administrators)"""
        return paged(pagination_parameters, lambda page, size: users.list_users(duban(), actor(), page, size))

    @blp.arguments(NewUserRequest)
    @blp.response(201, UserSchema)
    def post(self, body):
        """Create an account with a first password, changed at the first sign-in (system administrator;
        roles are granted by the security administrator)"""
        return accounts.create_user(duban(), actor(), body, ip=request.remote_addr)


@blp.route("/<string:username>")
class OneUser(MethodView):
    @blp.arguments(UserChanges)
    @blp.response(200, UserSchema)
    def patch(self, body, username):
        """Change name, unit, e-mail; `active: false` deactivates (no sign-in, sessions end, history kept)
        (system administrator)"""
        return accounts.update_user(duban(), actor(), username, body, ip=request.remote_addr)


@blp.route("/<string:username>/open-tasks")
class OpenTasks(MethodView):
    @blp.response(200, OpenTaskSchema(many=True))
    def get(self, username):
        """Open tasks the account holds, to hand on when it is deactivated (system administrator)"""
        return accounts.open_tasks(duban(), actor(), username)


@blp.route("/<string:username>/open-tasks/<string:task_id>/reassign")
class Reassign(MethodView):
    @blp.arguments(ReassignRequest)
    @blp.response(200, OpenTaskSchema)
    def post(self, body, username, task_id):
        """Hand a task on: back to its role's pool (unclaimed), or to the person `to` (system administrator)"""
        return accounts.reassign_task(duban(), actor(), username, task_id, body.get("to"), ip=request.remote_addr)


@units_blp.route("")
class Units(MethodView):
    @units_blp.arguments(UnitRequest)
    @units_blp.response(201, UnitSchema)
    def post(self, body):
        """Create a unit (system administrator)"""
        return org.create_unit(duban(), actor(), body, ip=request.remote_addr)


@units_blp.route("/<string:unit_id>")
class OneUnit(MethodView):
    @units_blp.arguments(UnitChanges)
    @units_blp.response(200, UnitSchema)
    def patch(self, body, unit_id):
        """Rename a unit, change its kind, order, parent, category or 督查联络员; `active: false` deactivates
        it (system administrator)"""
        return org.update_unit(duban(), actor(), unit_id, body, ip=request.remote_addr)


@import_blp.route("")
class Import(MethodView):
    @import_blp.arguments(ImportFile, location="files")
    @import_blp.response(200, ImportReportSchema)
    def post(self, _files):
        """Create units and users from the Excel template; each row reported: created, or refused and why
        (system administrator)"""
        upload = request.files.get("file")
        if upload is None:
            raise InvalidInput(text("import.not_xlsx"), [{"field": "file", "message": text("import.not_xlsx")}])
        return user_import.import_workbook(duban(), actor(), upload.read(), ip=request.remote_addr)


@import_blp.route("/template.xlsx")
class ImportTemplate(MethodView):
    @import_blp.response(200, content_type=XLSX)
    @import_blp.doc(responses={"200": {"description": "The workbook to fill in",
                                       "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}})
    def get(self):
        """The import template: a 单位 sheet, a 用户 sheet and instructions (system administrator)"""
        return send_file(io.BytesIO(user_import.template(actor())), mimetype=XLSX, as_attachment=True,
                         download_name="用户与单位导入模板.xlsx")


@blp.route("/<string:username>/roles")
class Roles(MethodView):
    @blp.arguments(RoleRequest)
    @blp.response(200, UserSchema)
    def post(self, body, username):
        """Grant a role (security administrator; 三员分立 keeps the three administrator roles apart)"""
        return users.grant_role(duban(), actor(), username, body["role"], ip=request.remote_addr)


@blp.route("/<string:username>/roles/<string:role>")
class Role(MethodView):
    @blp.response(200, UserSchema)
    def delete(self, username, role):
        """Revoke a role (security administrator)"""
        return users.revoke_role(duban(), actor(), username, role, ip=request.remote_addr)


@blp.route("/<string:username>/unlock")
class Unlock(MethodView):
    @blp.response(200, UserSchema)
    def post(self, username):
        """Lift a lockout after repeated failed sign-ins (security administrator)"""
        return users.unlock_user(duban(), actor(), username, ip=request.remote_addr)


@blp.route("/<string:username>/password")
class Password(MethodView):
    @blp.arguments(PasswordRequest)
    @blp.response(204)
    def post(self, body, username):
        """Set another user's password, to be changed at their next sign-in; their tokens are revoked
        (security administrator; not of the three administrators, nor of an account it granted a role to)"""
        users.set_password(duban(), actor(), username, body["password"], ip=request.remote_addr)


@me_blp.route("/password")
class OwnPassword(MethodView):
    @me_blp.arguments(OwnPasswordRequest)
    @me_blp.response(204)
    def post(self, body):
        """Change the caller's own password, proving the current one; their other tokens and sessions end"""
        users.change_own_password(duban(), actor(), body["old_password"], body["new_password"],
                                  ip=request.remote_addr, keep_token=current_token())


@audit_blp.route("")
class AuditLog(MethodView):
    @audit_blp.arguments(AuditQuery, location="query")
    @audit_blp.response(200, AuditRecordSchema(many=True))
    @audit_blp.paginate()
    def get(self, query, pagination_parameters):
        """Audit records, newest first (audit administrator)"""
        return paged(pagination_parameters, lambda page, size: audit.list_records(
            duban(), actor(), page, size, query, ip=request.remote_addr))


@audit_blp.route("/export")
class AuditExport(MethodView):
    @audit_blp.arguments(AuditExportQuery, location="query")
    @audit_blp.response(200, content_type=audit_export.FORMATS["xlsx"])
    @audit_blp.doc(responses={"200": {"description": "the matching records, oldest first (the export is audited)",
                                      "content": {mime: {"schema": {"type": "string", "format": "binary"}}
                                                  for mime in audit_export.FORMATS.values()}}})
    def get(self, query):
        """The records the filters select as .xlsx or .csv, in Chinese (audit administrator)"""
        fmt = query.pop("format")
        data = audit_export.export(duban(), actor(), query, fmt, ip=request.remote_addr)
        return send_file(io.BytesIO(data), mimetype=audit_export.FORMATS[fmt], as_attachment=True,
                         download_name=f"audit-log.{fmt}")


@audit_blp.route("/verify")
class Verify(MethodView):
    @audit_blp.response(200, VerifySchema)
    def get(self):
        """Check the keyed hash chain of the whole log and its anchor outside the database (audit administrator)"""
        return audit.report(duban(), actor(), ip=request.remote_addr)

"""三员分立 over HTTP: users and roles (security administrator), the audit log (audit administrator),
and everyone's own password."""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from engine.domain.roles import ROLES
from engine.services import audit, users

from ..auth import current_token
from .common import actor, authenticated_blueprint, duban, paged

blp = authenticated_blueprint("users", __name__, "Users and roles (用户与角色, 三员分立)", "/admin/users")
audit_blp = authenticated_blueprint("audit", __name__, "Audit log (安全审计, audit administrator only)", "/audit")
me_blp = authenticated_blueprint("password", __name__, "Own password (修改口令)", "/me")


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    unit = fields.String(allow_none=True)
    roles = fields.List(fields.String())
    active = fields.Boolean()
    locked = fields.Boolean(metadata={"description": "locked after repeated failed sign-ins"})
    locked_until = fields.DateTime(allow_none=True)
    password_change_required = fields.Boolean(metadata={
        "description": "the password was set by someone else and must be changed at the next sign-in"})


class RoleRequest(Schema):
    role = fields.String(required=True, validate=validate.OneOf(list(ROLES)))


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
    since = fields.AwareDateTime(metadata={"description": "ISO date-time with its zone"})


class AuditRecordSchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    actor = fields.String(allow_none=True)
    action = fields.String()
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


@blp.route("")
class Users(MethodView):
    @blp.response(200, UserSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """Accounts with roles and lock state (system and security administrators)"""
        return paged(pagination_parameters, lambda page, size: users.list_users(duban(), actor(), page, size))


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


@audit_blp.route("/verify")
class Verify(MethodView):
    @audit_blp.response(200, VerifySchema)
    def get(self):
        """Check the keyed hash chain of the whole log and its anchor outside the database (audit administrator)"""
        return audit.report(duban(), actor(), ip=request.remote_addr)

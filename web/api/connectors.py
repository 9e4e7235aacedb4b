"""Built-in connectors (内置连接器): the installation's notification channels and HTTP endpoints, for
system administrators. Secrets are write-only: sent in `secrets`, never answered (only `secrets_set`)."""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from engine.services import connectors

from .common import actor, authenticated_blueprint, duban

blp = authenticated_blueprint("connectors", __name__, "Built-in connectors (内置连接器, system administrator)",
                              "/admin/connectors")


@blp.before_request
def _only_system_administrators():
    """403 before anything sent is read: nobody else learns even what a valid body looks like."""
    connectors.require_admin(actor())


class TestSchema(Schema):
    state = fields.String(allow_none=True, metadata={"description": "pending, sending, ok or failed"})
    state_name = fields.String(allow_none=True)
    to = fields.String(allow_none=True)
    at = fields.DateTime(allow_none=True)
    message = fields.String(allow_none=True)


class ConnectorSchema(Schema):
    name = fields.String()
    kind = fields.String(metadata={"description": "email, sms, wecom, dingtalk, zwdingtalk or http"})
    kind_name = fields.String()
    title = fields.String()
    enabled = fields.Boolean()
    settings = fields.Dict(metadata={"description": "the kind's settings (never a secret)"})
    secrets_set = fields.List(fields.String(), metadata={"description": "which secrets are set (never their values)"})
    host = fields.String(allow_none=True)
    updated_at = fields.DateTime()
    updated_by = fields.String(allow_none=True)
    test = fields.Nested(TestSchema)


class ConnectorChanges(Schema):
    title = fields.String(validate=validate.Length(max=200))
    enabled = fields.Boolean()
    settings = fields.Dict(keys=fields.String(validate=validate.Length(max=40)), metadata={
        "description": "email: host, port, sender, username, security (none/starttls/ssl), timeout_s; sms: url, "
                       "method, content_type (json/form), body ({phone}, {message}, {key}), key_header, "
                       "allow_private, timeout_s; robots: allow_private, timeout_s; http: base_url, hosts, "
                       "auth_header, allow_private, timeout_s, max_bytes"})
    secrets = fields.Dict(keys=fields.String(validate=validate.Length(max=40)),
                          values=fields.String(allow_none=True, validate=validate.Length(max=2000)), load_only=True,
                          metadata={"description": "write-only: email password; sms key; robots url and sign_secret "
                                                   "(加签); http auth_value. Empty or null removes one"})


class ConnectorRequest(ConnectorChanges):
    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    kind = fields.String(required=True, validate=validate.OneOf(connectors.KINDS))


class TestRequest(Schema):
    to = fields.String(allow_none=True, validate=validate.Length(max=255), metadata={
        "description": "e-mail address or phone number (e-mail: the caller's own address when left out)"})


@blp.route("")
class Connectors(MethodView):
    @blp.response(200, ConnectorSchema(many=True))
    def get(self):
        """The installation's connectors (system administrator)"""
        return connectors.list_connectors(duban(), actor())

    @blp.arguments(ConnectorRequest)
    @blp.response(201, ConnectorSchema)
    def post(self, body):
        """Configure a channel or an HTTP endpoint (system administrator)"""
        return connectors.create(duban(), actor(), body, ip=request.remote_addr)


@blp.route("/<string:name>")
class OneConnector(MethodView):
    @blp.response(200, ConnectorSchema)
    def get(self, name):
        """One connector (system administrator)"""
        return connectors.get_connector(duban(), actor(), name)

    @blp.arguments(ConnectorChanges)
    @blp.response(200, ConnectorSchema)
    def patch(self, body, name):
        """Change a connector; secrets sent replace the stored ones (system administrator)"""
        return connectors.update_connector(duban(), actor(), name, body, ip=request.remote_addr)

    @blp.response(204)
    def delete(self, name):
        """Remove a connector (system administrator)"""
        connectors.delete(duban(), actor(), name, ip=request.remote_addr)


@blp.route("/<string:name>/test")
class Test(MethodView):
    @blp.arguments(TestRequest)
    @blp.response(202, ConnectorSchema)
    def post(self, body, name):
        """发送测试消息: a worker sends it; its outcome shows in `test` (system administrator)"""
        return connectors.request_test(duban(), actor(), name, body.get("to"), ip=request.remote_addr)

"""POST /api/v1/auth/token: credentials in, bearer token out."""
from __future__ import annotations

from flask import request
from flask.views import MethodView

from engine import services

from .common import Blueprint, duban
from .schemas import TokenRequest, TokenResponse

blp = Blueprint("auth", __name__, description="Authentication (登录)", url_prefix="/auth")


@blp.route("/token")
class Token(MethodView):
    @blp.arguments(TokenRequest)
    @blp.response(200, TokenResponse)
    @blp.doc(security=[])
    def post(self, credentials):
        """Exchange a username and password for a bearer token"""
        who = services.login(duban(), credentials["username"], credentials["password"], ip=request.remote_addr)
        token, expires = services.issue_token(duban(), who, ip=request.remote_addr)
        return {"token": token, "expires_at": expires}

    @blp.response(204)
    @blp.doc(security=[{"bearer": []}, {}])  # without a (valid) token there is nothing to revoke: still 204
    def delete(self):
        """Revoke the bearer token of this request (sign out)"""
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            services.revoke_token(duban(), header[len("Bearer "):].strip(), ip=request.remote_addr)

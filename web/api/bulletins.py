"""督查通报 (bulletins): the office issues a month's or a quarter's bulletin as .docx; leaders read them.

What a bulletin counts and lists, and why secret items are left out, is engine/services/bulletins.py's.
"""
from __future__ import annotations

import io

from flask import send_file
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from engine.services import bulletins

from .common import actor, authenticated_blueprint, duban

blp = authenticated_blueprint("bulletins", __name__, "督查通报 (bulletins)", "/bulletins")

PERIOD = r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$"


class BulletinRequest(Schema):
    period = fields.String(required=True, validate=validate.Regexp(PERIOD, error="a month YYYY-MM or a quarter YYYY-Qn"),
                           metadata={"description": "a month (2026-10) or a quarter (2026-Q4), Beijing time",
                                     "example": "2026-10"})


class BulletinSchema(Schema):
    id = fields.Integer()
    period = fields.String()
    number = fields.String(metadata={"description": "〔2026〕第1期: per year of issue"})
    title = fields.String()
    summary = fields.Dict(keys=fields.String(), values=fields.Integer(),
                          metadata={"description": "registered, completed, on_time, late, overdue, urged, escalated, "
                                                   "praised, criticised, commended_units, criticised_units"})
    created_by = fields.String()
    created_at = fields.DateTime()


@blp.route("")
class Bulletins(MethodView):
    @blp.response(200, BulletinSchema(many=True))
    def get(self):
        """Issued bulletins, newest first (office and leaders)"""
        return bulletins.list_bulletins(duban(), actor())

    @blp.arguments(BulletinRequest)
    @blp.response(201, BulletinSchema)
    def post(self, body):
        """Issue the bulletin of a month or a quarter (the office); audited"""
        return bulletins.generate(duban(), actor(), body["period"])


@blp.route("/<int:bulletin_id>.docx")
class BulletinDocument(MethodView):
    @blp.response(200, content_type=bulletins.DOCX)
    @blp.doc(responses={"200": {"description": "The bulletin as a Word document",
                                "content": {bulletins.DOCX: {"schema": {"type": "string", "format": "binary"}}}}})
    def get(self, bulletin_id):
        """An issued bulletin as .docx"""
        name, content = bulletins.document(duban(), actor(), bulletin_id)
        return send_file(io.BytesIO(content), mimetype=bulletins.DOCX, as_attachment=True, download_name=name)

"""督查通报 (bulletins): the office previews and issues a month's or a quarter's bulletin as .docx, and
voids a mistaken one; leaders read them.

What a bulletin counts and lists, and why secret items are left out, is engine/services/bulletins.py's.
"""
from __future__ import annotations

import io

from flask import send_file
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from engine.services import bulletins
from engine.texts import text

from .common import actor, authenticated_blueprint, duban

blp = authenticated_blueprint("bulletins", __name__, "督查通报 (bulletins)", "/bulletins")

PERIOD = r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$"


def _period():
    return fields.String(required=True, validate=validate.Regexp(PERIOD, error=text("bulletin.period_field")),
                         metadata={"description": "a month (2026-10) or a quarter (2026-Q4), Beijing time",
                                   "example": "2026-10"})


class BulletinPeriodQuery(Schema):
    period = _period()


class BulletinRequest(Schema):
    period = _period()
    confirm_reissue = fields.Boolean(load_default=False, metadata={
        "description": "issue although the period has a bulletin in force already (else 409)"})


class VoidRequest(Schema):
    reason = fields.String(required=True, metadata={"description": "why it is voided (作废理由), up to 500 characters"})


class ListQuery(Schema):
    include_voided = fields.Boolean(load_default=True, metadata={"description": "false: only bulletins in force"})


class BulletinSchema(Schema):
    id = fields.Integer()
    period = fields.String()
    number = fields.String(metadata={"description": "〔2026〕第1期: per year of issue"})
    title = fields.String()
    summary = fields.Dict(keys=fields.String(), values=fields.Integer(),
                          metadata={"description": "registered, completed, on_time, late, overdue, urged, escalated, "
                                                   "praised, criticised, commended_units, criticised_units"})
    created_by = fields.String()
    created_by_name = fields.String()
    created_at = fields.DateTime()
    voided = fields.Boolean(metadata={"description": "作废: counts nowhere; its number is not given again"})
    voided_at = fields.DateTime(allow_none=True)
    voided_by = fields.String(allow_none=True)
    voided_by_name = fields.String(allow_none=True)
    void_reason = fields.String(allow_none=True)


class PreviewSchema(Schema):
    period = fields.String()
    period_label = fields.String(metadata={"example": "2026年10月"})
    title = fields.String()
    number = fields.String(metadata={"description": "the number it would get if issued now"})
    cutoff = fields.DateTime(metadata={"description": "facts as of this moment (the period's end, or now)"})
    as_of_now = fields.Boolean(metadata={"description": "the period still runs"})
    summary = fields.Dict(keys=fields.String(), values=fields.Integer())
    lists = fields.Dict(keys=fields.String(), values=fields.List(fields.Dict()),
                        metadata={"description": "completed, overdue, urged, escalated, praised, criticised rows"})
    issued = fields.List(fields.Nested(BulletinSchema),
                         metadata={"description": "bulletins in force for this period already"})


@blp.route("")
class Bulletins(MethodView):
    @blp.arguments(ListQuery, location="query")
    @blp.response(200, BulletinSchema(many=True))
    def get(self, query):
        """Issued bulletins, newest first, voided ones marked (office and leaders)"""
        return bulletins.list_bulletins(duban(), actor(), query["include_voided"])

    @blp.arguments(BulletinRequest)
    @blp.response(201, BulletinSchema)
    @blp.alt_response(409, description="the period has a bulletin in force; send confirm_reissue: true")
    def post(self, body):
        """Issue the bulletin of a month or a quarter (the office); audited"""
        return bulletins.generate(duban(), actor(), body["period"], body["confirm_reissue"])


@blp.route("/preview")
class BulletinPreview(MethodView):
    @blp.arguments(BulletinPeriodQuery, location="query")
    @blp.response(200, PreviewSchema)
    def get(self, query):
        """What the period's bulletin would say if issued now; nothing is stored or numbered (the office)"""
        return bulletins.preview(duban(), actor(), query["period"])


@blp.route("/<int:bulletin_id>/void")
class BulletinVoid(MethodView):
    @blp.arguments(VoidRequest)
    @blp.response(200, BulletinSchema)
    def post(self, body, bulletin_id):
        """作废: withdraw an issued bulletin with a reason (the office); its number is not reused; audited"""
        return bulletins.void(duban(), actor(), bulletin_id, body["reason"])


@blp.route("/<int:bulletin_id>.docx")
class BulletinDocument(MethodView):
    @blp.response(200, content_type=bulletins.DOCX)
    @blp.doc(responses={"200": {"description": "The bulletin as a Word document",
                                "content": {bulletins.DOCX: {"schema": {"type": "string", "format": "binary"}}}}})
    def get(self, bulletin_id):
        """An issued bulletin as .docx"""
        name, content = bulletins.document(duban(), actor(), bulletin_id)
        return send_file(io.BytesIO(content), mimetype=bulletins.DOCX, as_attachment=True, download_name=name)

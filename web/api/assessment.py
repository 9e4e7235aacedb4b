"""考核 (assessment): yearly unit scores, their explanation, the scoring rules; leaders' praise (领导表扬).

What counts, for how many points, and who sees which scores is engine/services/assessment.py's.
"""
from __future__ import annotations

import io

from flask import send_file
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from engine.services import assessment

from .common import actor, authenticated_blueprint, duban

blp = authenticated_blueprint("assessment", __name__, "考核 (assessment): unit scores and scoring rules",
                              "/assessment")
praise_blp = authenticated_blueprint("praise", __name__, "领导表扬: leaders praise a unit's work on an item",
                                     "/items")

EVENTS = "on_time 按期办结, praised 领导表扬, late 逾期办结, criticised 通报批评, escalated 移送纪委问责"
YEAR = "<int(min=1, max=9999):year>"  # what a date holds; the service takes 2000 to 2100 (else 422)


class RuleSchema(Schema):
    code = fields.String(metadata={"description": EVENTS})
    name = fields.String()
    points = fields.Float(metadata={"description": "points per event: positive 加分, negative 减分"})
    default_points = fields.Float()
    active = fields.Boolean(metadata={"description": "an inactive rule scores nothing"})
    updated_at = fields.DateTime(allow_none=True)
    updated_by = fields.String(allow_none=True)


class RuleUpdate(Schema):
    points = fields.Float(required=True, allow_nan=False,
                            validate=validate.Range(min=-int(assessment.MAX_POINTS), max=int(assessment.MAX_POINTS)),
                            metadata={"description": "points per event, two decimals"})
    active = fields.Boolean()
    name = fields.String(validate=validate.Length(min=1, max=100))


class UnitScoreSchema(Schema):
    unit = fields.String()
    unit_name = fields.String()
    rank = fields.Integer(allow_none=True, metadata={"description": "1 = highest; null for a unit's own view"})
    total = fields.Float()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": f"events in the year, by rule code ({EVENTS})"})


class ScoreBoardSchema(Schema):
    year = fields.Integer()
    as_of = fields.DateTime()
    rules = fields.List(fields.Nested(RuleSchema))
    units = fields.List(fields.Nested(UnitScoreSchema), metadata={"description": "highest total first"})


class LineSchema(Schema):
    item_id = fields.Integer()
    title = fields.String()
    unit = fields.String()
    unit_name = fields.String()
    event = fields.String(metadata={"description": EVENTS})
    event_name = fields.String()
    at = fields.DateTime(metadata={"description": "when it happened (which year it counts in)"})
    points = fields.Float()
    detail = fields.String()


class UnitLinesSchema(Schema):
    year = fields.Integer()
    unit = fields.String()
    unit_name = fields.String()
    total = fields.Float(metadata={"description": "the sum of the lines' points"})
    rank = fields.Integer(allow_none=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    lines = fields.List(fields.Nested(LineSchema))


class PraiseRequest(Schema):
    unit = fields.String(required=True, validate=validate.Length(min=1, max=64),
                         metadata={"description": "a unit taking part in the item"})
    note = fields.String(load_default="", validate=validate.Length(max=assessment.MAX_NOTE))


class PraiseSchema(Schema):
    id = fields.Integer()
    item_id = fields.Integer()
    unit = fields.String()
    unit_name = fields.String()
    by = fields.String()
    by_name = fields.String()
    note = fields.String()
    at = fields.DateTime()


@blp.route("/rules")
class Rules(MethodView):
    @blp.response(200, RuleSchema(many=True))
    def get(self):
        """The scoring rules and their points"""
        return assessment.list_rules(duban(), actor())


@blp.route("/rules/<string:code>")
class Rule(MethodView):
    @blp.arguments(RuleUpdate)
    @blp.response(200, RuleSchema)
    def put(self, body, code):
        """Set a rule's points (and whether it counts): system administrators; audited"""
        return assessment.update_rule(duban(), actor(), code, body["points"], body.get("active"), body.get("name"))


@blp.route(f"/{YEAR}")
class Scores(MethodView):
    @blp.response(200, ScoreBoardSchema)
    def get(self, year):
        """Every unit's score for the year, ranked (a handling unit: its own)"""
        return assessment.scores(duban(), actor(), year)


@blp.route(f"/{YEAR}.xlsx")
class ScoresExport(MethodView):
    @blp.response(200, content_type=assessment.XLSX)
    @blp.doc(responses={"200": {"description": "The year's scores and every line as an Excel workbook",
                                "content": {assessment.XLSX: {"schema": {"type": "string", "format": "binary"}}}}})
    def get(self, year):
        """The year's 考核 as Excel: a sheet of totals, a sheet of lines"""
        data = assessment.xlsx(duban(), actor(), year)
        return send_file(io.BytesIO(data), mimetype=assessment.XLSX, as_attachment=True,
                         download_name=f"考核-{year}.xlsx")


@blp.route(f"/{YEAR}/units/<string:unit_id>")
class UnitLines(MethodView):
    @blp.response(200, UnitLinesSchema)
    def get(self, year, unit_id):
        """One unit's score explained item by item"""
        return assessment.unit_lines(duban(), actor(), year, unit_id)


@praise_blp.route("/<int:item_id>/praise")
class Praise(MethodView):
    @praise_blp.arguments(PraiseRequest)
    @praise_blp.response(201, PraiseSchema)
    def post(self, body, item_id):
        """领导表扬: a leader praises a unit's work on the item (once per item and unit; leaders only)"""
        return assessment.praise(duban(), actor(), item_id, body["unit"], body["note"])


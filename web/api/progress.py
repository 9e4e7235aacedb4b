"""月度进展 (monthly progress) and 六有 checklists: units report on their items; 督查室 aggregates.

The rules (who may write, when a month closes, who owes a report) are engine/services/progress.py's
and engine/services/checklists.py's.
"""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from engine.services import checklists, progress

from .common import actor, authenticated_blueprint, duban

blp = authenticated_blueprint("progress", __name__, "月度进展 (monthly progress) and 六有 checklists")

MONTH = {"description": "YYYY-MM (Beijing time)", "example": "2026-10"}
TEXT = validate.Length(max=progress.MAX_TEXT)


class ProgressRequest(Schema):
    unit = fields.String(load_default=None, validate=validate.Length(max=64),
                         metadata={"description": "the unit reporting (default and only allowed value: the caller's)"})
    text = fields.String(required=True, validate=validate.Length(min=1, max=progress.MAX_TEXT),
                         metadata={"description": "the progress made this month"})
    percent = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=100),
                             metadata={"description": "percent complete, 0-100"})
    problems = fields.String(load_default="", validate=TEXT)
    next_steps = fields.String(load_default="", validate=TEXT)


class ProgressVersionSchema(Schema):
    version = fields.Integer()
    text = fields.String()
    percent = fields.Integer()
    problems = fields.String()
    next_steps = fields.String()
    reported_by = fields.String()
    reported_at = fields.DateTime()


class ProgressSchema(ProgressVersionSchema):
    id = fields.Integer()
    item_id = fields.Integer()
    unit = fields.String()
    unit_name = fields.String()
    month = fields.String(metadata=MONTH)
    first_reported_at = fields.DateTime()
    version = fields.Integer(metadata={"description": "1 for the first report, +1 per correction"})
    history = fields.List(fields.Nested(ProgressVersionSchema),
                          metadata={"description": "the versions corrections replaced, oldest first"})
    editable = fields.Boolean(metadata={"description": "its month is still running"})


class ProgressQuery(Schema):
    month = fields.String(validate=validate.Regexp(progress.MONTH), metadata=MONTH)


class AggregateQuery(Schema):
    unit = fields.String(validate=validate.Length(min=1, max=64), metadata={"description": "one unit's parts"})
    missing = fields.Boolean(load_default=False, metadata={"description": "only the reports owed and not made"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10**6))
    per_page = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class AggregateRowSchema(Schema):
    item_id = fields.Integer()
    title = fields.String()
    item_status = fields.String()
    unit = fields.String()
    unit_name = fields.String()
    role = fields.String(metadata={"description": "lead (牵头) or co (配合)"})
    due = fields.Boolean(metadata={"description": "the part owes a report for the month"})
    state = fields.String(metadata={"description": "reported or missing"})
    report = fields.Nested(ProgressSchema, allow_none=True)
    checklist_done = fields.Integer(metadata={"description": "六有 points ticked"})
    checklist_total = fields.Integer()


class AggregateSchema(Schema):
    month = fields.String(metadata=MONTH)
    due = fields.Integer(metadata={"description": "parts owing a report for the month"})
    reported = fields.Integer(metadata={"description": "reports made for the month"})
    missing = fields.Integer(metadata={"description": "reports owed and not made"})
    total = fields.Integer(metadata={"description": "rows matching the query (all pages)"})
    page = fields.Integer()
    per_page = fields.Integer()
    as_of = fields.DateTime()
    rows = fields.List(fields.Nested(AggregateRowSchema))


def _checklist_fields() -> dict:
    declared = {}
    for key, name in checklists.CHECKS.items():
        declared[key] = fields.Boolean(load_default=False, metadata={"description": name})
        declared[f"{key}_note"] = fields.String(load_default="", validate=validate.Length(max=checklists.MAX_NOTE),
                                                metadata={"description": f"{name}: note or attachment name"})
    return declared


ChecklistRequest = Schema.from_dict({
    "unit": fields.String(load_default=None, validate=validate.Length(max=64),
                          metadata={"description": "the unit (default and only allowed value: the caller's)"}),
    **_checklist_fields()}, name="ChecklistRequest")
ChecklistSchema = Schema.from_dict({
    "item_id": fields.Integer(), "unit": fields.String(), "unit_name": fields.String(), "role": fields.String(),
    **_checklist_fields(), "done": fields.Integer(metadata={"description": "points ticked"}),
    "total": fields.Integer(), "complete": fields.Boolean(),
    "updated_by": fields.String(allow_none=True), "updated_at": fields.DateTime(allow_none=True)},
    name="ChecklistSchema")


@blp.route("/items/<int:item_id>/progress/<string:month>")
class ItemProgressMonth(MethodView):
    @blp.arguments(ProgressRequest)
    @blp.response(200, ProgressSchema)
    def put(self, body, item_id, month):
        """月度进展: the caller's unit reports (or, while the month runs, corrects) its progress"""
        return progress.put_report(duban(), actor(), item_id, month, body)


@blp.route("/items/<int:item_id>/progress")
class ItemProgress(MethodView):
    @blp.arguments(ProgressQuery, location="query")
    @blp.response(200, ProgressSchema(many=True))
    def get(self, query, item_id):
        """An item's monthly reports, every unit's, newest month first"""
        return progress.list_reports(duban(), actor(), item_id, query.get("month"))


@blp.route("/progress/<string:month>")
class MonthProgress(MethodView):
    @blp.arguments(AggregateQuery, location="query")
    @blp.response(200, AggregateSchema)
    def get(self, query, month):
        """督查室's monthly summary: per item and unit, reported or missing (office, leaders, administrators)"""
        return progress.aggregate(duban(), actor(), month, **query)


@blp.route("/items/<int:item_id>/checklist")
class ItemChecklist(MethodView):
    @blp.response(200, ChecklistSchema(many=True))
    def get(self, item_id):
        """六有: every unit's checklist for the item, lead unit first"""
        return checklists.list_checklists(duban(), actor(), item_id)

    @blp.arguments(ChecklistRequest)
    @blp.response(200, ChecklistSchema)
    def put(self, body, item_id):
        """六有: the caller's unit sets its whole checklist (points not sent are unticked)"""
        return checklists.put_checklist(duban(), actor(), item_id, body)

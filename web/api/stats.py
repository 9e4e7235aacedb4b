"""Statistics (统计) for the dashboard: summary, per unit, overdue parts, monthly trend.

The figures and their definitions (逾期, 按期办结率, ...) are engine/services/stats.py's; who sees
which figures is decided there on top of access.items_visible.
"""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from engine.services import stats

from .common import actor, authenticated_blueprint, duban, paged
from .schemas import PeriodQuery

blp = authenticated_blueprint("stats", __name__, "Statistics (统计): the supervisors' dashboard", "/stats")

RATE = "按期办结率: parts whose accepted report came on or before their deadline ÷ parts accepted; null if none"


class OverdueQuery(PeriodQuery):
    unit = fields.String(validate=validate.Length(min=1, max=64), metadata={"description": "one unit's parts"})


class TrendQuery(Schema):
    months = fields.Integer(load_default=12, validate=validate.Range(min=1, max=stats.MAX_MONTHS))


class StatusCountSchema(Schema):
    status = fields.String()
    name = fields.String()
    count = fields.Integer()


class SummarySchema(Schema):
    total = fields.Integer(metadata={"description": "items"})
    open = fields.Integer(metadata={"description": "items in progress (在办)"})
    closed = fields.Integer(metadata={"description": "items closed off (已办结/销号)"})
    overdue = fields.Integer(metadata={"description": "open items with an overdue part (red in the ledger)"})
    statuses = fields.List(fields.Nested(StatusCountSchema))
    parts = fields.Integer(metadata={"description": "units' parts (承办任务) of these items"})
    overdue_parts = fields.Integer()
    finished_parts = fields.Integer(metadata={"description": "parts whose report was accepted"})
    on_time_parts = fields.Integer()
    on_time_rate = fields.Float(allow_none=True, metadata={"description": RATE})
    urges = fields.Integer(metadata={"description": "parts urged (催办单 issued)"})
    escalations = fields.Integer(metadata={"description": "parts referred to 纪委"})
    criticisms = fields.Integer(metadata={"description": "通报批评 records"})
    as_of = fields.DateTime()


class UnitStatsSchema(Schema):
    unit = fields.String()
    unit_name = fields.String()
    total = fields.Integer()
    open = fields.Integer()
    overdue = fields.Integer()
    completed = fields.Integer(metadata={"description": "parts whose report was accepted"})
    on_time = fields.Integer()
    on_time_rate = fields.Float(allow_none=True, metadata={"description": RATE})
    urges = fields.Integer()
    escalations = fields.Integer()
    criticisms = fields.Integer()


class OverdueSchema(Schema):
    item_id = fields.Integer()
    title = fields.String()
    status = fields.String()
    status_name = fields.String(allow_none=True)
    category = fields.String()
    unit = fields.String()
    unit_name = fields.String()
    role = fields.String(metadata={"description": "lead (牵头) or co (配合)"})
    deadline = fields.DateTime()
    urge_limit = fields.DateTime(allow_none=True)
    due_at = fields.DateTime(metadata={"description": "the limit that passed: the urge limit once urged"})
    urged_at = fields.DateTime(allow_none=True)
    escalated_at = fields.DateTime(allow_none=True)
    overdue_workdays = fields.Integer(metadata={"description": "working days after due_at's day up to today"})


class MonthSchema(Schema):
    month = fields.String(metadata={"description": "YYYY-MM (Beijing time)"})
    registered = fields.Integer()
    closed = fields.Integer()
    overdue = fields.Integer(metadata={"description": "parts overdue at the month's end (now, this month)"})


@blp.route("/summary")
class Summary(MethodView):
    @blp.arguments(PeriodQuery, location="query")
    @blp.response(200, SummarySchema)
    def get(self, query):
        """Counts by status, totals, overdue, on-time rate, urges and escalations"""
        return stats.summary(duban(), actor(), **query)


@blp.route("/units")
class Units(MethodView):
    @blp.arguments(PeriodQuery, location="query")
    @blp.response(200, UnitStatsSchema(many=True))
    def get(self, query):
        """Per unit: parts total, open, overdue, completed and the on-time rate (按期办结率)"""
        return stats.by_unit(duban(), actor(), **query)


@blp.route("/overdue")
class Overdue(MethodView):
    @blp.arguments(OverdueQuery, location="query")
    @blp.response(200, OverdueSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """Overdue parts, longest overdue first, with working days overdue"""
        return paged(pagination_parameters, lambda page, size: stats.overdue(
            duban(), actor(), page=page, per_page=size, **query))


@blp.route("/trend")
class Trend(MethodView):
    @blp.arguments(TrendQuery, location="query")
    @blp.response(200, MonthSchema(many=True))
    def get(self, query):
        """Registered, closed and overdue per month for the last `months` months"""
        return stats.trend(duban(), actor(), **query)

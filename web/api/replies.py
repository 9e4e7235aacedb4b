"""省长信箱, 人大建议, 政协提案: requester, reply and satisfaction of an item, and their statistics.

The rules and the definitions of the rates are engine/services/replies.py's.
"""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from engine.services import replies

from .common import actor, authenticated_blueprint, duban
from .schemas import Choice, PeriodQuery

blp = authenticated_blueprint("replies", __name__, "答复与满意度: 省长信箱, 人大建议, 政协提案")

RATE = {"description": "0-1, null when there is nothing to divide by"}


class ReplyRequest(Schema):
    requester_name = fields.String(required=True, validate=validate.Length(min=1, max=100),
                                   metadata={"description": "来信人 / 人大代表 / 政协委员"})
    requester_contact = fields.String(load_default="", validate=validate.Length(max=200))
    text = fields.String(load_default="", validate=validate.Length(max=replies.MAX_TEXT),
                         metadata={"description": "the reply; empty records the requester only"})
    replied_at = fields.String(load_default=None, validate=validate.Length(max=40),
                               metadata={"description": "ISO date or datetime the reply was given (default: now)"})


class SatisfactionRequest(Schema):
    satisfaction = fields.String(required=True, validate=Choice(replies.SATISFACTION),
                                 metadata={"description": "satisfied 满意, basically_satisfied 基本满意, "
                                                          "dissatisfied 不满意"})
    date = fields.Date(load_default=None, metadata={"description": "when the requester said so (default: today)"})
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class ReplySchema(Schema):
    item_id = fields.Integer()
    applies = fields.Boolean(metadata={"description": "the item's source takes replies"})
    requester_name = fields.String()
    requester_contact = fields.String()
    text = fields.String(allow_none=True)
    replied_at = fields.DateTime(allow_none=True)
    replied_by = fields.String(allow_none=True, metadata={"description": "who recorded the reply"})
    satisfaction = fields.String(allow_none=True)
    satisfaction_name = fields.String(allow_none=True)
    satisfaction_on = fields.Date(allow_none=True)
    satisfaction_by = fields.String(allow_none=True)
    satisfaction_note = fields.String(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)
    corrections = fields.Integer(metadata={"description": "corrections recorded (the replaced values are kept)"})


class SourceStatsSchema(Schema):
    source = fields.String()
    source_name = fields.String()
    items = fields.Integer()
    replied = fields.Integer()
    reply_rate = fields.Float(allow_none=True,
                              metadata={"description": "答复率 = replied ÷ items; " + RATE["description"]})
    due = fields.Integer(metadata={"description": "items replied, or past their deadline without a reply"})
    on_time = fields.Integer(metadata={"description": "replied on or before the item's deadline"})
    on_time_rate = fields.Float(allow_none=True, metadata={"description": "按期答复率 = on_time ÷ due"})
    satisfied = fields.Integer()
    basically_satisfied = fields.Integer()
    dissatisfied = fields.Integer()
    rated = fields.Integer(metadata={"description": "items whose satisfaction is recorded"})
    satisfaction_rate = fields.Float(allow_none=True, metadata={"description": "满意率 = (满意 + 基本满意) ÷ rated"})


@blp.route("/items/<int:item_id>/reply")
class ItemReply(MethodView):
    @blp.response(200, ReplySchema)
    def get(self, item_id):
        """The item's requester, reply and satisfaction"""
        return replies.get_reply(duban(), actor(), item_id)

    @blp.arguments(ReplyRequest)
    @blp.response(200, ReplySchema)
    def put(self, body, item_id):
        """The office records the requester and the reply (省长信箱, 人大建议, 政协提案 only: 409 otherwise)"""
        return replies.put_reply(duban(), actor(), item_id, body)


@blp.route("/items/<int:item_id>/satisfaction")
class ItemSatisfaction(MethodView):
    @blp.arguments(SatisfactionRequest)
    @blp.response(200, ReplySchema)
    def put(self, body, item_id):
        """The office records the requester's satisfaction with the reply (409 before a reply)"""
        return replies.put_satisfaction(duban(), actor(), item_id, body)


@blp.route("/stats/sources")
class SourceStats(MethodView):
    @blp.arguments(PeriodQuery, location="query")
    @blp.response(200, SourceStatsSchema(many=True))
    def get(self, query):
        """Per source (省长信箱, 人大建议, 政协提案): items, reply rate, on-time rate, satisfaction"""
        return replies.source_stats(duban(), actor(), **query)

"""GET /api/v1/public/items: the public board (公示销号) as JSON, for anyone, no token.

The JSON twin of the /public page; what it may show is decided in engine/services/public.py and
engine/access.py (`items_published`), never here.
"""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from engine.services import public

from .common import Blueprint, duban, paged
from .schemas import Choice

blp = Blueprint("public", __name__, description="公示销号: the public board of published items (no token needed)",
                url_prefix="/public")


class PublicQuery(Schema):
    status = fields.String(validate=Choice(public.STATUS_CHOICES),
                           metadata={"description": "办理中, 待签发, 待反馈 or 已销号 (closed)"})
    unit = fields.String(validate=validate.Length(min=1, max=64), metadata={"description": "any of the item's units"})
    text = fields.String(validate=validate.Length(max=public.MAX_TEXT), metadata={"description": "in the title"})


class PublicUnitSchema(Schema):
    unit = fields.String()
    unit_name = fields.String()
    role = fields.String(metadata={"description": "lead (牵头) or co (配合)"})
    role_name = fields.String()
    deadline = fields.DateTime(metadata={"description": "this unit's time limit (办结时限)"})
    first_responsible = fields.String(allow_none=True, metadata={"description": "第一责任人, from the unit's 签收"})
    responsible = fields.String(allow_none=True, metadata={"description": "具体责任人"})
    handler = fields.String(allow_none=True, metadata={"description": "具体承办人"})
    light = fields.String(metadata={"description": "green, yellow (预警) or red (逾期)"})


class PublicItemSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    status = fields.String()
    status_name = fields.String()
    closed = fields.Boolean(metadata={"description": "销号: closed off after review and feedback"})
    closed_at = fields.DateTime(allow_none=True, metadata={"description": "when it was closed off"})
    deadline = fields.DateTime()
    light = fields.String(metadata={"description": "green, yellow (预警) or red (逾期)"})
    light_name = fields.String()
    units = fields.List(fields.Nested(PublicUnitSchema))


@blp.route("/items")
class PublicItems(MethodView):
    @blp.arguments(PublicQuery, location="query")
    @blp.response(200, PublicItemSchema(many=True))
    @blp.paginate(max_page_size=public.MAX_PER_PAGE)
    @blp.doc(security=[])
    def get(self, query, pagination_parameters):
        """The public board: `public` items from 交办 on, with units, persons, deadlines, status and light"""
        filters = public.PublicFilter(**query)
        return paged(pagination_parameters, lambda page, size: public.list_published(
            duban(), filters, page=page, per_page=size))

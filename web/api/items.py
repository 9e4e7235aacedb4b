"""Supervision items: 立项 and the ledger (台账)."""
from __future__ import annotations

import io

from flask import send_file
from flask.views import MethodView

from engine import services
from engine.services import close_items, dossier, export, items as items_service, ledger, withdraw_item

from .common import actor, authenticated_blueprint, duban, paged
from .schemas import (
    DesigneeRequest,
    ExtensionRequest,
    ExtensionSchema,
    ItemQuery,
    ItemRequest,
    ItemSchema,
    RecordEntrySchema,
    SimilarItemSchema,
    SimilarQuery,
    WithdrawRequest,
)

blp = authenticated_blueprint("items", __name__, "Supervision items (督办事项)", "/items")


@blp.route("")
class Items(MethodView):
    @blp.arguments(ItemQuery, location="query")
    @blp.response(200, ItemSchema(many=True))
    @blp.paginate(max_page_size=200)
    def get(self, query, pagination_parameters):
        """The ledger: items visible to the caller, filtered and sorted"""
        return paged(pagination_parameters, lambda page, size: services.list_items(
            duban(), actor(), page=page, per_page=size, **query))

    @blp.arguments(ItemRequest)
    @blp.response(201, ItemSchema)
    def post(self, body):
        """立项: register an item and start the main process; `duplicates` names open items with a close
        title (可能重复: a warning, the item is registered)"""
        return services.register_item(duban(), actor(), body)


@blp.route("/similar")
class Similar(MethodView):
    @blp.arguments(SimilarQuery, location="query")
    @blp.response(200, SimilarItemSchema(many=True))
    def get(self, query):
        """重复提醒 before 立项: open items (that the caller may see) with a title close to `title`"""
        return close_items(duban(), actor(), query["title"])


@blp.route("/export.xlsx")
class ItemsExport(MethodView):
    @blp.arguments(ItemQuery, location="query")
    @blp.response(200, content_type=export.XLSX)
    @blp.doc(responses={"200": {"description": "The ledger as an Excel workbook (督办台账.xlsx)",
                                "content": {export.XLSX: {"schema": {"type": "string", "format": "binary"}}}}})
    def get(self, query):
        """The ledger as Excel (.xlsx): the list's filters and order, every row (at most 50,000)"""
        return send_file(io.BytesIO(export.items_xlsx(duban(), actor(), ledger.LedgerFilter(**query))),
                         mimetype=export.XLSX, as_attachment=True, download_name=export.filename(duban()))


@blp.route("/<int:item_id>")
class ItemResource(MethodView):
    @blp.response(200, ItemSchema)
    def get(self, item_id):
        """One item with its units, persons, deadline, status and light"""
        return services.get_item(duban(), actor(), item_id)


@blp.route("/<int:item_id>/record")
class ItemRecord(MethodView):
    @blp.response(200, RecordEntrySchema(many=True))
    def get(self, item_id):
        """办理记录: the item's whole file in order (批示, 拟办, reports, reviews and 退回 reasons, 催办, 纪委,
        延期, 答复), with names; a unit reads only its own unit's steps"""
        return dossier.item_record(duban(), actor(), item_id)


@blp.route("/<int:item_id>/withdraw")
class Withdraw(MethodView):
    @blp.arguments(WithdrawRequest)
    @blp.response(200, ItemSchema)
    def post(self, body, item_id):
        """撤销: the office withdraws its own mistaken item with a reason: the instance ends, open tasks are
        cancelled, the item is 已撤销 (403 for others, 409 once it has ended, 422 without a reason)"""
        return withdraw_item(duban(), actor(), item_id, body["reason"])


@blp.route("/<int:item_id>/designees")
class Designees(MethodView):
    @blp.arguments(DesigneeRequest)
    @blp.response(200, ItemSchema)
    def post(self, body, item_id):
        """保密: designate one more person for a secret item (its designated office staff, administrators)"""
        return items_service.designate(duban(), actor(), item_id, body["username"])


@blp.route("/<int:item_id>/designees/<string:username>")
class Designee(MethodView):
    @blp.response(200, ItemSchema)
    def delete(self, item_id, username):
        """保密: withdraw a person's designation for a secret item"""
        return items_service.designate(duban(), actor(), item_id, username, remove=True)


@blp.route("/<int:item_id>/extensions")
class Extensions(MethodView):
    @blp.response(200, ExtensionSchema(many=True))
    def get(self, item_id):
        """延期申请 of an item, oldest first"""
        return services.list_extensions(duban(), actor(), item_id)

    @blp.arguments(ExtensionRequest)
    @blp.response(201, ExtensionSchema)
    def post(self, body, item_id):
        """延期申请: the unit asks for a later deadline (reason, signed by its head); a leader decides"""
        return services.request_extension(duban(), actor(), item_id, body)

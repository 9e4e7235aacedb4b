"""Supervision items: 立项 and the ledger (台账)."""
from __future__ import annotations

from flask.views import MethodView

from engine import services

from .common import actor, authenticated_blueprint, duban, paged
from .schemas import ItemQuery, ItemRequest, ItemSchema

blp = authenticated_blueprint("items", __name__, "Supervision items (督办事项)", "/items")


@blp.route("")
class Items(MethodView):
    @blp.arguments(ItemQuery, location="query")
    @blp.response(200, ItemSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """The ledger: items visible to the caller"""
        return paged(pagination_parameters, lambda page, size: services.list_items(
            duban(), actor(), page=page, per_page=size, **query))

    @blp.arguments(ItemRequest)
    @blp.response(201, ItemSchema)
    def post(self, body):
        """立项: register an item and start the main process"""
        return services.register_item(duban(), actor(), body)


@blp.route("/<int:item_id>")
class ItemResource(MethodView):
    @blp.response(200, ItemSchema)
    def get(self, item_id):
        """One item with its units, persons, deadline, status and light"""
        return services.get_item(duban(), actor(), item_id)

"""Notifications: the caller's in-app messages."""
from __future__ import annotations

from flask.views import MethodView

from engine.services import notifications

from .common import actor, authenticated_blueprint, duban, paged
from .schemas import CountSchema, NotificationQuery, NotificationSchema

blp = authenticated_blueprint("notifications", __name__, "Notifications (通知)", "/notifications")


@blp.route("")
class Notifications(MethodView):
    @blp.arguments(NotificationQuery, location="query")
    @blp.response(200, NotificationSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """The caller's notifications, newest first (unread=1 for the unread ones; kind, item_id to filter)"""
        return paged(pagination_parameters, lambda page, size: notifications.list_for(
            duban(), actor(), query["unread"], page, size, kind=query.get("kind"), item_id=query.get("item_id")))


@blp.route("/unread-count")
class UnreadCount(MethodView):
    @blp.response(200, CountSchema)
    def get(self):
        """How many notifications the caller has not read"""
        return {"count": notifications.unread_count(duban(), actor())}


@blp.route("/<int:notification_id>/read")
class Read(MethodView):
    @blp.response(200, CountSchema)
    def post(self, notification_id):
        """Mark one notification read"""
        return {"count": notifications.mark_read(duban(), actor(), notification_id)}


@blp.route("/read-all")
class ReadAll(MethodView):
    @blp.response(200, CountSchema)
    def post(self):
        """Mark every notification of the caller read"""
        return {"count": notifications.mark_read(duban(), actor())}

"""Messages: start processes on a message start event, or deliver to a waiting instance."""
from __future__ import annotations

from flask.views import MethodView

from engine import services

from .common import actor, authenticated_blueprint, duban
from .schemas import MessageRequest, MessageResult

blp = authenticated_blueprint("messages", __name__, "Messages (消息)", "/messages")


@blp.route("")
class Messages(MethodView):
    @blp.arguments(MessageRequest)
    @blp.response(200, MessageResult)
    @blp.alt_response(409, description="The instance is not waiting for this message")
    def post(self, body):
        """Send a message (like Camunda's /message): to one instance, or to message start events"""
        return {"instances": services.send_message(duban(), actor(), body["name"], body["data"],
                                                   body.get("instance_id"))}

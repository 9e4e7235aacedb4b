"""发起: the processes the caller may start, with their start forms, and starting one."""
from __future__ import annotations

from flask.views import MethodView

from engine.services import starting

from .common import actor, authenticated_blueprint, duban
from .schemas import ProcessStartRequest, StartableSchema, StartedSchema

blp = authenticated_blueprint("processes", __name__, "Starting processes (发起)", "/processes")


@blp.route("/startable")
class Startable(MethodView):
    @blp.response(200, StartableSchema(many=True))
    def get(self):
        """The latest version of every process the caller may start (duban:starterRoles; without it the
        office, designers and administrators), with its start event's form-js form (or null)"""
        return starting.startable(duban(), actor())


@blp.route("/<string:key>/start")
class Start(MethodView):
    @blp.arguments(ProcessStartRequest)
    @blp.response(201, StartedSchema)
    @blp.alt_response(422, description="The start form's data is invalid; details name the field")
    def post(self, body, key):
        """Start the latest version of `key` with its start form's data; a process declaring a 督办 item
        (duban:item) registers the item from that data (title, content, category, ...)"""
        return starting.start(duban(), actor(), key, body["data"])

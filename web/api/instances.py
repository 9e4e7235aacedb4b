"""Process instances: start any process, list and inspect instances."""
from __future__ import annotations

from flask.views import MethodView

from engine import services

from .common import actor, authenticated_blueprint, duban, paged
from .schemas import InstanceDetailSchema, InstanceQuery, InstanceSchema, StartRequest

blp = authenticated_blueprint("instances", __name__, "Process instances (流程实例)", "/instances")


@blp.route("")
class Instances(MethodView):
    @blp.arguments(InstanceQuery, location="query")
    @blp.response(200, InstanceSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """Instances visible to the caller; filter by status, definition_key, overdue=1"""
        return paged(pagination_parameters, lambda page, size: services.list_instances(
            duban(), actor(), query.get("status"), query.get("definition_key"), query["overdue"], page, size))

    @blp.arguments(StartRequest)
    @blp.response(201, InstanceDetailSchema)
    def post(self, body):
        """Start the latest version of a deployed process with variables"""
        return services.start_instance(duban(), actor(), body["definition_key"], body["data"])


@blp.route("/<int:instance_id>")
class InstanceResource(MethodView):
    @blp.response(200, InstanceDetailSchema)
    def get(self, instance_id):
        """One instance: status, data, open tasks, pending timers, history"""
        return services.get_instance(duban(), actor(), instance_id)

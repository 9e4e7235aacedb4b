"""Process instances: start any process, list and inspect instances."""
from __future__ import annotations

from flask.views import MethodView

from engine import services
from engine.services import operations

from .common import actor, authenticated_blueprint, duban, paged
from .schemas import (
    InstanceDetailSchema,
    InstanceQuery,
    InstanceSchema,
    MigrationCheckSchema,
    MigrationRequest,
    ReasonRequest,
    StartRequest,
)

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


def _operation(name: str, summary: str, with_reason: bool = True):
    """POST /instances/<id>/<name>: one administrative action on one instance."""

    @blp.route(f"/<int:instance_id>/{name}", endpoint=f"instance_{name}")
    class Operation(MethodView):
        @blp.arguments(ReasonRequest, required=False)
        @blp.response(200, InstanceDetailSchema)
        def post(self, body, instance_id):
            arguments = {"reason": (body or {}).get("reason")} if with_reason else {}
            return getattr(operations, name)(duban(), actor(), instance_id, **arguments)

    Operation.post.__doc__ = summary
    return Operation


_operation("suspend", "Suspend (挂起): no task is completed and no timer fires until resumed (administrators)")
_operation("resume", "Resume (恢复) a suspended instance (administrators)")
_operation("terminate", "Terminate (终止) with a reason: open tasks and timers are cancelled (administrators)")
_operation("retry", "Retry (重试) the step that failed (an incident) (administrators)", with_reason=False)


@blp.route("/<int:instance_id>/migration")
class Migration(MethodView):
    @blp.arguments(MigrationRequest, location="query", as_kwargs=True)
    @blp.response(200, MigrationCheckSchema)
    def get(self, instance_id, version=None):
        """Whether the instance can move to a version (default: the latest), and what stands in the way"""
        return operations.migration_check(duban(), actor(), instance_id, version)

    @blp.arguments(MigrationRequest, as_kwargs=True)
    @blp.response(200, InstanceDetailSchema)
    def post(self, instance_id, version=None):
        """Migrate (迁移) the instance to a version (default: the latest); 409 when incompatible (administrators)"""
        return operations.migrate(duban(), actor(), instance_id, version)

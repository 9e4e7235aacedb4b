"""Tasks: the inbox, one task with its form, claim and complete."""
from __future__ import annotations

from flask.views import MethodView

from engine import services

from .common import actor, authenticated_blueprint, duban, paged
from .schemas import CompletedSchema, CompleteRequest, TaskDetailSchema, TaskQuery, TaskSchema

blp = authenticated_blueprint("tasks", __name__, "Tasks (待办)", "/tasks")


@blp.route("")
class Tasks(MethodView):
    @blp.arguments(TaskQuery, location="query")
    @blp.response(200, TaskSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """Open tasks the caller may work on (own, own unit's, own role's)"""
        return paged(pagination_parameters, lambda page, size: services.list_tasks(
            duban(), actor(), query.get("instance_id"), query.get("scope"), page, size))


@blp.route("/<string:task_id>")
class TaskResource(MethodView):
    @blp.response(200, TaskDetailSchema)
    def get(self, task_id):
        """One task with its form-js schema and data"""
        return services.get_task(duban(), actor(), task_id)


@blp.route("/<string:task_id>/claim")
class Claim(MethodView):
    @blp.response(200, TaskDetailSchema)
    def post(self, task_id):
        """Take the task (it then shows only in the claimant's inbox)"""
        return services.claim_task(duban(), actor(), task_id)


@blp.route("/<string:task_id>/unclaim")
class Unclaim(MethodView):
    @blp.response(200, TaskDetailSchema)
    def post(self, task_id):
        """Give a claimed task back to the role or unit"""
        return services.unclaim_task(duban(), actor(), task_id)


@blp.route("/<string:task_id>/complete")
class Complete(MethodView):
    @blp.arguments(CompleteRequest)
    @blp.response(200, CompletedSchema)
    @blp.alt_response(409, description="Already completed, or the instance changed meanwhile")
    @blp.alt_response(422, description="The data does not satisfy the form")
    def post(self, body, task_id):
        """Complete the task with form data (validated against its form)"""
        return services.complete_task(duban(), actor(), task_id, body["data"])

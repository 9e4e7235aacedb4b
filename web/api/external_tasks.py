"""External tasks (外部任务) in Camunda 7's REST shapes, so that Camunda's own clients
(camunda-external-task-client-python3, -js) work unchanged with `…/api/v1` as their base URL.

Worker service accounts (`duban user worker`) authenticate with HTTP Basic (the clients' `auth_basic`)
or a bearer token. Errors carry Duban's shape plus Camunda's `type` (web/errors.py).
"""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import EXCLUDE, Schema, fields, validate

from engine.services import external_tasks

from .common import actor, authenticated_blueprint, duban
from .schemas import Submission

blp = authenticated_blueprint("external_tasks", __name__, "External tasks (外部任务, Camunda 7 compatible)",
                              "/external-task")
SECURITY = [{"bearer": []}, {"basic": []}]
_ID = fields.String(validate=validate.Length(min=1, max=36))


@blp.after_request
def _no_body_no_type(response):
    """A 204 says nothing, so it names no content type, as Camunda's: the JS client parses any answer
    labelled application/json, and an empty one failed it ("Unexpected end of JSON input")."""
    if response.status_code == 204:
        response.headers.pop("Content-Type", None)
    return response


class _Camunda(Schema):
    class Meta:
        unknown = EXCLUDE  # Camunda's clients send fields Duban does not use (sorting, processVariables...)


class ExternalTopicRequest(_Camunda):
    topicName = fields.String(required=True, validate=validate.Length(min=1, max=200))
    lockDuration = fields.Integer(required=True, validate=validate.Range(min=1, max=10**10))
    variables = fields.List(fields.String(validate=validate.Length(max=200)), allow_none=True,
                            validate=validate.Length(max=500))
    processDefinitionKey = fields.String(allow_none=True, validate=validate.Length(max=200))
    processDefinitionKeyIn = fields.List(fields.String(validate=validate.Length(max=200)), allow_none=True,
                                         validate=validate.Length(max=100))
    processInstanceId = fields.String(allow_none=True, validate=validate.Length(max=20))
    processDefinitionId = fields.String(allow_none=True, validate=validate.Length(max=200))
    processDefinitionIdIn = fields.List(fields.String(validate=validate.Length(max=200)), allow_none=True,
                                        validate=validate.Length(max=100))
    processDefinitionVersionTag = fields.String(allow_none=True, validate=validate.Length(max=200))
    businessKey = fields.String(allow_none=True, validate=validate.Length(max=200))
    tenantIdIn = fields.List(fields.String(validate=validate.Length(max=200)), allow_none=True,
                             validate=validate.Length(max=100))
    withoutTenantId = fields.Boolean(allow_none=True)
    processVariables = fields.Dict(allow_none=True, metadata={"description": "not supported: must be empty"})


class ExternalSorting(_Camunda):
    sortBy = fields.String(validate=validate.OneOf(["createTime"]))
    sortOrder = fields.String(validate=validate.OneOf(["asc", "desc"]))


class ExternalFetchRequest(_Camunda):
    workerId = fields.String(required=True, validate=validate.Length(min=1, max=255))
    maxTasks = fields.Integer(load_default=10, validate=validate.Range(min=0, max=100))
    usePriority = fields.Boolean(load_default=False, allow_none=True)
    asyncResponseTimeout = fields.Integer(load_default=None, allow_none=True,
                                          validate=validate.Range(min=0, max=1_800_000))
    topics = fields.List(fields.Nested(ExternalTopicRequest), required=True, validate=validate.Length(max=100))
    sorting = fields.List(fields.Nested(ExternalSorting), allow_none=True, validate=validate.Length(max=5))


class ExternalLockedTask(Schema):
    id = fields.String()
    topicName = fields.String()
    workerId = fields.String(allow_none=True)
    lockExpirationTime = fields.String(allow_none=True)
    processInstanceId = fields.String()
    processDefinitionKey = fields.String()
    processDefinitionId = fields.String()
    activityId = fields.String()
    activityInstanceId = fields.String()
    executionId = fields.String()
    businessKey = fields.String(allow_none=True)
    tenantId = fields.String(allow_none=True)
    retries = fields.Integer(allow_none=True)
    errorMessage = fields.String(allow_none=True)
    errorDetails = fields.String(allow_none=True)
    priority = fields.Integer()
    createTime = fields.String(allow_none=True)
    variables = fields.Dict(metadata={"description": 'typed values: {"name": {"value", "type", "valueInfo"}}'})
    extensionProperties = fields.Dict()


class ExternalTaskSchema(ExternalLockedTask):
    activityName = fields.String()
    state = fields.String()
    suspended = fields.Boolean()
    processDefinitionVersionTag = fields.String(allow_none=True)


class ExternalCompleteRequest(_Camunda):
    workerId = fields.String(required=True, validate=validate.Length(min=1, max=255))
    variables = Submission(load_default=None, allow_none=True)
    localVariables = Submission(load_default=None, allow_none=True)


class ExternalFailureRequest(_Camunda):
    workerId = fields.String(required=True, validate=validate.Length(min=1, max=255))
    errorMessage = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    errorDetails = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100_000))
    retries = fields.Integer(required=True, validate=validate.Range(min=0, max=10_000))
    retryTimeout = fields.Integer(load_default=0, allow_none=True, validate=validate.Range(min=0, max=10**10))


class ExternalBpmnErrorRequest(_Camunda):
    workerId = fields.String(required=True, validate=validate.Length(min=1, max=255))
    errorCode = fields.String(required=True, validate=validate.Length(min=1, max=200))
    errorMessage = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    variables = Submission(load_default=None, allow_none=True)


class ExternalLockRequest(_Camunda):
    workerId = fields.String(required=True, validate=validate.Length(min=1, max=255))
    lockDuration = fields.Integer(required=True, validate=validate.Range(min=1, max=10**10))


class ExternalExtendLockRequest(_Camunda):
    workerId = fields.String(required=True, validate=validate.Length(min=1, max=255))
    newDuration = fields.Integer(required=True, validate=validate.Range(min=1, max=10**10))


class ExternalListQuery(_Camunda):
    topicName = fields.String(validate=validate.Length(max=200))
    workerId = fields.String(validate=validate.Length(max=255))
    activityId = fields.String(validate=validate.Length(max=200))
    processInstanceId = fields.String(validate=validate.Length(max=20))
    processDefinitionKey = fields.String(validate=validate.Length(max=200))
    externalTaskId = fields.String(validate=validate.Length(max=36))
    locked = fields.Boolean()
    notLocked = fields.Boolean()
    withRetriesLeft = fields.Boolean()
    noRetriesLeft = fields.Boolean()
    firstResult = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10**9))
    maxResults = fields.Integer(load_default=100, validate=validate.Range(min=0, max=1000))


@blp.route("/fetchAndLock")
class FetchAndLock(MethodView):
    @blp.arguments(ExternalFetchRequest)
    @blp.response(200, ExternalLockedTask(many=True))
    @blp.doc(security=SECURITY)
    def post(self, body):
        """Fetch and lock external tasks of the worker's topics (long polling with asyncResponseTimeout)"""
        return external_tasks.fetch_and_lock(
            duban(), actor(), body["workerId"], body["maxTasks"], body["topics"], bool(body.get("usePriority")),
            body.get("asyncResponseTimeout"), body.get("sorting"))


@blp.route("")
class ExternalTasks(MethodView):
    @blp.arguments(ExternalListQuery, location="query")
    @blp.response(200, ExternalTaskSchema(many=True))
    @blp.doc(security=SECURITY)
    def get(self, query):
        """Open external tasks: a worker's topics, or all for operators (保密: only items one is cleared for)"""
        first, limit = query.pop("firstResult"), query.pop("maxResults")
        return external_tasks.list_tasks(duban(), actor(), query, first, limit)


@blp.route("/<external_task_id>")
class OneExternalTask(MethodView):
    @blp.response(200, ExternalTaskSchema)
    @blp.doc(security=SECURITY)
    def get(self, external_task_id):
        """One external task (404 when missing or not visible)"""
        return external_tasks.get_task(duban(), actor(), external_task_id)


@blp.route("/<external_task_id>/complete")
class Complete(MethodView):
    @blp.arguments(ExternalCompleteRequest)
    @blp.response(204)
    @blp.alt_response(409, description="Not locked by this worker, lock expired, or already ended")
    @blp.doc(security=SECURITY)
    def post(self, body, external_task_id):
        """Complete a locked task with variables; the instance moves on"""
        external_tasks.complete(duban(), actor(), external_task_id, body["workerId"], body.get("variables"),
                                body.get("localVariables"))


@blp.route("/<external_task_id>/failure")
class Failure(MethodView):
    @blp.arguments(ExternalFailureRequest)
    @blp.response(204)
    @blp.doc(security=SECURITY)
    def post(self, body, external_task_id):
        """Report a failure: fetchable again after retryTimeout, or at 0 retries an incident"""
        external_tasks.fail(duban(), actor(), external_task_id, body["workerId"], body.get("errorMessage"),
                            body.get("errorDetails"), body["retries"], body.get("retryTimeout") or 0)


@blp.route("/<external_task_id>/bpmnError")
class BpmnError(MethodView):
    @blp.arguments(ExternalBpmnErrorRequest)
    @blp.response(204)
    @blp.doc(security=SECURITY)
    def post(self, body, external_task_id):
        """Report a BPMN error: the task's error boundary event for errorCode takes over (none: an incident)"""
        external_tasks.bpmn_error(duban(), actor(), external_task_id, body["workerId"], body["errorCode"],
                                  body.get("errorMessage"), body.get("variables"))


@blp.route("/<external_task_id>/lock")
class Lock(MethodView):
    @blp.arguments(ExternalLockRequest)
    @blp.response(204)
    @blp.alt_response(409, description="Locked by another worker, or already ended")
    @blp.doc(security=SECURITY)
    def post(self, body, external_task_id):
        """Lock one task by id for lockDuration milliseconds (free, expired, or already this worker's)"""
        external_tasks.lock(duban(), actor(), external_task_id, body["workerId"], body["lockDuration"])


@blp.route("/<external_task_id>/extendLock")
class ExtendLock(MethodView):
    @blp.arguments(ExternalExtendLockRequest)
    @blp.response(204)
    @blp.doc(security=SECURITY)
    def post(self, body, external_task_id):
        """Extend the lock by newDuration milliseconds from now (the lock's holder only)"""
        external_tasks.extend_lock(duban(), actor(), external_task_id, body["workerId"], body["newDuration"])


@blp.route("/<external_task_id>/unlock")
class Unlock(MethodView):
    @blp.response(204)
    @blp.doc(security=SECURITY)
    def post(self, external_task_id):
        """Release the lock: fetchable again at once"""
        external_tasks.unlock(duban(), actor(), external_task_id)

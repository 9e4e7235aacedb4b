"""Request and response schemas of the HTTP API (they are also its OpenAPI documentation).

Where a schema lives: here when more than one module uses it (ErrorSchema, UnitSchema, PeriodQuery, the
Submission field); here too the schemas of the API's first resources (auth, org, definitions, instances,
tasks, items, messages, files, notifications, calendar, modeler, starting), which nest one another (a task
its basis and history, an instance its tasks). A schema that only its own resource uses may live beside it,
in that resource's module, as those of every resource added since do (admin, assessment, bulletins,
documents, progress, public, replies, stats). No resource module imports from another:
tests/unit/test_engine_surface.py holds the API to this.
"""
from __future__ import annotations

import json
from datetime import date

from flask import current_app
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from engine.config import Settings
from engine.services import CATEGORIES, CLASSIFICATIONS, LIGHTS, SORT_KEYS, SOURCES, STATUSES
from engine.texts import one_of, text

LEDGER_SORTS = [prefix + key for key in SORT_KEYS for prefix in ("", "-")]
LEDGER_DAYS = validate.Range(min=date(1900, 1, 1), max=date(9998, 12, 31))


class Choice(validate.OneOf):
    """One of a mapping's codes; its error names each code with its label (texts.one_of), as the
    services' own checks do."""

    def __init__(self, labelled: dict[str, str]):
        super().__init__(list(labelled), labels=list(labelled.values()))
        self.labelled = labelled

    def _format_error(self, value) -> str:
        return one_of(self.labelled)


# Identifiers and versions a request names: beyond an SQL INTEGER they are invalid input (422), not overflows.
SQL_ID = validate.Range(min=1, max=2**31 - 1)


class Submission(fields.Dict):
    """Task data or process variables: a JSON object of at most DUBAN_MAX_SUBMISSION_BYTES (as UTF-8 JSON).

    Checked before any service runs, so an oversized submission changes nothing and never holds a lock.
    """

    def __init__(self, **kwargs):
        super().__init__(keys=fields.String(), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
                   .encode("utf-8", "surrogatepass"))
        limit = _max_submission_bytes()
        if size > limit:
            raise ValidationError(text("input.submission_too_large", size=size, limit=limit))
        return value


def _max_submission_bytes() -> int:
    duban = current_app.extensions.get("duban")
    return duban.settings.max_submission_bytes if duban else Settings.max_submission_bytes


class ErrorSchema(Schema):
    error = fields.String(required=True, metadata={"description": "machine-readable code"})
    message = fields.String(required=True)
    details = fields.List(fields.Dict(), metadata={"description": "one entry per field or element at fault"})
    type = fields.String(metadata={"description": "Camunda 7's exception name (external task endpoints only)"})


class TokenRequest(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class TokenResponse(Schema):
    token = fields.String(required=True)
    expires_at = fields.DateTime()


class MeSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    roles = fields.List(fields.String())
    unit = fields.String(allow_none=True)
    unit_name = fields.String(allow_none=True)


class UnitSchema(Schema):
    id = fields.String()
    name = fields.String()
    kind = fields.String(metadata={"description": "office, leader, unit, discipline or other"})
    kind_name = fields.String()
    sort = fields.Integer()
    parent_id = fields.String(allow_none=True, metadata={"description": "上级单位 (单位层级)"})
    category = fields.String(allow_none=True, metadata={
        "description": "dept 县直部门, township 乡镇（街道）, party 党群部门, vertical 垂直管理部门, other 其他"})
    category_name = fields.String(allow_none=True)
    active = fields.Boolean(metadata={"description": "false: deactivated, no longer chosen as 承办单位"})
    liaison = fields.String(allow_none=True, metadata={"description": "督查联络员's username"})
    liaison_name = fields.String(allow_none=True)


class DefinitionSchema(Schema):
    key = fields.String()
    name = fields.String()
    version = fields.Integer()
    deployed_at = fields.DateTime()
    deployed_by = fields.String(allow_none=True)
    running_instances = fields.Integer()
    warnings = fields.List(fields.Dict())


class DefinitionQuery(Schema):
    all_versions = fields.Boolean(load_default=False)


class DeployFiles(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary",
                                               "description": "BPMN and DMN file(s); repeat the field for several"})
    forms = fields.Raw(metadata={"type": "string", "format": "binary",
                                 "description": "form-js .form files the diagram references"})


class DeployedSchema(Schema):
    key = fields.String()
    version = fields.Integer()
    name = fields.String()
    created = fields.Boolean(metadata={"description": "false when identical content was already deployed"})
    warnings = fields.List(fields.Dict())
    kind = fields.String(metadata={"description": "process or decision (a DMN decision table)"})
    processes = fields.List(fields.Dict())
    decisions = fields.List(fields.Dict(), metadata={"description": "the DMN decisions deployed"})


class XmlQuery(Schema):
    version = fields.Integer(validate=SQL_ID)


class StartRequest(Schema):
    definition_key = fields.String(required=True, validate=validate.Length(min=1, max=200))
    data = Submission(load_default=dict)


class InstanceQuery(Schema):
    status = fields.String(validate=validate.OneOf(["running", "completed", "terminated", "error", "suspended"]))
    definition_key = fields.String()
    overdue = fields.Boolean(load_default=False)


class TaskSchema(Schema):
    id = fields.String()
    name = fields.String()
    element_id = fields.String()
    instance_id = fields.Integer()
    item_id = fields.Integer(allow_none=True)
    lane = fields.String(allow_none=True)
    role = fields.String(allow_none=True)
    role_name = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    unit_name = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)
    assignee_name = fields.String(allow_none=True)
    state = fields.String()
    due_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)
    completed_by = fields.String(allow_none=True)
    form_key = fields.String(allow_none=True)
    item_title = fields.String(allow_none=True)
    light = fields.String(metadata={"description": "green, yellow (due within the warning days) or red (overdue)"})


class RecordFieldSchema(Schema):
    key = fields.String()
    label = fields.String()
    type = fields.String(metadata={"description": "text, date, datetime (value in ISO 8601) or files"})
    value = fields.Raw(allow_none=True, metadata={"description": "as people read it (a choice's label, a unit's "
                                                                  "name); dates in ISO 8601"})
    files = fields.List(fields.Dict(), metadata={"description": "佐证材料: id, name, size"})


class RecordEntrySchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    action = fields.String()
    kind = fields.String(allow_none=True, metadata={"description": "the 督办 step kind the element declares"})
    element_id = fields.String(allow_none=True)
    title = fields.String()
    by = fields.String(allow_none=True, metadata={"description": "username"})
    by_name = fields.String()
    by_unit_name = fields.String(allow_none=True)
    signed = fields.String(metadata={"description": "name with unit, as a signature"})
    unit = fields.String(allow_none=True, metadata={"description": "unit id"})
    unit_name = fields.String(allow_none=True)
    # `fields` would hide marshmallow's module in the class body
    fields_ = fields.List(fields.Nested(RecordFieldSchema), data_key="fields", attribute="fields")
    returned = fields.Boolean(metadata={"description": "this step sent the work back (退回)"})
    reason = fields.String(allow_none=True, metadata={"description": "why it was sent back"})
    review = fields.Nested(lambda: RecordEntrySchema(exclude=("review",)), allow_none=True,
                           metadata={"description": "in 办理依据: the 审核 that followed a report"})


class BasisSchema(Schema):
    returned = fields.Nested(RecordEntrySchema, allow_none=True,
                             metadata={"description": "the step that sent this work back, with its reason"})
    facts = fields.List(fields.Nested(RecordFieldSchema))
    entries = fields.List(fields.Nested(RecordEntrySchema), metadata={"description": "what the decision rests on"})


class TaskDetailSchema(TaskSchema):
    form = fields.Dict(allow_none=True, metadata={"description": "the form-js schema"})
    data = fields.Dict(metadata={"description": "the data the form starts from"})
    can_work = fields.Boolean()
    completed_by_name = fields.String(allow_none=True)
    basis = fields.Nested(BasisSchema, metadata={"description": "办理依据: the reason of a return and the records "
                                                                 "this task's decision rests on"})


class TaskQuery(Schema):
    instance_id = fields.Integer(validate=SQL_ID)
    scope = fields.String(validate=validate.OneOf(["mine", "unit", "role"]))


class CompleteRequest(Schema):
    data = Submission(required=True)


class CompletedSchema(Schema):
    id = fields.String()
    state = fields.String()
    instance_id = fields.Integer()


class TimerSchema(Schema):
    id = fields.String()
    element_id = fields.String()
    name = fields.String()
    unit = fields.String(allow_none=True)
    due_at = fields.DateTime()
    state = fields.String()
    fired_at = fields.DateTime(allow_none=True)


class HistorySchema(Schema):
    at = fields.DateTime()
    actor = fields.String(allow_none=True)
    action = fields.String()
    element_id = fields.String(allow_none=True)
    task_id = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    data = fields.Dict(allow_none=True)
    actor_name = fields.String(allow_none=True)
    unit_name = fields.String(allow_none=True)
    reason = fields.String(allow_none=True, metadata={"description": "退回原因 of a step that sent work back"})


class InstanceSchema(Schema):
    id = fields.Integer()
    status = fields.String()
    definition_key = fields.String()
    definition_name = fields.String()
    version = fields.Integer()
    item_id = fields.Integer(allow_none=True)
    started_by = fields.String(allow_none=True)
    started_at = fields.DateTime()
    updated_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)
    error = fields.String(allow_none=True)


class InstanceDetailSchema(InstanceSchema):
    started_by_name = fields.String(allow_none=True)
    data = fields.Dict()
    trail = fields.List(fields.String(allow_none=True),
                        metadata={"description": "elements passed, in order (null: an engine-internal step)"})
    tasks = fields.List(fields.Nested(TaskSchema))
    timers = fields.List(fields.Nested(TimerSchema))
    history = fields.List(fields.Nested(HistorySchema))


class ValidatedSchema(Schema):
    key = fields.String()
    name = fields.String()
    warnings = fields.List(fields.Raw())


class FormsSchema(Schema):
    forms = fields.Dict(keys=fields.String(), values=fields.Dict(), metadata={"description": "form id: form-js schema"})


class ReasonRequest(Schema):
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class MigrationRequest(Schema):
    version = fields.Integer(load_default=None, allow_none=True, validate=SQL_ID)


class MigrationCheckSchema(Schema):
    from_version = fields.Integer()
    to_version = fields.Integer()
    compatible = fields.Boolean()
    problems = fields.List(fields.String())


class ItemRequest(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=500))
    content = fields.String(load_default="", validate=validate.Length(max=20000))
    source = fields.String(load_default="other", validate=Choice(SOURCES))
    category = fields.String(load_default="normal", validate=Choice(CATEGORIES))
    classification = fields.String(load_default="internal", validate=Choice(CLASSIFICATIONS))
    deadline = fields.String(metadata={"description": "ISO date or datetime; computed from category if absent"})
    designees = fields.List(fields.String(validate=validate.Length(max=64)), load_default=list,
                            validate=validate.Length(max=100),
                            metadata={"description": "secret items: usernames of the designated people "
                                                     "(the registering person is always one)"})


class DesigneeRequest(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))


class ItemUnitSchema(Schema):
    unit = fields.String()
    unit_name = fields.String()
    role = fields.String(metadata={"description": "lead (牵头) or co (配合)"})
    deadline = fields.DateTime()
    urge_limit = fields.DateTime(allow_none=True)
    committed_date = fields.String(allow_none=True)
    first_responsible = fields.String(allow_none=True)
    responsible = fields.String(allow_none=True)
    handler = fields.String(allow_none=True)
    received_at = fields.DateTime(allow_none=True)
    reported_at = fields.DateTime(allow_none=True)
    accepted_at = fields.DateTime(allow_none=True)
    urged_at = fields.DateTime(allow_none=True)
    escalated_at = fields.DateTime(allow_none=True)
    light = fields.String()


class RefusalSchema(Schema):
    by = fields.String(allow_none=True)
    by_name = fields.String(allow_none=True)
    at = fields.DateTime(allow_none=True)
    step = fields.String(metadata={"description": "the step that refused (领导审批)"})
    reason = fields.String(metadata={"description": "its 批示 or opinion; empty when none was given"})


class ItemSchema(Schema):
    id = fields.Integer()
    instance_id = fields.Integer(allow_none=True)
    title = fields.String()
    content = fields.String()
    source = fields.String()
    source_name = fields.String(allow_none=True)
    category = fields.String()
    category_name = fields.String(allow_none=True)
    classification = fields.String()
    classification_name = fields.String(allow_none=True)
    deadline = fields.DateTime()
    deadline_provisional = fields.Boolean()
    status = fields.String()
    status_name = fields.String(allow_none=True)
    light = fields.String(metadata={"description": "green, yellow (预警) or red (逾期)"})
    lead_unit = fields.String(allow_none=True)
    units = fields.List(fields.Nested(ItemUnitSchema))
    persons = fields.List(fields.Dict())
    designees = fields.List(fields.String(), metadata={"description": "secret items: the designated people"})
    created_by = fields.String()
    created_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    refusal = fields.Nested(RefusalSchema, allow_none=True, metadata={
        "description": "不予立项 only: who refused, when and why (the item then has no units)"})
    withdrawn_reason = fields.String(allow_none=True, metadata={"description": "撤销: why the office withdrew it"})
    withdrawn_by = fields.String(allow_none=True)
    withdrawn_by_name = fields.String(allow_none=True)
    withdrawn_at = fields.DateTime(allow_none=True)
    designee_people = fields.List(fields.Dict(), metadata={
        "description": "secret items: the designated people with `username`, `name`, `unit_name`"})
    duplicates = fields.List(fields.Nested(lambda: SimilarItemSchema()), metadata={
        "description": "立项 answer only: open items with a close title (可能重复), closest first"})


class SimilarItemSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    status = fields.String()
    status_name = fields.String()
    similarity = fields.Float(metadata={"description": "0 to 1, difflib ratio of the normalised titles"})
    url = fields.String(metadata={"description": "the item's page"})
    message = fields.String(metadata={"description": "可能与在办事项《…》重复"})


class SimilarQuery(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=500))


class WithdrawRequest(Schema):
    reason = fields.String(required=True, validate=validate.Length(max=1000), metadata={"description": "撤销理由"})


class PersonQuery(Schema):
    q = fields.String(load_default="", validate=validate.Length(max=64),
                      metadata={"description": "part of a name, username or unit name"})
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=50))


class PersonSchema(Schema):
    username = fields.String()
    name = fields.String()
    unit = fields.String(allow_none=True)
    unit_name = fields.String(allow_none=True)


class ItemQuery(Schema):
    """The ledger's filters (engine/services/ledger.py); dates are Beijing days, both ends included."""

    status = fields.String(validate=Choice(STATUSES))
    unit = fields.String(validate=validate.Length(max=64), metadata={"description": "any of the item's units"})
    source = fields.String(validate=Choice(SOURCES))
    category = fields.String(validate=Choice(CATEGORIES))
    classification = fields.String(validate=Choice(CLASSIFICATIONS))
    light = fields.String(validate=Choice(LIGHTS),
                          metadata={"description": "green, yellow (预警) or red (逾期), as each item shows"})
    registered_from = fields.Date(data_key="from", validate=LEDGER_DAYS, metadata={"description": "立项 on or after"})
    registered_to = fields.Date(data_key="to", validate=LEDGER_DAYS, metadata={"description": "立项 on or before"})
    deadline_from = fields.Date(validate=LEDGER_DAYS, metadata={"description": "deadline on or after"})
    deadline_to = fields.Date(validate=LEDGER_DAYS, metadata={"description": "deadline on or before"})
    text = fields.String(validate=validate.Length(max=200), metadata={"description": "in the title or content"})
    sort = fields.String(validate=validate.OneOf(LEDGER_SORTS),
                         metadata={"description": "id, created_at, deadline, title or status; '-' first: descending"})


class MessageRequest(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    data = Submission(load_default=dict)
    instance_id = fields.Integer(validate=SQL_ID,
                                 metadata={"description": "deliver to this instance; omit to start processes"})


class MessageResult(Schema):
    instances = fields.List(fields.Integer())


class NotificationSchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    kind = fields.String(metadata={"description": "task, yellow, red, urge, escalated, assign_due, extension, "
                                                  "progress_reminder"})
    kind_name = fields.String(metadata={"description": "the kind in Chinese (待办任务, 临期预警, ...)"})
    title = fields.String()
    body = fields.String()
    item_id = fields.Integer(allow_none=True)
    instance_id = fields.Integer(allow_none=True)
    task_id = fields.String(allow_none=True)
    read = fields.Boolean()


class NotificationQuery(Schema):
    unread = fields.Boolean(load_default=False)
    kind = fields.String(validate=validate.Length(max=40), metadata={"description": "only this kind"})
    item_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1),
                             metadata={"description": "only those about this item"})


class CountSchema(Schema):
    count = fields.Integer()


class CalendarDaySchema(Schema):
    date = fields.Date(required=True)
    workday = fields.Boolean(required=True)
    note = fields.String(load_default="", validate=validate.Length(max=200))
    source = fields.String(dump_only=True)


class CalendarYearSchema(Schema):
    year = fields.Integer()
    loaded = fields.Boolean(metadata={"description": "false: deadlines in this year are provisional"})
    days = fields.List(fields.Nested(CalendarDaySchema))


class CalendarFile(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary",
                                               "description": "YAML or CSV of holidays and make-up working days"})


class RecalculateResult(Schema):
    items = fields.Integer()
    moved = fields.Integer()
    days = fields.Integer()
    years = fields.List(fields.Integer())
    changed = fields.Integer()


class ExtensionRequest(Schema):
    unit = fields.String(load_default=None, metadata={"description": "the unit asking (default: the caller's)"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    head = fields.String(required=True, validate=validate.Length(min=1, max=100),
                         metadata={"description": "the unit head who signed the request"})
    head_signed = fields.Boolean(required=True, metadata={"description": "must be true: 经单位负责人审签"})
    new_deadline = fields.String(required=True, metadata={"description": "ISO date or datetime asked for"})
    evidence = fields.List(fields.Integer(), load_default=list,
                           metadata={"description": "佐证材料: ids of files uploaded to /api/v1/files; "
                                                    "they join the item"})


class ExtensionSchema(Schema):
    id = fields.Integer()
    item_id = fields.Integer()
    unit = fields.String()
    instance_id = fields.Integer(allow_none=True)
    reason = fields.String()
    head = fields.String()
    old_deadline = fields.DateTime()
    requested_deadline = fields.DateTime()
    granted_deadline = fields.DateTime(allow_none=True)
    status = fields.String(metadata={"description": "pending, approved or refused"})
    unit_name = fields.String()
    requested_by = fields.String()
    requested_by_name = fields.String()
    requested_at = fields.DateTime()
    decided_by = fields.String(allow_none=True)
    decided_by_name = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    comment = fields.String()
    evidence = fields.List(fields.Integer(), metadata={"description": "ids of the 佐证材料 sent with the request"})


# ---- the modeler's catalogue and 发起 (issue 11) ----------------------------------------------------

class StepOptionSchema(Schema):
    name = fields.String()
    label = fields.String()
    type = fields.String(metadata={"description": "string, integer, boolean or select"})
    choices = fields.List(fields.Raw())
    default = fields.Raw(allow_none=True)


class StepKindSchema(Schema):
    kind = fields.String()
    label = fields.String()
    applies_to = fields.List(fields.String(), metadata={"description": "BPMN element types, e.g. bpmn:UserTask"})
    help = fields.String()
    options = fields.List(fields.Nested(StepOptionSchema))
    template = fields.Dict(metadata={"description": "element template: name, form, lane_role, element"})


class RoleSchema(Schema):
    id = fields.String()
    label = fields.String()


class FormRefSchema(Schema):
    id = fields.String()
    name = fields.String()
    schema = fields.Dict(metadata={"description": "the form-js schema as deployed (latest), "
                                                  "for a new diagram using it"})


class ConnectorNameSchema(Schema):
    name = fields.String()
    title = fields.String()
    kind = fields.String(metadata={"description": "inapp channels: email, sms, wecom, dingtalk, zwdingtalk; or http"})


class CatalogueSchema(Schema):
    steps = fields.List(fields.Nested(StepKindSchema))
    roles = fields.List(fields.Nested(RoleSchema))
    units = fields.List(fields.Nested(UnitSchema))
    forms = fields.List(fields.Nested(FormRefSchema))
    decisions = fields.List(fields.Dict(), metadata={"description": "deployed DMN decisions: id, name"})
    connectors = fields.List(fields.Nested(ConnectorNameSchema), metadata={
        "description": "the enabled connectors a service task may name (their settings and secrets are not here)"})
    patterns = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "regular expressions deploy checks names against: topic (an external task's) and "
                       "variable (what it hands a worker)"})


class StartableSchema(Schema):
    key = fields.String()
    name = fields.String()
    version = fields.Integer()
    item = fields.Boolean(metadata={"description": "starting it registers a 督办 item (duban:item)"})
    form_key = fields.String(allow_none=True)
    form = fields.Dict(allow_none=True, metadata={"description": "the start event's form-js schema"})


class ProcessStartRequest(Schema):
    data = Submission(load_default=dict)


class StartedSchema(Schema):
    instance_id = fields.Integer()
    item_id = fields.Integer(allow_none=True)


class FileUpload(Schema):
    file = fields.Raw(metadata={"type": "string", "format": "binary",
                                "description": "the file (PDF, OFD, images, Office documents, UTF-8 text, zip)"})


class FileUploadForm(Schema):
    item_id = fields.Integer(validate=SQL_ID, allow_none=True,
                             metadata={"description": "attach to this item at once; without it the file is the "
                                                      "uploader's until a form submission ties it to an item"})


class FileQuery(Schema):
    inline = fields.Boolean(load_default=False,
                            metadata={"description": "show on the page instead of saving (PDF and images only)"})


class StoredFileSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    size = fields.Integer(metadata={"description": "bytes"})
    content_type = fields.String(metadata={"description": "the type its content shows, not its name's"})
    sha256 = fields.String()
    item_id = fields.Integer(allow_none=True)
    uploaded_by = fields.String()
    uploaded_by_name = fields.String()
    uploaded_at = fields.DateTime()


# The period of the statistics (统计, 答复): a year, or a range of days.
class PeriodQuery(Schema):
    year = fields.Integer(validate=validate.Range(min=2000, max=2100),
                          metadata={"description": "items registered (立项) in this year (Beijing time)"})
    since = fields.Date(metadata={"description": "items registered on or after this date"})
    until = fields.Date(metadata={"description": "items registered on or before this date"})

    @validates_schema
    def _one_kind(self, data, **_):
        if "year" in data and ("since" in data or "until" in data):
            raise ValidationError(text("stats.year_or_range"), "year")
        if "since" in data and "until" in data and data["since"] > data["until"]:
            raise ValidationError(text("stats.since_after_until"), "since")

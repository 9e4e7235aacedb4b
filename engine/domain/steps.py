"""督办 steps (督办环节): the kinds a designer declares on BPMN elements with Duban's extension.

A step is declared as `<duban:step kind="receive">` in an element's extensionElements; the engine
binds behaviour (a unit's part, its deadline, 签收, 催办, 纪委...) by that kind, never by element id.
This module is the one list of kinds: the modeler's palette and properties panel read it through
`GET /api/v1/modeler/catalogue`, and the deploy-time contract (engine/bpmn/contract.py) checks it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .roles import ROLES

NAMESPACE = "urn:duban:bpmn:1"
PREFIX = "duban"

USER_TASK = "bpmn:UserTask"
START_EVENT = "bpmn:StartEvent"
END_EVENT = "bpmn:EndEvent"
BOUNDARY_EVENT = "bpmn:BoundaryEvent"
TIMER_EVENTS = (START_EVENT, BOUNDARY_EVENT, "bpmn:IntermediateCatchEvent")


@dataclass(frozen=True)
class Option:
    name: str
    label: str
    type: str = "string"  # string | integer | boolean | select
    default: object = None
    choices: tuple = ()

    def as_dict(self) -> dict:
        return {"name": self.name, "label": self.label, "type": self.type, "default": self.default,
                "choices": list(self.choices)}


@dataclass(frozen=True)
class StepKind:
    kind: str
    label: str
    applies_to: tuple
    help: str
    lane_role: str | None = None  # the role of the lane a template drops it in (None: a unit's lane)
    form: str | None = None  # the default form of its template
    status: str | None = None  # the item's status while a task of this kind is open
    unit_step: bool = False  # done by one unit, inside the per-unit multi-instance
    timer: bool = False
    options: tuple = field(default_factory=tuple)
    fields: tuple = ()  # form fields the step's behaviour reads (the deploy contract checks its form has them)

    def as_dict(self) -> dict:
        template = {"name": self.label, "form": self.form, "lane_role": self.lane_role,
                    # a timer is dropped as an intermediate event: on a task's border bpmn-js makes it a
                    # boundary event (a start event cannot be attached)
                    "element": "bpmn:IntermediateCatchEvent" if self.timer else self.applies_to[0]}
        return {"kind": self.kind, "label": self.label, "applies_to": list(self.applies_to), "help": self.help,
                "options": [o.as_dict() for o in self.options], "template": template}


def _due(days: int) -> tuple:
    """A step's time allowed, in working days from when its task appears (its inbox light counts to it)."""
    return (Option("due_workdays", "办理时限（工作日）", "integer", days),)


# Time allowed per step. 001 sets two: 分解立项 within 1 working day (拟办, 审批), the 交办通知单 within 2.
# The office's other steps follow the same pace (审核, 反馈 2 days; 催办 at once, 1 day, as the unit is
# already late), and so do the leader's (签发, 延期审批 2); 纪委 gets the ordinary handling period
# (001 3、: 10 working days); a requester's 回访 5.
KINDS: dict[str, StepKind] = {k.kind: k for k in (
    StepKind("draft", "拟办", (USER_TASK,), "督查室提出拟办意见，选定牵头单位和配合单位"
             "（表单字段 lead_unit、co_units）；提交后事项的承办单位随之确定。", "office", "draft_opinion", "drafting",
             options=_due(1)),
    StepKind("approve", "领导审批", (USER_TASK,), "领导审批立项：同意、退回拟办或不予立项。", "leader",
             "leader_approval", "approving", options=_due(1)),
    StepKind("assign", "交办", (USER_TASK,), "督查室向各承办单位发出交办通知单（生成“督交”文书）。", "office", "assign",
             "assigning", options=_due(2)),
    StepKind("receive", "签收", (USER_TASK,), "承办单位签收：明确第一责任人、具体责任人、具体承办人和承诺办结时限。"
             "须放在按承办单位展开的多实例子流程内。", None, "unit_receive", "in_progress", unit_step=True),
    StepKind("report", "办结报告", (USER_TASK,), "承办单位报告办理结果；到期未报告的单位被催办。须放在按承办单位展开的"
             "多实例子流程内。", None, "unit_report", "in_progress", unit_step=True),
    StepKind("review", "审核", (USER_TASK,), "督查室审核承办单位的报告：通过（decision=accept）或退回重办。", "office",
             "office_review", "in_progress", options=_due(2)),
    StepKind("urge", "催办", (USER_TASK,), "承办单位到期未报告时督查室催办，限定新的办理期限（new_limit），生成“督催”"
             "文书；须由该单位的“期限届满”定时事件引出。", "office", "urge", "in_progress", options=_due(1)),
    StepKind("escalate", "责任追究", (USER_TASK,), "催办期限届满仍未报告：移送纪委并记入通报批评（每个单位一次）。",
             "discipline", "discipline_review", "in_progress", options=_due(10)),
    StepKind("signoff", "领导签发", (USER_TASK,), "重大事项的办结情况由领导签发。", "leader", "leader_signoff",
             "signoff", options=_due(2)),
    StepKind("feedback", "反馈销号", (USER_TASK,), "督查室向领导反馈办理情况，事项销号（生成销号记录）。", "office",
             "feedback", "feedback", options=_due(2)),
    StepKind("extension_review", "延期审批", (USER_TASK,), "领导审批承办单位的延期申请；同意后该单位的期限及其"
             "提醒、催办随之顺延。", "leader", "extension_review", options=_due(2)),
    StepKind("reply", "答复", (USER_TASK,), "承办单位答复提出人（人大代表、政协委员、来信人）：表单字段 reply_text 的"
             "答复内容记入答复台账（答复率、按期答复率），并算作本单位报告。", None, "reply", "in_progress",
             unit_step=True, fields=("reply_text",)),
    StepKind("satisfaction", "满意度回访", (USER_TASK,), "督查室回访提出人对答复是否满意：表单字段 satisfaction"
             "（satisfied 满意、basically_satisfied 基本满意、dissatisfied 不满意）和 satisfaction_note 记入答复台账"
             "（满意率）；不满意时可由网关退回重新答复。", "office", "satisfaction", "feedback",
             fields=("satisfaction",), options=_due(5)),
    StepKind("monthly_progress", "月度进展", (USER_TASK,), "承办单位按月报告进展（专项督查）。", None, None,
             "in_progress", unit_step=True),
    StepKind("remind", "预警", TIMER_EVENTS, "临近单位办理期限时发出预警（黄灯）；时间用 remind_at(unit)。", None,
             timer=True),
    StepKind("deadline", "期限届满", TIMER_EVENTS, "单位办理期限届满（红灯）；未报告的由此引出催办。时间用 "
             "unit_deadline(unit)。", None, timer=True),
    StepKind("assign_due", "交办提醒", TIMER_EVENTS, "批准后提醒督查室按时交办；时间用 workdays(n)。", "office",
             timer=True, options=(Option("due_workdays", "提醒时限（工作日）", "integer", 2),)),
    StepKind("rejected", "不予立项", (END_EVENT,), "到达此结束事件的事项记为“不予立项”。", "leader"),
)}

# Roles a process may name in duban:starterRoles.
STARTER_ROLES = tuple(ROLES)
UNIT_STEPS = tuple(k for k, v in KINDS.items() if v.unit_step)


def catalogue() -> list[dict]:
    return [kind.as_dict() for kind in KINDS.values()]


def declared(elements: dict) -> dict:
    """{element id: kind} of a definition's stored elements."""
    return {element_id: step["kind"] for element_id, step in (elements or {}).get("steps", {}).items()}


def kind_of(elements: dict, element_id: str | None) -> str | None:
    step = (elements or {}).get("steps", {}).get(element_id or "")
    return step["kind"] if step else None


def option(elements: dict, element_id: str, name: str):
    """A step's option as declared, else its kind's default."""
    step = (elements or {}).get("steps", {}).get(element_id) or {}
    value = (step.get("options") or {}).get(name)
    if value is None:
        kind = KINDS.get(step.get("kind"))
        defaults = {o.name: o.default for o in kind.options} if kind else {}
        return defaults.get(name)
    return value


def elements_of(elements: dict, *kinds: str) -> set:
    return {element_id for element_id, kind in declared(elements).items() if kind in kinds}


def registers_item(elements: dict) -> bool:
    """Starting the process registers a 督办 item (a ledger row): it declares `duban:item="true"`."""
    return bool((elements or {}).get("item"))


def uses_item_steps(elements: dict) -> bool:
    """The process runs the 督办 hooks: it registers items or declares a 督办 step other than 延期审批."""
    return registers_item(elements) or any(kind != "extension_review" for kind in declared(elements).values())


def uses_extension_steps(elements: dict) -> bool:
    return "extension_review" in declared(elements).values()

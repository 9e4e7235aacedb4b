"""The main-process happy path with two units, as data: (element, unit, submitted data)."""
from __future__ import annotations

RECEIVE = {"first_responsible": "局长", "responsible": "科长", "handler": "科员", "committed_date": "2026-10-15"}
REPORT = {"summary": "已办结", "approved_by_deputy": True}

HAPPY_PATH = [
    ("draft_opinion", None, {"lead_unit": "fgj", "co_units": ["czj"], "opinion": "请办理"}),
    ("leader_approval", None, {"decision": "approve"}),
    ("assign", None, {"notice": "交办通知单"}),
    ("unit_receive", "fgj", RECEIVE),
    ("unit_receive", "czj", RECEIVE),
    ("unit_report", "fgj", REPORT),
    ("unit_report", "czj", REPORT),
    ("office_review", "fgj", {"decision": "accept"}),
    ("office_review", "czj", {"decision": "accept"}),
    ("feedback", None, {"summary": "已反馈"}),
]
USERS = {"draft_opinion": "office", "leader_approval": "leader", "assign": "office", "office_review": "office",
         "feedback": "office", ("unit_receive", "fgj"): "unit_a", ("unit_report", "fgj"): "unit_a",
         ("unit_receive", "czj"): "unit_b", ("unit_report", "czj"): "unit_b"}


def user_for(element: str, unit: str | None) -> str:
    return USERS.get((element, unit)) or USERS[element]

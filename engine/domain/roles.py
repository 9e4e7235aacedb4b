"""Roles (角色) and how BPMN lanes map onto them."""
from __future__ import annotations

OFFICE = "office"
LEADER = "leader"
UNIT = "unit"
DISCIPLINE = "discipline"
DESIGNER = "designer"
ADMIN = "admin"
# 三员分立 (等保 2.0 level 3): system, security and audit administration are three people's work.
SYSADMIN = "sysadmin"
SECADMIN = "secadmin"
AUDITADMIN = "auditadmin"
# A service account of an external task worker (外部任务执行程序): only the external task endpoints.
WORKER = "worker"

ROLES = {
    OFFICE: "督查室",
    LEADER: "领导",
    UNIT: "承办单位",
    DISCIPLINE: "纪委",
    DESIGNER: "流程设计员",
    ADMIN: "系统管理员",
    SYSADMIN: "系统管理员",
    SECADMIN: "安全管理员",
    AUDITADMIN: "安全审计员",
    WORKER: "外部任务执行账号",
}

# Roles a lane (or camunda:candidateGroups) can hand work to.
LANE_ROLES = (OFFICE, LEADER, UNIT, DISCIPLINE)

_ALIASES = {
    "督查室": OFFICE, "督查部门": OFFICE, "督查科": OFFICE, "supervision office": OFFICE,
    "领导": LEADER, "分管领导": LEADER, "主要领导": LEADER,
    "承办单位": UNIT, "责任单位": UNIT, "handling unit": UNIT, "handler": UNIT,
    "纪委": DISCIPLINE, "纪委监委": DISCIPLINE, "监察局": DISCIPLINE, "discipline commission": DISCIPLINE,
}

# System work (users, units, calendar, deployments): the demo's `admin` is a system administrator too.
SYSTEM_ADMINS = (ADMIN, SYSADMIN)
# No one holds roles from two of these groups: the three administrators check one another.
SEPARATED_DUTIES = (SYSTEM_ADMINS, (SECADMIN,), (AUDITADMIN,))

# Supervisors see every (non-secret) item; others see the items they take part in.
SUPERVISORS = (OFFICE, LEADER, ADMIN)


def role_for_lane(lane_id: str | None, lane_name: str | None) -> str | None:
    """The role a lane stands for, by its id (`office`) or its name (`督查室`), else None."""
    for candidate in (lane_id, lane_name):
        if not candidate:
            continue
        key = candidate.strip()
        if key in LANE_ROLES:
            return key
        if key.lower() in _ALIASES:
            return _ALIASES[key.lower()]
        if key in _ALIASES:
            return _ALIASES[key]
    return None

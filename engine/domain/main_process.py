"""What the main process `duban_main` means: texts it prefills, checks beyond its forms."""
from __future__ import annotations

from datetime import datetime

from ..clock import CHINA, readable
from ..texts import text
from .items import parse_when

KEY = "duban_main"


def assignment_notice(title: str, deadline: datetime, units: list[str], opinion: str | None) -> str:
    """交办通知单: the text the office sends with the item, prefilled for the 交办 step."""
    lead, *co = units or ["（未定）"]
    lines = [
        "交办通知单",
        f"事项：{title}",
        f"牵头单位：{lead}",
        f"配合单位：{'、'.join(co) if co else '无'}",
        f"办理时限：{readable(deadline)}前办结并书面报告。",
    ]
    if opinion:
        lines.append(f"拟办意见：{opinion}")
    lines.append("请按要求认真办理，确有困难不能按期办结的，须在期限届满前书面说明原因并经单位主要负责人签字。")
    return "\n".join(lines)


def urge_notice(title: str, unit: str, deadline: datetime) -> str:
    """催办单: prefilled when a unit's deadline passes without a report."""
    return "\n".join([
        "催办通知单",
        f"{unit}：",
        f"你单位承办的“{title}”已于{readable(deadline)}到期，至今未报送办结情况。",
        "请于新的期限内办结并书面报告；逾期仍未办结的，将予以通报批评并提请纪委追究责任。",
    ])


def check_receive(data: dict, deadline: datetime) -> list[dict]:
    """签收: the committed date (承诺办结时限) may not be later than the unit's deadline."""
    committed = data.get("committed_date")
    if not committed:
        return []
    try:
        when = parse_when(committed)
    except ValueError:
        return [{"field": "committed_date", "message": text("field.iso.date")}]
    day = when.astimezone(CHINA).date() if isinstance(when, datetime) else when
    if day > deadline.astimezone(CHINA).date():
        return [{"field": "committed_date",
                 "message": f"承诺办结时限不得晚于办理时限 {readable(deadline, day=True)}"}]
    return []


def check_draft(data: dict, handling_units: set[str], stopped: frozenset = frozenset()) -> list[dict]:
    """拟办: a lead unit, co-units that differ from it, all of them handling units still active (not in
    `stopped`, the deactivated ones)."""
    errors = []
    lead, co = data.get("lead_unit"), data.get("co_units") or []
    if lead and lead in co:
        errors.append({"field": "co_units", "message": "牵头单位不能同时作为配合单位"})
    for unit in [lead, *co]:
        if unit and unit in stopped:
            errors.append({"field": "lead_unit" if unit == lead else "co_units",
                           "message": text("unit.inactive", unit=unit)})
        elif unit and unit not in handling_units:
            errors.append({"field": "lead_unit" if unit == lead else "co_units",
                           "message": f"{unit} 不是承办单位"})
    return errors


def check_limit(limit: datetime, now: datetime) -> list[dict]:
    """催办: the new limit must lie in the future."""
    if limit <= now:
        return [{"field": "new_limit", "message": "新的办理期限必须晚于当前时间"}]
    return []

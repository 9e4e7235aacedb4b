"""限时办结 by a decision table a designer can change: how many working days an item is given when the
office names no deadline.

The rule (001 3、: 一般件 10 个工作日, 重大疑难件不超过 20 个工作日, 急件随交随办) ships as the DMN decision
`deadline_rules` (engine/processes/deadline_rules.dmn, deployed with the bundled processes), inputs
`category` and `source`, output `workdays` (0: the same working day). A designer opens it in the DMN
editor (/modeler/decisions), changes a cell or adds a rule (a 领导批示 in 5 days, say) and deploys it:
items registered from then on get the new deadline. It runs as a business rule task does, in the step
process under the step's budgets. Without a deployed table, or when no rule matches, the built-in rule
of engine/domain/items.py applies. `duban recalculate` recomputes open items by the table in force.
"""
from __future__ import annotations

from ..errors import ProcessError
from ..texts import text
from . import decisions

DECISION = "deadline_rules"
MAX_WORKDAYS = 366


def workdays(duban, category: str, source: str) -> int | None:
    """The working days the deployed table gives an item of `category` from `source`, or None (the
    built-in rule applies). ProcessError when the table fails or gives something that is not a count."""
    result = decisions.evaluate(duban, DECISION, {"category": category, "source": source})
    if not result or result.get("workdays") in (None, ""):
        return None
    value = result["workdays"]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_WORKDAYS:
        raise ProcessError(text("dmn.deadline_result", decision=DECISION, category=category, value=value))
    return value


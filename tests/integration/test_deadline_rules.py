"""限时办结 by the deadline rules table (决策表 `deadline_rules`, engine/processes/deadline_rules.dmn): the
bundled table gives the built-in deadlines, and a designer's change, once deployed, gives new items theirs."""
from datetime import datetime

import pytest

from engine import PROCESSES, services
from engine.calendar import CHINA
from engine.errors import ProcessError
from engine.services import deadline_rules
from tests.support.dmn import table

BUNDLED = {"deadline_rules.dmn": (PROCESSES / "deadline_rules.dmn").read_bytes()}


def register(duban, org, category="normal", source="document") -> datetime:
    item = services.register_item(duban, org["office"], {"title": f"期限规则 {category} {source}",
                                                          "category": category, "source": source})
    return datetime.fromisoformat(str(item["deadline"])).astimezone(CHINA)


def test_the_bundled_table_gives_the_built_in_deadlines(duban, org):
    # START is 2026-09-28 (a Monday before the National Day holiday): 10 working days end on 2026-10-16.
    before = {category: register(duban, org, category) for category in ("normal", "major", "urgent")}
    services.deploy(duban, BUNDLED, {}, org["designer"])
    assert deadline_rules.workdays(duban, "normal", "document") == 10
    after = {category: register(duban, org, category) for category in ("normal", "major", "urgent")}
    assert after == before
    assert after["normal"].date().isoformat() == "2026-10-16"


def test_changing_the_table_and_redeploying_changes_new_items_deadlines(duban, org):
    services.deploy(duban, BUNDLED, {}, org["designer"])
    ten = register(duban, org, "normal", "instruction")
    text = BUNDLED["deadline_rules.dmn"].decode()
    changed = text.replace("<text>10</text>", "<text>5</text>")
    [result] = services.deploy(duban, {"deadline_rules.dmn": changed.encode()}, {}, org["designer"])
    assert (result["key"], result["version"]) == ("deadline_rules", 2)
    five = register(duban, org, "normal", "instruction")
    assert five.date().isoformat() == "2026-10-10" and ten.date().isoformat() == "2026-10-16"
    # (2026-10-10 is a Saturday worked in lieu of the holiday.) A rule of the designer's own, above
    # the others (hit policy FIRST): 领导批示 in 3 working days.
    rules = (('"instruction"', "3"), ("-", "10"))
    services.deploy(duban, {"d.dmn": table("deadline_rules", rules, (("source", "来源"),), hit_policy="FIRST")},
                    {}, org["designer"])
    assert register(duban, org, "normal", "instruction") < five
    assert deadline_rules.workdays(duban, "major", "instruction") == 3
    assert deadline_rules.workdays(duban, "major", "meeting") == 10


def test_a_table_giving_no_count_stops_the_registration_naming_it(duban, org):
    services.deploy(duban, {"d.dmn": table("deadline_rules", (("-", '"many"'),), (("category", "类别"),))},
                    {}, org["designer"])
    with pytest.raises(ProcessError, match="deadline_rules"):
        register(duban, org)
    # An explicit deadline needs no table.
    item = services.register_item(duban, org["office"], {"title": "有明确期限", "deadline": "2026-11-30"})
    assert str(item["deadline"]).startswith("2026-11-30")


def test_recalculating_follows_the_table_in_force(duban, org):
    from engine.services import calendar

    services.deploy(duban, BUNDLED, {}, org["designer"])
    item = services.register_item(duban, org["office"], {"title": "按期限规则重算", "category": "normal"})
    assert str(item["deadline"]).startswith("2026-10-16")
    shorter = BUNDLED["deadline_rules.dmn"].decode().replace("<text>10</text>", "<text>5</text>")
    services.deploy(duban, {"deadline_rules.dmn": shorter.encode()}, {}, org["designer"])
    assert calendar.recalculate(duban, org["admin"]) == {"items": 1, "moved": 1}
    assert str(services.get_item(duban, org["office"], item["id"])["deadline"]).startswith("2026-10-10")

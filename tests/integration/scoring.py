"""A known October for 考核 and 督查通报 tests, walked through the main process with the clock moved.

All four `normal` items are registered Friday 2026-10-09 09:00; the deadline is Thursday 2026-10-22
17:30 (10 working days; Saturday 10-10 is a make-up working day), each with one handling unit:

  A  发改局 fgj  reports at once, accepted 10-09                     → 按期办结
  B  财政局 czj  urged on 10-22 (limit 10-27), reports 10-26, accepted → 逾期办结
  C  教育局 jyj  urged on 10-22 (limit 10-28), never reports: on 10-28 17:30 escalated to 纪委 and
                criticised (通报批评)
  D  住建局 zjj  reports at once, accepted 10-09, praised by the leader that day → 按期办结 + 领导表扬
  S  (secret=True) 发改局 on a secret item designated to office, leader and unit_a: reports at once,
     accepted and praised 10-09. Only those cleared may count it.

The clock ends at Monday 2026-11-02 09:00.
"""
from __future__ import annotations

from datetime import datetime

from engine.clock import CHINA
from engine.services import assessment, timers
from tests.integration.flow import RECEIVE, REPORT, complete, register

SECRET_TITLE = "保密专项甲乙丙"
REGISTERED = datetime(2026, 10, 9, 9, 0, tzinfo=CHINA)
DEADLINE = datetime(2026, 10, 22, 17, 30, tzinfo=CHINA)


def move(duban, *when) -> int:
    duban.clock.set(datetime(*when, tzinfo=CHINA))
    return timers.fire_all_due(duban)


def assigned(duban, org, title, unit, **fields) -> dict:
    item = register(duban, org, title=title, **fields)
    on = {"instance_id": item["instance_id"]}
    complete(duban, org["office"], "draft_opinion", {"lead_unit": unit, "co_units": [], "opinion": "请办理"}, **on)
    complete(duban, org["leader"], "leader_approval", {"decision": "approve"}, **on)
    complete(duban, org["office"], "assign", {"notice": "交办通知单"}, **on)
    return item


def step(duban, org, user, item, element, data, unit=None):
    complete(duban, org[user], element, data, unit, instance_id=item["instance_id"])


def done(duban, org, user, item, unit):
    step(duban, org, user, item, "unit_receive", RECEIVE, unit)
    step(duban, org, user, item, "unit_report", REPORT, unit)
    step(duban, org, "office", item, "office_review", {"decision": "accept"}, unit)


def october(duban, org, secret: bool = False) -> dict:
    org.add_user("unit_c", "unit", "jyj")
    org.add_user("unit_d", "unit", "zjj")
    duban.clock.set(REGISTERED)
    a = assigned(duban, org, "A 重点项目按期推进", "fgj")
    b = assigned(duban, org, "B 营商环境逾期整改", "czj")
    c = assigned(duban, org, "C 校舍改造问责", "jyj")
    d = assigned(duban, org, "D 老旧小区改造", "zjj")
    assert a["units"] == [] and a["deadline"] == DEADLINE  # units appear at 拟办; the deadline is the item's
    done(duban, org, "unit_a", a, "fgj")
    done(duban, org, "unit_d", d, "zjj")
    assessment.praise(duban, org["leader"], d["id"], "zjj", "成效明显，予以表扬")
    step(duban, org, "unit_b", b, "unit_receive", RECEIVE, "czj")
    step(duban, org, "unit_c", c, "unit_receive", RECEIVE, "jyj")
    s = None
    if secret:
        s = assigned(duban, org, SECRET_TITLE, "fgj", classification="secret", designees=["leader", "unit_a"])
        done(duban, org, "unit_a", s, "fgj")
        assessment.praise(duban, org["leader"], s["id"], "fgj", "保密事项办理得力")

    assert move(duban, 2026, 10, 22, 17, 31) >= 2  # the deadline passes: urges for B and C
    step(duban, org, "office", b, "urge", {"notice": "请于10月27日前办结", "new_limit": "2026-10-27"}, "czj")
    step(duban, org, "office", c, "urge", {"notice": "请于10月28日前办结", "new_limit": "2026-10-28"}, "jyj")
    move(duban, 2026, 10, 26, 10, 0)
    step(duban, org, "unit_b", b, "unit_report", REPORT, "czj")
    step(duban, org, "office", b, "office_review", {"decision": "accept"}, "czj")
    assert move(duban, 2026, 10, 28, 17, 31) >= 1  # C's urge limit passes: 纪委 and 通报批评
    move(duban, 2026, 11, 2, 9, 0)
    return {"a": a, "b": b, "c": c, "d": d, "s": s}

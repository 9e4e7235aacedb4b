"""重复提醒: which titles are close (the threshold, fixed by pairs on both sides of it), and that the
check stays quick with 100,000 items in the ledger."""
import time
from datetime import timedelta

import pytest
from sqlalchemy import insert

from engine.models import Item
from engine.services import duplicates
from tests.integration.flow import register

CLOSE = [
    ("推进重点项目建设", "推进重点项目建设工作"),
    ("关于加快推进城区道路改造的批示", "加快推进城区道路改造"),
    ("加快推进城区道路改造", "加快推进城区主干道路改造"),
    ("做好2026年防汛抗旱工作", "做好 2026 年防汛抗旱工作的通知"),
    ("ＡＢＣ小区加装电梯", "abc小区加装电梯"),
]
APART = [
    ("推进重点项目建设", "推进重点项目验收"),
    ("推进重点项目建设", "做好防汛抗旱工作"),
    ("城区道路改造", "农村道路养护"),
    ("优化营商环境", "优化营商环境专项督查第二轮整改落实情况"),
    ("防汛", "防汛抗旱"),  # short titles match only exactly
]


@pytest.mark.parametrize("a,b", CLOSE)
def test_close_titles_reach_the_threshold(a, b):
    assert duplicates.similarity(a, b) >= duplicates.THRESHOLD, duplicates.similarity(a, b)


@pytest.mark.parametrize("a,b", APART)
def test_different_titles_stay_below_it(a, b):
    assert duplicates.similarity(a, b) < duplicates.THRESHOLD, duplicates.similarity(a, b)


def test_only_open_items_the_caller_sees_are_named(duban, org):
    first = register(duban, org, title="推进重点项目建设")
    second = register(duban, org, title="推进重点项目建设工作")
    assert [d["id"] for d in second["duplicates"]] == [first["id"]]
    assert second["duplicates"][0]["message"] == f"可能与在办事项《推进重点项目建设》（编号 {first['id']}）重复"
    assert register(duban, org, title="做好防汛抗旱工作")["duplicates"] == []
    # Units see only their own items: nothing of the office's drafts is named to them.
    assert duplicates.close_items(duban, org["unit_a"], "推进重点项目建设") == []
    with duban.db.transaction() as session:
        session.get(Item, first["id"]).status = "closed"
    assert [d["id"] for d in duplicates.close_items(duban, org["office"], "推进重点项目建设")] == [second["id"]]


def test_quick_among_100000_items(duban, org):
    """The database sifts (open items sharing a piece of the title, at most CANDIDATES): the check takes
    well under a second whatever the ledger's size."""
    now = duban.clock.now()
    words = ["推进", "重点", "项目", "建设", "防汛", "抗旱", "道路", "改造", "营商", "环境", "民生", "实事"]
    rows = [{"title": f"{words[i % 12]}{words[(i // 12) % 12]}第{i}号专项任务", "content": "", "source": "other",
             "category": "normal", "classification": "internal", "deadline": now + timedelta(days=10),
             "deadline_explicit": False, "deadline_provisional": False,
             "status": "in_progress" if i % 5 else "closed", "created_by": "office", "created_at": now}
            for i in range(100_000)]
    with duban.db.transaction() as session:
        session.execute(insert(Item), rows)
    target = register(duban, org, title="推进重点项目建设")
    started = time.perf_counter()
    found = duplicates.close_items(duban, org["office"], "推进重点项目建设工作")
    elapsed = time.perf_counter() - started
    assert [d["id"] for d in found] == [target["id"]]
    assert elapsed < 1.0, elapsed

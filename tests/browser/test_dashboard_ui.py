"""The dashboard (/dashboard) in a real browser: the numbers shown are the database's, the charts
are drawn (ECharts canvases), and it still works on a phone-sized screen."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import func, select

from engine.domain.items import OPEN_STATUSES
from engine.models import Criticism, Item, ItemUnit
from engine.services import stats
from tests.integration.flow import RECEIVE, register
from tests.support.browser import screenshot
from tests.support.stats import act, assigned, done, move

CHARTS = ("#chart-units", "#chart-status", "#chart-trend")


def build(duban, org):
    """财政局 urged then escalated (纪委) in one item, closed off in another; 发改局 on time in one and
    silent in another; a fifth item still in 拟办. Seen on Thursday 2026-10-22 09:00."""
    a = assigned(duban, org, "优化营商环境专项督查", "fgj", ["czj"])
    c = assigned(duban, org, "财政预算执行情况", "czj")
    assigned(duban, org, "重点项目建设推进", "fgj")
    register(duban, org, title="乡村振兴调研")
    done(duban, org, a, "unit_a", "fgj")
    act(duban, org["unit_b"], a, "unit_receive", RECEIVE, "czj")
    done(duban, org, c, "unit_b", "czj")
    act(duban, org["office"], c, "feedback", {"summary": "已办结"})
    move(duban, 2026, 10, 16, 17, 31)
    act(duban, org["office"], a, "urge", {"notice": "请于10月21日前办结", "new_limit": "2026-10-21"}, "czj")
    move(duban, 2026, 10, 21, 17, 31)
    move(duban, 2026, 10, 22, 9)
    return a


def sign_in(open_page, base, username="office", **viewport):
    page = open_page(**viewport)
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "duban-demo")
    page.click("form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/tasks$"))
    return page


def database_figures(duban) -> dict:
    """The card figures counted straight from the tables (the office sees every item)."""
    with duban.db.reading() as session:
        count = lambda *where: session.scalar(select(func.count()).select_from(Item).where(*where))  # noqa: E731
        parts = lambda *where: session.scalar(select(func.count(ItemUnit.id)).where(*where))  # noqa: E731
        return {
            "open": count(Item.status.in_(OPEN_STATUSES)),
            "closed": count(Item.status == "closed"),
            "urges": parts(ItemUnit.urged_at.is_not(None)),
            "escalations": parts(ItemUnit.escalated_at.is_not(None)),
            "criticisms": session.scalar(select(func.count(Criticism.id))),
        }


def test_the_dashboard_shows_the_databases_numbers_and_draws_its_charts(live, open_page):
    base, duban, org = live
    escalated = build(duban, org)
    expected = database_figures(duban)
    summary = stats.summary(duban, org["office"])
    assert expected == {"open": 3, "closed": 1, "urges": 1, "escalations": 1, "criticisms": 1}
    # 财政局's escalated part, 发改局's silent one, and the item still in 拟办 past its own deadline
    assert summary["overdue"] == 3

    page = sign_in(open_page, base)
    page.get_by_role("link", name="统计").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.locator("h1")).to_contain_text("督查统计")
    for key in ("open", "closed", "urges", "escalations", "criticisms"):
        expect(page.locator(f"#stat-{key}")).to_have_text(str(expected[key]))
    expect(page.locator("#stat-overdue")).to_have_text(str(summary["overdue"]))
    expect(page.locator("#stat-rate")).to_have_text("100.0%")

    for chart in CHARTS:
        expect(page.locator(f"{chart} canvas").first).to_be_visible()
    assert page.locator("#chart-missing").is_hidden()
    expect(page.locator("#dashboard-data[data-drawn=true]")).to_have_count(1)  # animations over

    units = {u["unit"]: u for u in stats.by_unit(duban, org["office"])}
    for unit, figures in units.items():
        row = page.locator(f"#unit-rates tr[data-unit={unit}] td")
        expect(row).to_have_text([figures["unit_name"], str(figures["total"]), str(figures["open"]),
                                   str(figures["overdue"]), str(figures["completed"]), str(figures["on_time"]),
                                   "—" if figures["on_time_rate"] is None else f"{figures['on_time_rate'] * 100:.1f}%",
                                   str(figures["urges"]), str(figures["escalations"])])

    rows, total = stats.overdue(duban, org["office"])
    expect(page.locator("#overdue-total")).to_have_text(str(total))
    expect(page.locator("#overdue tbody tr[data-item]")).to_have_count(total)
    expect(page.locator(f"#overdue tr[data-item='{escalated['id']}']")).to_contain_text("已移送纪委")
    screenshot(page, "20-dashboard")

    page.locator(f"#overdue tr[data-item='{escalated['id']}'] a").click()
    expect(page).to_have_url(re.compile(rf"/items/{escalated['id']}$"))
    expect(page.locator("h1")).to_contain_text("优化营商环境专项督查")


def test_the_dashboard_fits_a_phone(live, open_page):
    base, duban, org = live
    build(duban, org)
    page = sign_in(open_page, base, width=390, height=844)
    page.goto(f"{base}/dashboard")
    for chart in CHARTS:
        canvas = page.locator(f"{chart} canvas").first
        expect(canvas).to_be_visible()
        assert canvas.bounding_box()["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    expect(page.locator("#dashboard-data[data-drawn=true]")).to_have_count(1)
    screenshot(page, "21-dashboard-phone")

    # Turning the phone: the charts follow the new width.
    page.set_viewport_size({"width": 844, "height": 390})
    # (polled with evaluate: wait_for_function evals its predicate in the page, which the CSP forbids)
    width = "document.querySelector('#chart-units canvas').getBoundingClientRect().width"
    for _ in range(50):
        if page.evaluate(width) > 700:
            break
        page.wait_for_timeout(100)
    assert page.evaluate(width) > 700


def test_the_nav_link_is_for_supervisors_and_units_see_their_own(live, open_page):
    base, duban, org = live
    build(duban, org)
    page = sign_in(open_page, base, "unit_a")
    expect(page.get_by_role("link", name="统计")).to_have_count(0)
    page.goto(f"{base}/dashboard")
    expect(page.locator("#unit-rates tbody tr[data-unit]")).to_have_count(1)
    expect(page.locator("#unit-rates tr[data-unit=fgj]")).to_be_visible()
    expect(page.locator("#stat-escalations")).to_have_text("0")

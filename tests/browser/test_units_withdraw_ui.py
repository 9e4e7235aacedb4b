"""At the browser: the units page as a tree (上级单位, 分类, 督查联络员, 停用 refused with its reasons), the
office's 撤销 with its confirmation dialog and reason, and 立项 with a duplicate warning and 知悉范围 chosen
by name; each at desktop and phone width."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from engine import services
from tests.integration.flow import through_assignment
from tests.support.browser import Person, screenshot

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _units(page, base):
    page.goto(f"{base}/admin/units")
    page.locator("#new-unit summary").click()
    page.fill("#new-unit input[name=id]", "cgz")
    page.fill("#new-unit input[name=name]", "城关镇")
    page.select_option("#new-unit select[name=parent_id]", "xzf")
    page.select_option("#new-unit select[name=category]", "township")
    page.click("#new-unit button[type=submit]")
    expect(page.get_by_role("status")).to_have_text("cgz：已创建")
    page.locator("#new-unit summary").click()
    page.fill("#new-unit input[name=id]", "cgz-nj")
    page.fill("#new-unit input[name=name]", "城关镇农技站")
    page.select_option("#new-unit select[name=parent_id]", "cgz")
    page.click("#new-unit button[type=submit]")
    expect(page.get_by_role("status")).to_have_text("cgz-nj：已创建")


def test_the_units_page_shows_the_tree_and_edits_it(live, open_page):
    base, duban, org = live
    page = Person(open_page, base, "admin").page
    _units(page, base)
    rows = page.locator("#units tbody tr")
    order = [rows.nth(i).get_attribute("data-unit") for i in range(rows.count())]
    assert order.index("xzf") < order.index("cgz") < order.index("cgz-nj")
    indent = {unit: page.locator(f"#units tr[data-unit='{unit}'] td.unit-name strong").bounding_box()["x"]
              for unit in ("xzf", "cgz", "cgz-nj")}
    assert indent["xzf"] < indent["cgz"] < indent["cgz-nj"]  # each under its parent
    expect(page.locator("#units tr[data-unit=cgz]")).to_contain_text("乡镇（街道）")
    expect(page.locator("#units tr[data-unit=cgz-nj]")).to_contain_text("上级：城关镇")

    # 发改局: a 分类 and its 督查联络员 chosen by name.
    row = page.locator("#units tr[data-unit=fgj]")
    row.locator("details.edit-unit summary").click()
    row.locator("select[name=category]").select_option("dept")
    row.locator("select[name=liaison]").select_option(label="发改局 张科长")
    screenshot(page, "units-tree-edit-desktop")
    row.locator("button[type=submit].primary").click()
    expect(page.get_by_role("status")).to_have_text("fgj：已保存")
    expect(page.locator("#units tr[data-unit=fgj] td.liaison")).to_have_text("发改局 张科长")

    # 停用: refused while 发改局 has people; the 农技站 goes (after the dialog).
    page.locator("#units tr[data-unit=fgj] button[value=deactivate]").click()
    expect(page.get_by_role("alert")).to_contain_text("仍有在用账号 发改局 张科长")
    page.locator("#units tr[data-unit='cgz-nj'] button[value=deactivate]").click()
    expect(page.get_by_role("status")).to_contain_text("cgz-nj：已停用")
    expect(page.locator("#units tr[data-unit='cgz-nj']")).to_have_class("inactive")
    screenshot(page, "units-tree-desktop")

    phone = Person(open_page, base, "admin", **PHONE).page
    phone.goto(f"{base}/admin/units")
    expect(phone.locator("#units tr[data-unit='cgz-nj']")).to_contain_text("上级：城关镇")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    screenshot(phone, "units-tree-phone")


def test_the_office_withdraws_an_item_through_the_dialog(live, open_page):
    base, duban, org = live
    item = through_assignment(duban, org)
    for viewport, name in (({}, "desktop"), (PHONE, "phone")):
        page = Person(open_page, base, "office", **viewport).page
        target = item if name == "desktop" else through_assignment(duban, org, title="另一件误登记的事项")
        page.goto(f"{base}/items/{target['id']}")
        page.click("#withdraw")
        dialog = page.locator("#confirm-dialog[open]")
        expect(dialog).to_contain_text("撤销后流程终止")
        dialog.locator("#confirm-ok").click()  # no reason yet: the dialog asks for it
        expect(dialog.locator("#confirm-problem")).to_contain_text("请填写撤销理由")
        expect(dialog.locator("#confirm-reason")).to_have_attribute("aria-invalid", "true")
        dialog.locator("#confirm-reason").fill("误登记，与已有事项重复")
        expect(dialog.locator("#confirm-problem")).to_be_hidden()  # the refusal goes as the reason is typed
        screenshot(page, f"withdraw-dialog-{name}")
        dialog.locator("#confirm-ok").click()
        expect(page.locator("#withdrawn")).to_contain_text("误登记，与已有事项重复")
        expect(page.locator("#item-status")).to_have_text("已撤销")
        expect(page.locator("#withdraw")).to_have_count(0)
        screenshot(page, f"withdrawn-item-{name}")
    assert services.get_item(duban, org["office"], item["id"])["status"] == "withdrawn"


def test_registering_warns_of_a_duplicate_and_picks_people_by_name(live, open_page):
    base, duban, org = live
    first = services.register_item(duban, org["office"], {"title": "推进重点项目建设"})
    for viewport, name in (({}, "desktop"), (PHONE, "phone")):
        page = Person(open_page, base, "office", **viewport).page
        page.goto(f"{base}/items/new")
        page.fill("input[name=title]", "推进重点项目建设工作" if name == "desktop" else "推进重点项目建设的批示")
        page.select_option("select[name=classification]", "secret")
        search = page.locator(".people-picker input.people-search")
        search.fill("张")
        option = page.locator(".people-results li.person", has_text="发改局 张科长")
        option.click()
        search.fill("财政")
        page.locator(".people-results li.person", has_text="财政局 刘科长").click()
        expect(page.locator(".people-picker .chip")).to_have_count(2)
        screenshot(page, f"item-new-people-{name}")
        page.click("form button.primary")
        warning = page.locator("#duplicates")
        expect(warning).to_contain_text("可能与在办事项")
        expect(warning.get_by_role("link", name="《推进重点项目建设》")).to_have_attribute(
            "href", f"/items/{first['id']}")
        expect(page.locator(".people-picker .chip")).to_have_count(2)  # the choice came back with the form
        screenshot(page, f"item-new-duplicate-{name}")
        page.check("#confirm-duplicate")
        page.click("form button.primary")
        expect(page.locator("#designees")).to_contain_text("发改局 张科长")
        expect(page.locator("#designees")).to_contain_text("财政局 刘科长")
        # One more on the item page, found by name: the leader.
        picker = page.locator("#designate input.people-search")
        picker.fill("李")
        page.locator("#designate .people-results li.person", has_text="县政府 李副县长").click()
        expect(picker).to_have_value("县政府 李副县长（县政府）")
        screenshot(page, f"item-designees-{name}")
        page.click("#designate button[value=add]")
        expect(page.locator("#designees")).to_contain_text("县政府 李副县长")


def test_the_start_page_warns_of_a_duplicate_before_starting(live, open_page):
    import json
    import re

    from tests.support.npc import START_FORM, npc_process
    from tests.support.org import BPMN

    base, duban, org = live
    forms = {f"{name}.form": (BPMN / "forms" / f"{name}.form").read_bytes()
             for name in ("draft_opinion", "unit_report", "reply", "satisfaction", "feedback")}
    forms["npc_start.form"] = json.dumps(START_FORM).encode()
    services.deploy(duban, {"npc.bpmn": npc_process()}, forms, org["designer"])
    first = services.register_item(duban, org["office"], {"title": "改善城区停车难"})
    for viewport, name in (({}, "desktop"), (PHONE, "phone")):
        page = Person(open_page, base, "office", **viewport).page
        page.goto(f"{base}/start")
        page.locator("#startable tr", has_text="人大代表建议办理").get_by_role("link", name="发起").click()
        expect(page.locator(".fjs-form")).to_be_visible()
        page.get_by_label("建议标题").fill("关于改善城区停车难的建议")
        page.get_by_label("代表姓名").fill("王代表")
        page.click("#submit")
        dialog = page.locator("#confirm-dialog[open]")
        expect(dialog).to_contain_text("可能与在办事项《改善城区停车难》")
        expect(page.locator("#duplicates").get_by_role("link", name="《改善城区停车难》")).to_have_attribute(
            "href", f"/items/{first['id']}")
        screenshot(page, f"start-duplicate-{name}")
        if name == "desktop":
            dialog.locator("#confirm-cancel").click()  # not started: the office looks first
            expect(page).to_have_url(re.compile(r"/start/"))
            continue
        dialog.locator("#confirm-ok").click()
        expect(page).to_have_url(re.compile(r"/items/\d+"), timeout=20000)
    started = [i for i in services.list_items(duban, org["office"])[0] if i["title"] == "关于改善城区停车难的建议"]
    assert len(started) == 1

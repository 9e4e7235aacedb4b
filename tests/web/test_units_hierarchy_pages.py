"""The units page as a tree: parent, category and 督查联络员 edited there; 停用 refused while people remain."""
from tests.support.web import Browser


def test_units_page_shows_and_edits_the_hierarchy(app):
    admin = Browser(app, "admin")
    made = admin.post("/admin/units", {"id": "cgz", "name": "城关镇", "kind": "unit", "parent_id": "xzf",
                                       "category": "township"})
    assert made.status_code == 302
    admin.post("/admin/units", {"id": "cgz-nj", "name": "城关镇农技站", "kind": "unit", "parent_id": "cgz",
                                "category": ""})
    page = admin.get("/admin/units").text
    # Tree order: 县政府, then 城关镇 under it, then its 农技站.
    assert page.index('data-unit="xzf"') < page.index('data-unit="cgz"') < page.index('data-unit="cgz-nj"')
    row = page[page.index('data-unit="cgz-nj"'):][:1500]
    assert 'data-depth="2"' in row and "上级：城关镇" in row
    assert "乡镇（街道）" in page[page.index('data-unit="cgz"'):][:1500]
    cycle = admin.post("/admin/units/cgz", {"action": "update", "name": "城关镇", "kind": "unit",
                                            "parent_id": "cgz-nj", "category": "township", "liaison": ""})
    assert "成环" in admin.get(cycle.headers["Location"]).text
    named = admin.post("/admin/units/fgj", {"action": "update", "name": "发改局", "kind": "unit", "parent_id": "",
                                            "category": "dept", "liaison": "unit_a"})
    assert "已保存" in admin.get(named.headers["Location"]).text
    row = admin.get("/admin/units").text
    row = row[row.index('data-unit="fgj"'):][:3000]
    assert "发改局 张科长" in row and "县直部门" in row
    refused = admin.post("/admin/units/fgj", {"action": "deactivate"})
    assert "仍有在用账号 发改局 张科长" in admin.get(refused.headers["Location"]).text
    off = admin.post("/admin/units/cgz-nj", {"action": "deactivate"})
    page = admin.get(off.headers["Location"]).text
    assert "已停用" in page and 'class="inactive"' in page[page.index('data-unit="cgz-nj"'):][:300]

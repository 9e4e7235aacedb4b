"""On the pages: 撤销 on the item page, the duplicate warning at 立项 and 知悉范围 chosen by name."""
from engine import services
from engine.models import Item
from tests.integration.flow import through_assignment
from tests.support.org import Org
from tests.support.web import Browser

NEW = {"source": "instruction", "category": "normal", "classification": "internal", "content": "", "deadline": "",
       "designees": ""}


def test_the_office_withdraws_from_the_item_page(app, duban_sqlite):
    item = through_assignment(duban_sqlite, Org(duban_sqlite))
    office = Browser(app, "office")
    page = office.get(f"/items/{item['id']}").text
    assert 'id="withdraw"' in page and 'data-confirm-reason="撤销理由（必填）"' in page
    assert 'id="withdraw"' not in Browser(app, "leader").get(f"/items/{item['id']}").text
    missing = office.post(f"/items/{item['id']}/withdraw", {"reason": ""})
    assert "请说明撤销的理由" in office.get(missing.headers["Location"]).text
    done = office.post(f"/items/{item['id']}/withdraw", {"reason": "误登记，与另一事项重复"})
    page = office.get(done.headers["Location"]).text
    assert "事项已撤销" in page and 'id="withdrawn"' in page and "误登记，与另一事项重复" in page
    assert "督查室 王主任" in page and 'id="withdraw"' not in page
    # In the 办理记录 and the history, with its reason.
    record = page.split('id="record"')[1].split("</ol>")[0]
    assert "撤销事项" in record and "误登记，与另一事项重复" in record
    assert "撤销事项" in page.split('class="history"')[1].split("</ol>")[0]
    assert "已撤销" in office.get("/items?status=withdrawn").text
    assert Browser(app, "leader").post(f"/items/{item['id']}/withdraw", {"reason": "x"}).status_code == 403


def test_no_withdraw_button_on_an_item_the_office_did_not_register(app, duban_sqlite):
    item = through_assignment(duban_sqlite, Org(duban_sqlite))
    with duban_sqlite.db.transaction() as session:
        session.get(Item, item["id"]).created_by = "designer"  # a designer's own process registered it
    assert 'id="withdraw"' not in Browser(app, "office").get(f"/items/{item['id']}").text


def test_a_close_title_is_confirmed_before_it_is_registered(app, duban_sqlite):
    first = services.register_item(duban_sqlite, Org(duban_sqlite)["office"], {"title": "推进重点项目建设"})
    office = Browser(app, "office")
    warned = office.post("/items/new", {**NEW, "title": "推进重点项目建设工作"})
    assert warned.status_code == 409
    assert "可能与在办事项" in warned.text and f'href="/items/{first["id"]}"' in warned.text
    assert 'name="confirm_duplicate"' in warned.text and 'value="推进重点项目建设工作"' in warned.text
    assert services.list_items(duban_sqlite, Org(duban_sqlite)["office"])[1] == 1  # nothing registered yet
    confirmed = office.post("/items/new", {**NEW, "title": "推进重点项目建设工作", "confirm_duplicate": "1"})
    assert confirmed.status_code == 302 and "created=1" in confirmed.headers["Location"]
    plain = office.post("/items/new", {**NEW, "title": "做好防汛抗旱工作"})
    assert plain.status_code == 302


def test_designees_are_chosen_by_name_on_the_pages(app, duban_sqlite):
    office = Browser(app, "office")
    form = office.get("/items/new").text
    assert 'data-people-picker="multi"' in form and "people.js" in form
    made = office.post("/items/new", {**NEW, "title": "限定范围事项", "classification": "secret",
                                      "designees": "leader"})
    page = office.get(made.headers["Location"]).text
    assert 'id="designees"' in page and "县政府 李副县长" in page and 'data-people-picker="single"' in page
    item_id = int(made.headers["Location"].split("/items/")[1].split("?")[0])
    added = office.post(f"/items/{item_id}/designees", {"username": "unit_a", "action": "add"})
    page = office.get(added.headers["Location"]).text
    assert "已加入知悉范围" in page and "发改局 张科长" in page
    removed = office.post(f"/items/{item_id}/designees", {"username": "unit_a", "action": "remove"})
    assert "发改局 张科长" not in office.get(removed.headers["Location"]).text.split('id="designees"')[1][:600]

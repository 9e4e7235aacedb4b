"""限定范围 (保密) items name their people at 立项: one without anyone but its registrant is refused
(else no leader sees it to approve it and no unit to work it, and it sticks)."""
from sqlalchemy import func, select

from engine.models import Item
from tests.support.web import assert_error


def items_count(duban) -> int:
    with duban.db.reading() as session:
        return session.scalar(select(func.count()).select_from(Item))


def test_a_secret_item_without_designated_people_is_refused(as_, duban_sqlite):
    office = as_("office")
    before = items_count(duban_sqlite)
    for designees in (None, [], ["office"]):
        body = {"title": "保密事项", "classification": "secret", **({"designees": designees} if designees is not None
                                                                    else {})}
        refused = assert_error(office.post("/api/v1/items", json=body), 422, "invalid_input")
        assert "须指定登记人以外的知悉人员" in refused["message"], designees
        assert [d["field"] for d in refused["details"]] == ["designees"]
    assert items_count(duban_sqlite) == before
    made = office.post("/api/v1/items", json={"title": "保密事项", "classification": "secret",
                                              "designees": ["leader"]})
    assert made.status_code == 201, made.json
    assert as_("leader").get(f"/api/v1/items/{made.json['id']}").status_code == 200
    # An ordinary item names no one.
    assert office.post("/api/v1/items", json={"title": "普通事项"}).status_code == 201

"""人员选择: GET /api/v1/users?q= finds active people by name, username or unit, for the office and
administrators only."""
from tests.support.web import assert_error


def test_people_are_found_by_name_and_unit(as_):
    office = as_("office")
    found = office.get("/api/v1/users?q=张").json
    assert found == [{"username": "unit_a", "name": "发改局 张科长", "unit": "fgj", "unit_name": "发改局"}]
    assert [p["username"] for p in office.get("/api/v1/users?q=财政局").json] == ["unit_b"]
    assert [p["username"] for p in office.get("/api/v1/users?q=县委办 审计").json] == ["auditor"]
    assert office.get("/api/v1/users?q=%25").json == []  # LIKE's wildcards are only characters
    assert len(office.get("/api/v1/users?limit=3").json) == 3
    assert as_("admin").get("/api/v1/users?q=刘").json[0]["username"] == "unit_b"
    for who in ("leader", "unit_a", "auditor"):
        assert "督查室" in assert_error(as_(who).get("/api/v1/users?q=张"), 403)["message"]


def test_deactivated_people_are_not_offered(as_):
    admin = as_("admin")
    assert admin.client.patch("/api/v1/admin/users/unit_b", headers=admin.headers,
                               json={"active": False}).status_code == 200
    assert as_("office").get("/api/v1/users?q=刘").json == []

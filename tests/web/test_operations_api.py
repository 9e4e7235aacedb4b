"""Administrative actions on instances over HTTP, and their refusals (403, 404, 409, 422)."""
from engine import services
from tests.support.web import Caller, assert_error


def test_operations_over_http(app, client, duban_sqlite):
    admin, office = Caller(client, "admin"), Caller(client, "office")
    item = office.post("/api/v1/items", json={"title": "运维事项"}).json
    path = f"/api/v1/instances/{item['instance_id']}"
    assert_error(office.post(f"{path}/suspend"), 403)
    assert_error(Caller(client, "designer").post(f"{path}/terminate", json={"reason": "x"}), 403)
    assert_error(admin.post("/api/v1/instances/999999/suspend"), 404)
    assert_error(admin.post(f"{path}/resume"), 409)  # not suspended
    assert_error(admin.post(f"{path}/retry"), 409)  # no incident
    assert_error(admin.post(f"{path}/terminate", json={}), 422)  # a reason is required
    assert_error(admin.post(f"{path}/suspend", json={"reason": "x" * 1001}), 422)

    suspended = admin.post(f"{path}/suspend", json={"reason": "核实"})
    assert suspended.status_code == 200 and suspended.json["status"] == "suspended"
    task = services.list_tasks(duban_sqlite, services.auth.actor_for_token(
        duban_sqlite, office.headers["Authorization"][7:]), instance_id=item["instance_id"])[0][0]
    assert_error(office.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}}), 409)
    assert admin.post(f"{path}/resume").json["status"] == "running"

    check = admin.get(f"{path}/migration")
    assert check.status_code == 200 and check.json["to_version"] == 1
    assert_error(admin.post(f"{path}/migration", json={}), 409)  # already on the latest
    assert_error(admin.post(f"{path}/migration", json={"version": 7}), 404)
    assert_error(office.get(f"{path}/migration"), 403)

    ended = admin.post(f"{path}/terminate", json={"reason": "重复立项"})
    assert ended.status_code == 200 and ended.json["status"] == "terminated" and ended.json["tasks"] == []
    assert office.get(f"/api/v1/items/{item['id']}").json["status"] == "terminated"
    assert_error(admin.post(f"{path}/suspend"), 409)

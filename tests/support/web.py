"""Flask test clients for the web tests: a person at the pages, a caller of the API, the error format."""
from __future__ import annotations

import re

# Every demo user (`duban seed-demo`), all with the password duban-demo.
USERS = ("office", "leader", "unit_a", "unit_b", "discipline", "designer", "admin", "secadmin", "auditor")


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


class Browser:
    """A test client that signs in through /login as a person would."""

    def __init__(self, app, username=None):
        self.client = app.test_client()
        self.csrf = None
        if username:
            response = self.login(username)
            assert response.status_code == 302, response.text

    def login(self, username, password="duban-demo", next_path=None):
        self.csrf = csrf_of(self.client.get("/login").text)
        data = {"username": username, "password": password, "csrf_token": self.csrf}
        if next_path:
            data["next"] = next_path
        response = self.client.post("/login", data=data)
        if response.status_code == 302:
            self.csrf = csrf_of(self.client.get("/items").text)
        return response

    def get(self, path):
        return self.client.get(path)

    def post(self, path, data=None, csrf=True):
        data = dict(data or {})
        if csrf:
            data["csrf_token"] = self.csrf
        return self.client.post(path, data=data)


class Caller:
    def __init__(self, client, username):
        self.client = client
        response = client.post("/api/v1/auth/token", json={"username": username, "password": "duban-demo"})
        assert response.status_code == 200, response.json
        self.headers = {"Authorization": f"Bearer {response.json['token']}"}

    def get(self, path, **kwargs):
        return self.client.get(path, headers=self.headers, **kwargs)

    def post(self, path, **kwargs):
        return self.client.post(path, headers=self.headers, **kwargs)


def client_as(app, username):
    """A test client holding `username`'s bearer token (demo password)."""
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"username": username, "password": "duban-demo"}).json["token"]
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def patch(caller, path, body):
    return caller.client.patch(path, headers=caller.headers, json=body)


def assert_error(response, status, code=None):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.json
    assert set(body) == {"error", "message", "details"}, body
    if code:
        assert body["error"] == code
    return body


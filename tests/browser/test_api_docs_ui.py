"""/api/docs in chromium: Swagger UI renders from this server alone (no CDN, nothing the CSP blocks)."""
import pytest

pytestmark = pytest.mark.browser


def test_docs_render_offline(live, open_page):
    base, _, _ = live
    page = open_page()
    page.set_default_timeout(60_000)  # a loaded machine parses the 1.5 MB bundle slowly
    outside, failed, errors = [], [], []

    def route(route):
        if route.request.url.startswith(base):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))  # CSP violations too
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/api/docs")
    page.wait_for_selector(".opblock-summary-path")
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/v1/items" in p for p in paths), paths
    assert page.locator(".btn.authorize").count() == 1  # the bearer scheme
    assert outside == []
    assert failed == []
    assert errors == []

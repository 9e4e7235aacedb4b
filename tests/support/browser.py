"""Playwright helpers for the browser tests: a person at their own browser, the confirmation dialog,
screenshots (var/screenshots/, kept by CI), the modeler."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.support.org import ROOT

PASSWORD = "duban-demo"
SCREENSHOTS = ROOT / "var" / "screenshots"


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def confirm(page, reason: str | None = None) -> None:
    """Answer the confirmation dialog (web/static/confirm.js) with 确定, giving a reason when it asks for one."""
    dialog = page.locator("#confirm-dialog[open]")
    try:
        dialog.wait_for()
    except Exception as error:
        screenshot(page, "failed-confirm")  # what stood in its way (a form error, a slow page), for CI's artifacts
        raise AssertionError(f"no confirmation dialog; the page says: {refusals(page)}") from error
    if reason is not None:
        dialog.locator("#confirm-reason").fill(reason)
    dialog.locator("#confirm-ok").click()
    page.locator("#confirm-dialog").wait_for(state="hidden")


def refusals(page) -> list[str]:
    """What the page shows as refused: its message box and every field error, with the field's label."""
    return page.evaluate("""() => [
        ...[...document.querySelectorAll('#errors:not([hidden]), .field-error:not([hidden])')].map(e => e.textContent),
        ...[...document.querySelectorAll('.fjs-has-errors')].map(field =>
            (field.querySelector('label') || {}).textContent + ': ' +
            (field.querySelector('.fjs-form-field-error') || {}).textContent)]
        .map(text => text.trim()).filter(Boolean)""")


# Frames a picked date-time takes to reach form-js's data: its Datetime field passes a pick through chained
# effects (the picked day, the calendar echoing it back, the request cleared), one frame each; a time typed while
# a request is still open is overwritten when that request is cleared, and never arrives.
SETTLE_FRAMES = 5


def settle(page) -> None:
    """Let the form take in what was just picked before the next key or click: Playwright is quicker than any
    person, and a browser slowed by a long run may not have run form-js's effects yet."""
    page.evaluate("""frames => new Promise(done => {
        const next = () => frames-- ? requestAnimationFrame(() => setTimeout(next, 0)) : done();
        next(); })""", SETTLE_FRAMES)


class Person:
    """One person at their own browser (own cookies), working through the pages."""

    def __init__(self, open_page, base, username, **viewport):
        self.base, self.username = base, username
        self.page = open_page(**viewport)
        self.page.goto(f"{base}/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("form button[type=submit]")
        expect(self.page).to_have_url(re.compile(r"/tasks$"))

    def open_task(self, name: str, unit: str | None = None):
        """From the inbox, open the task with this name (and unit)."""
        self.page.goto(f"{self.base}/tasks")
        row = self.page.locator("#inbox tbody tr", has_text=name)
        if unit:
            row = row.filter(has_text=unit)
        row.first.get_by_role("link", name=name).click()
        expect(self.page.locator(".fjs-form")).to_be_visible()
        return self.page

    def submit(self):
        settle(self.page)
        self.page.click("#submit")
        confirm(self.page)
        expect(self.page).to_have_url(re.compile(r"/tasks\?done="), timeout=15000)

    def choose(self, label: str, option: str):
        """A form-js select or taglist: type to search, pick the option."""
        field = self.page.get_by_label(label)
        field.click()
        field.fill(option)
        self.page.locator(".fjs-dropdownlist-item", has_text=option).first.click()

    def pick(self, option: str):
        self.page.get_by_label(option, exact=True).check()


def open_modeler(open_page, base, query="", **viewport):
    """The modeler, ready; `page.errors` collects the script errors it reports."""
    page = Person(open_page, base, "designer", **viewport).page
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    page.goto(f"{base}/modeler{query}")
    expect(page.locator("#canvas")).to_have_attribute("data-ready", "true")
    return page


def select(page, element_id):
    page.evaluate("""id => { const m = window.dubanModeler.modeler;
        m.get('selection').select(m.get('elementRegistry').get(id)); }""", element_id)


def panel_field(page, name):
    """A properties panel input by its entry id (bpmn-js-properties-panel names it bio-properties-panel-<id>)."""
    return page.locator(f"#properties [name='{name}'], #properties #bio-properties-panel-{name}").first

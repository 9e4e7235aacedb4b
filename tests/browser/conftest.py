"""A live Duban (waitress on a free port, SQLite) and Debian's chromium driven by Playwright.

Never a downloaded browser: chromium comes from `apt-get install chromium` (`make browser`).
Screenshots go to var/screenshots/ and CI keeps them as artifacts.
"""
from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest
from waitress.channel import HTTPChannel

from tests.support.org import seed
from web import create_app

CHROMIUM = os.environ.get("DUBAN_CHROMIUM", "/usr/bin/chromium")
# Chromium's own calls home are refused on closed networks; these keep it quiet and fast.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture
def live(duban_sqlite):
    """The demo organisation served over HTTP; yields (base URL, engine context, Org)."""
    from waitress.server import create_server

    org = seed(duban_sqlite)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = create_server(create_app(duban=duban_sqlite), host="127.0.0.1", port=port, threads=6)
    loop = threading.Thread(target=server.run, name=f"live-{port}", daemon=True)
    loop.start()
    yield f"http://127.0.0.1:{port}", duban_sqlite, org
    stop(server, loop)


def stop(server, loop) -> None:
    """Stop a waitress server running in `loop`: its own loop lets go of every socket (a trigger pulled
    from here runs there), then they are closed here, once no other thread uses them, and the request
    threads end (waiting for a request under way)."""
    sockets = []

    def let_go():
        sockets.extend(server._map.values())
        server._map.clear()  # the loop runs while its map has sockets: this is its last turn

    server.trigger.pull_trigger(let_go)
    loop.join(timeout=10)
    assert not loop.is_alive(), "the live server's loop did not stop"
    for channel in sockets:
        if isinstance(channel, HTTPChannel):
            channel.handle_close()  # a connection drops its buffers too
        else:
            channel.close()  # the listening socket, the trigger
    server.task_dispatcher.shutdown()


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def open_page(chromium, request):
    """open_page(viewport=None) -> a fresh page in its own context (its own cookies)."""
    contexts = []

    def opener(width=1280, height=900):
        context = chromium.new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                       timezone_id="Asia/Shanghai")
        context.set_default_timeout(15000)
        contexts.append(context)
        return context.new_page()

    yield opener
    for context in contexts:
        context.close()



"""发起 (/start): the processes the signed-in person may start, and one's start form (/start/<key>)."""
from __future__ import annotations

from flask import render_template

from engine.services import MAIN_PROCESS_KEY, starting

from .common import current_actor, duban


def routes(bp) -> None:
    bp.add_url_rule("/start", "start", start_list)
    bp.add_url_rule("/start/<key>", "start_form", start_form)


def start_list():
    actor = current_actor()
    processes = starting.startable(duban(), actor)
    return render_template("start.html", processes=processes, item_page_key=MAIN_PROCESS_KEY)


def start_form(key):
    actor = current_actor()
    process = starting.start_form_of(duban(), actor, key)
    return render_template("start_form.html", process=process, item_page_key=MAIN_PROCESS_KEY)


def may_start_anything(actor) -> bool:
    """Whether the navigation offers 发起 (someone who may start at least one process)."""
    return actor is not None and starting.may_start_any(duban(), actor)

"""Units are read once per transaction (names, form options and the active units a step asks for),
and again once the transaction changed one."""
from __future__ import annotations

from sqlalchemy import event

from engine.models import Unit
from engine.services import org as units


def test_units_are_read_once_per_transaction_and_again_after_a_change(duban, org):
    sent = []

    def seen(_conn, _cursor, statement, *_):
        if "FROM units" in statement:
            sent.append(statement)

    event.listen(duban.db.engine, "before_cursor_execute", seen)
    try:
        with duban.db.transaction() as session:
            names, options = units.unit_names(session), units.unit_options(session)
            assert names["fgj"] == "发改局" and {"label": "发改局", "value": "fgj"} in options
            assert len(sent) == 1
            session.get(Unit, "fgj").name = "发展和改革局"
            session.flush()
            assert units.unit_names(session)["fgj"] == "发展和改革局"
            session.get(Unit, "czj").active = False
            session.flush()
            assert "czj" not in {option["value"] for option in units.unit_options(session)}
        with duban.db.reading() as session:
            assert units.unit_names(session)["fgj"] == "发展和改革局"  # a new transaction reads them anew
    finally:
        event.remove(duban.db.engine, "before_cursor_execute", seen)

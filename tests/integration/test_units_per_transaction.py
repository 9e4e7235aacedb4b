"""Units are read once per transaction (names, form options and the active units a step asks for),
and again once the transaction changed one."""
from __future__ import annotations

from engine.models import Unit
from engine.services import org as units
from tests.support.statements import statements_sent


def test_units_are_read_once_per_transaction_and_again_after_a_change(duban, org):
    with statements_sent(duban) as sent:
        def reads() -> int:
            return sum("FROM units" in statement for statement in sent)

        with duban.db.transaction() as session:
            names, options = units.unit_names(session), units.unit_options(session)
            assert names["fgj"] == "发改局" and {"label": "发改局", "value": "fgj"} in options
            assert units.unit_names(session) == names and reads() == 1
            session.get(Unit, "fgj").name = "发展和改革局"
            session.flush()
            assert units.unit_names(session)["fgj"] == "发展和改革局"
            session.get(Unit, "czj").active = False
            session.flush()
            assert "czj" not in {option["value"] for option in units.unit_options(session)}
            changed = reads()
            units.unit_names(session)
            assert reads() == changed  # read again after each change, then kept
        with duban.db.reading() as session:
            assert units.unit_names(session)["fgj"] == "发展和改革局"  # a new transaction reads them anew
        assert reads() == changed + 1

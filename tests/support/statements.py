"""The SQL a block of code sends, as the tests that count statements see it."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event


@contextmanager
def statements_sent(duban) -> Iterator[list[str]]:
    """The statements Duban sends to its database while the block runs, in order (an executemany
    counts once), gathered into the list it yields."""
    sent: list[str] = []

    def seen(_conn, _cursor, statement, *_):
        sent.append(statement)

    event.listen(duban.db.engine, "before_cursor_execute", seen)
    try:
        yield sent
    finally:
        event.remove(duban.db.engine, "before_cursor_execute", seen)

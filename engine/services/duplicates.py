"""重复提醒: registering an item whose title is close to an open item's warns of a possible duplicate.

Titles are compared after normalising (NFKC, case, whitespace and punctuation dropped, the boilerplate
"关于…的批示/通知" and a trailing 工作/事项 taken off) with difflib's SequenceMatcher; a ratio of at
least THRESHOLD is "close" (tests/integration/test_duplicates.py fixes pairs on both sides of it).

At 100,000 items the database does the sifting: only open items the caller may see, only those that
share one of a few of the title's two-character pieces (LIKE), newest first, at most CANDIDATES rows;
Python compares only those.
"""
from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher

from sqlalchemy import or_, select

from ..access import Actor, items_visible
from ..domain.items import OPEN_STATUSES, STATUSES
from ..models import Item
from ..texts import text

THRESHOLD = 0.8
CANDIDATES = 200  # rows read from the database at most
PIECES = 8  # two-character pieces of the title the database looks for
SHOWN = 3  # close items named in the warning
MIN_LENGTH = 4  # shorter normalised titles only match exactly: a ratio over 2 or 3 characters says little
_BOILERPLATE = re.compile(r"^关于|的?(批示|通知|意见|请示|报告|函)$|(工作|事项|问题)$")


def normalised(title: str) -> str:
    """The title as compared: NFKC, lower case, only letters and digits, boilerplate taken off."""
    plain = "".join(c for c in unicodedata.normalize("NFKC", title).lower() if c.isalnum())
    for _ in range(2):  # "关于…工作的通知": the suffix, then what it uncovered
        plain = _BOILERPLATE.sub("", plain)
    return plain


def similarity(a: str, b: str) -> float:
    """How close two titles are, 0 to 1, as SequenceMatcher's ratio of their normalised forms."""
    left, right = normalised(a), normalised(b)
    if not left or not right:
        return 0.0
    if min(len(left), len(right)) < MIN_LENGTH:
        return 1.0 if left == right else 0.0
    return SequenceMatcher(None, left, right, autojunk=False).ratio()


def _pieces(title: str) -> list[str]:
    """Two-character pieces of the title as stored (runs of letters and digits), spread over its length."""
    runs = re.findall(r"\w+", unicodedata.normalize("NFKC", title))
    pieces = list(dict.fromkeys(run[i:i + 2] for run in runs for i in range(len(run) - 1)))
    if len(pieces) <= PIECES:
        return pieces
    step = len(pieces) / PIECES
    return [pieces[int(i * step)] for i in range(PIECES)]


def close_items(duban, actor: Actor, title: str, exclude: int | None = None) -> list[dict]:
    """Open items the caller may see whose titles are close to `title`, closest first (at most SHOWN)."""
    title = (title or "").strip()
    pieces = _pieces(title)
    if not normalised(title):
        return []
    like = [Item.title.contains(piece, autoescape=True) for piece in pieces] or [Item.title == title]
    query = (select(Item.id, Item.title, Item.status)
             .where(Item.status.in_(OPEN_STATUSES), items_visible(actor), or_(*like))
             .order_by(Item.id.desc()).limit(CANDIDATES))
    if exclude is not None:
        query = query.where(Item.id != exclude)
    with duban.db.reading() as session:
        rows = session.execute(query).all()
    scored = sorted(((similarity(title, row.title), row) for row in rows), key=lambda pair: (-pair[0], -pair[1].id))
    return [{"id": row.id, "title": row.title, "status": row.status, "status_name": STATUSES[row.status],
             "similarity": round(score, 2), "url": f"/items/{row.id}",
             "message": text("duplicate.warning", title=row.title, id=row.id)}
            for score, row in scored[:SHOWN] if score >= THRESHOLD]

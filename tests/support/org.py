"""The demo organisation and the bundled processes, as engine tests meet them: `seed` deploys the bundled
processes into a Duban with the demo units and people; `Org` gives each person as an actor."""
from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from engine import security, services
from engine.bootstrap import bootstrap
from engine.config import Settings
from engine.models import User

ROOT = Path(__file__).resolve().parents[2]
BPMN = ROOT / "bpmn"


def _corpus() -> Path:
    """shared/corpus beside the checkout (or DUBAN_CORPUS_DIR; CI clones elsewhere)."""
    if os.environ.get("DUBAN_CORPUS_DIR"):
        return Path(os.environ["DUBAN_CORPUS_DIR"])
    for parent in [*ROOT.parents, Path("/work")]:
        if (parent / "shared" / "corpus").is_dir():
            return parent / "shared" / "corpus"
    return ROOT.parent / "shared" / "corpus"


CORPUS = _corpus()
# Monday 2026-09-28, 09:00 in Beijing: the week before the National Day holiday.
START = datetime(2026, 9, 28, 9, 0)

def make_duban(url: str, clock, tmp_path, **settings):
    config = Settings.from_env({}, var_dir=tmp_path / "var", database_url=url, secret_key="test-secret",
                               **settings)
    return bootstrap(config, clock=clock)


def bpmn_bundle(*names: str) -> tuple[dict, dict]:
    files = {name: (BPMN / name).read_bytes() for name in names}
    forms = {p.name: p.read_bytes() for p in sorted((BPMN / "forms").glob("*.form"))}
    return files, forms


def seed(context) -> Org:
    services.seed_demo(context)
    services.deploy(context, *bpmn_bundle("duban_main.bpmn", "duban_extension.bpmn"))
    return Org(context)


class Org:
    """The demo organisation's people as actors (no password round trip)."""

    def __init__(self, context):
        self.context = context
        self._actors = {}

    def __getitem__(self, username: str):
        if username not in self._actors:
            with self.context.db.reading() as session:
                user = session.query(User).filter_by(username=username).one()
                self._actors[username] = services.auth.actor_of(user)
        return self._actors[username]

    def add_user(self, username: str, role: str, unit: str):
        from engine.models import UserRole

        with self.context.db.transaction() as session:
            user = User(username=username, display_name=username, password_hash=security.hash_password("x"),
                        unit_id=unit, created_at=self.context.clock.now())
            user.role_rows = [UserRole(role=role)]
            session.add(user)
        return self[username]

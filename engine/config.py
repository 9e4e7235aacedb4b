"""Settings: every environment variable Duban reads is declared here, once, with its default."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path


def _float(env, name, default):
    value = env.get(name)
    return float(value) if value not in (None, "") else default


def _int(env, name, default):
    value = env.get(name)
    return int(value) if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    """What a process of Duban (web, worker, scheduler, CLI) is configured with."""

    var_dir: Path = Path("var")
    database_url: str = "sqlite:///var/duban.db"
    redis_url: str | None = None
    secret_key: str = ""
    timer_poll_s: float = 5.0
    # A dispatched timer not fired within this many seconds (worker died, Redis flushed) is sent again.
    timer_lease_s: float = 60.0
    holidays_file: str | None = None
    # Largest BPMN file accepted at deploy; real diagrams are well under 1 MB.
    max_bpmn_bytes: int = 2 * 1024 * 1024
    # Working days before a deadline at which an item turns yellow (预警).
    yellow_workdays: int = 2
    token_ttl_hours: int = 12
    session_idle_minutes: int = 30
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_sender: str = "duban@localhost"
    extra: dict = field(default_factory=dict)

    @property
    def embedded(self) -> bool:
        """No Redis: the worker and the timer scheduler run inside the web process."""
        return not self.redis_url

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env=None, **overrides) -> "Settings":
        env = os.environ if env is None else env
        var_dir = Path(env.get("DUBAN_VAR_DIR") or "var")
        values = dict(
            var_dir=var_dir,
            database_url=env.get("DUBAN_DATABASE_URL") or f"sqlite:///{var_dir}/duban.db",
            redis_url=env.get("DUBAN_REDIS_URL") or None,
            secret_key=env.get("DUBAN_SECRET_KEY") or "",
            timer_poll_s=_float(env, "DUBAN_TIMER_POLL_S", 5.0),
            timer_lease_s=_float(env, "DUBAN_TIMER_LEASE_S", 60.0),
            holidays_file=env.get("DUBAN_HOLIDAYS_FILE") or None,
            max_bpmn_bytes=_int(env, "DUBAN_MAX_BPMN_BYTES", 2 * 1024 * 1024),
            yellow_workdays=_int(env, "DUBAN_YELLOW_WORKDAYS", 2),
            token_ttl_hours=_int(env, "DUBAN_TOKEN_TTL_HOURS", 12),
            session_idle_minutes=_int(env, "DUBAN_SESSION_IDLE_MINUTES", 30),
            smtp_host=env.get("DUBAN_SMTP_HOST") or None,
            smtp_port=_int(env, "DUBAN_SMTP_PORT", 25),
            smtp_sender=env.get("DUBAN_SMTP_SENDER") or "duban@localhost",
        )
        values.update(overrides)
        settings = cls(**values)
        if not settings.secret_key:
            settings = settings.with_(secret_key=_stored_secret(settings.var_dir))
        return settings


def _stored_secret(var_dir: Path) -> str:
    """The secret generated once into var/secret_key, so sessions survive restarts."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting together must agree on one key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key

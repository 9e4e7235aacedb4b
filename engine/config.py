"""Settings: every environment variable Duban reads is declared here, once, with its default."""
from __future__ import annotations

import os
import secrets
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from pathlib import Path


def _float(env, name, default):
    value = env.get(name)
    return float(value) if value not in (None, "") else default


def _int(env, name, default):
    value = env.get(name)
    return int(value) if value not in (None, "") else default


def _choice(env, name, default, choices):
    value = (env.get(name) or "").strip().lower() or default
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _file_storage(value):
    value = (value or "").strip().lower() or None
    if value not in (None, "local", "database"):
        raise ValueError(f"DUBAN_FILE_STORAGE must be local or database, not {value!r}")
    return value


@dataclass(frozen=True)
class EngineLimits:
    """What a deployed process may ask of the engine: checked at deploy, and again at run time for
    what only an expression can say (see `engine_limits()`)."""

    # A repeating timer (R/PT1M) fires at most this often; a shorter literal cycle is refused at deploy.
    min_timer_cycle_s: float = 60.0
    # Most instances one multi-instance activity may create (a literal above it is refused at deploy).
    max_multi_instance: int = 200

    @classmethod
    def from_env(cls, env) -> EngineLimits:
        return cls(min_timer_cycle_s=_float(env, "DUBAN_MIN_TIMER_CYCLE_S", 60.0),
                   max_multi_instance=_int(env, "DUBAN_MAX_MULTI_INSTANCE", 200))


@dataclass(frozen=True)
class Settings:
    """What a process of Duban (web, worker, scheduler, CLI) is configured with."""

    var_dir: Path = Path("var")
    database_url: str = "sqlite:///var/duban.db"
    redis_url: str | None = None
    secret_key: str = ""
    # True when no DUBAN_SECRET_KEY was given and the key is this machine's var/secret_key: another
    # machine has another one (engine/installation.py refuses to mix them on one database).
    secret_key_generated: bool = False
    timer_poll_s: float = 5.0
    # A dispatched timer not fired within this many seconds (worker died, Redis flushed) is sent again.
    timer_lease_s: float = 60.0
    holidays_file: str | None = None
    # Largest BPMN file accepted at deploy; real diagrams are well under 1 MB.
    max_bpmn_bytes: int = 2 * 1024 * 1024
    # Largest task submission or set of start variables (its JSON, UTF-8); larger is a 422.
    max_submission_bytes: int = 256 * 1024
    # 佐证材料: largest uploaded file, and most bytes of files one item may hold.
    max_file_bytes: int = 20 * 1024 * 1024
    max_item_files_bytes: int = 200 * 1024 * 1024
    # 佐证材料: where new files' bytes go, "local" (files under var_dir) or "database"; None: local with
    # SQLite (one machine), the database otherwise (every machine shares it). Reading follows each
    # file's own record, so changing this never loses a file.
    file_storage: str | None = None
    # Hours an upload no submitted form and no item took is kept before the workers delete it.
    file_retention_hours: float = 24.0
    # Working days before a deadline at which an item turns yellow (预警).
    yellow_workdays: int = 2
    token_ttl_hours: int = 12
    session_idle_minutes: int = 30
    # Session cookies are always `Secure` (HTTPS behind a proxy that does not say so); without it,
    # they are `Secure` when the request came over HTTPS.
    secure_cookies: bool = False
    # Key of the audit chain's HMAC; empty: derived from secret_key. Kept out of the database, so
    # whoever can write the database cannot re-seal a record they changed.
    audit_key: str = ""
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_sender: str = "duban@localhost"
    # Built-in connectors (内置连接器): attempts of a send before it becomes an incident, and the wait
    # before the second attempt (doubled before each later one).
    connector_attempts: int = 3
    connector_backoff_s: float = 30.0
    # Each engine step (scripts, expressions, the engine's own work) runs in a child process under
    # these budgets; over one, the step stops and nothing of it is stored (an incident).
    step_cpu_s: float = 2.0
    step_memory_mb: int = 256
    step_wall_s: float = 15.0
    # Step processes of each web or worker process. Fewer than its threads: a step waits for a free one,
    # and goes to one that does not hold its workflow (read and parsed again) when the one that does is busy.
    step_processes: int = 4
    # Workflows each step process keeps in memory after their step (by instance, the least recently
    # used dropped first): the next step on one skips reading its state; past the bound it is read again.
    live_workflows: int = 512
    # Largest single variable, all variables, and whole saved state an instance may have after a step.
    max_value_bytes: int = 256 * 1024
    max_data_bytes: int = 1024 * 1024
    max_state_bytes: int = 16 * 1024 * 1024
    # What a deployed process may ask of the engine (EngineLimits): shortest timer cycle, most instances.
    min_timer_cycle_s: float = EngineLimits.min_timer_cycle_s
    max_multi_instance: int = EngineLimits.max_multi_instance
    # Reverse proxies in front of the web processes: X-Forwarded-For/-Proto are believed from this many
    # hops and no more (0: not at all, the peer's address is the client's).
    trusted_proxies: int = 0
    # Deployed definitions each process keeps parsed in memory (the least recently used dropped first).
    definitions_cached: int = 256
    # SQLAlchemy's pool per process (PostgreSQL): connections kept open, and the extra ones opened
    # under load. See README "Connections" for the sum against max_connections.
    db_pool_size: int = 5
    db_max_overflow: int = 5
    # Logging of every process: level (debug also shows SpiffWorkflow's own lines), and "text" or "json".
    log_level: str = "info"
    log_format: str = "text"
    # External tasks' fetchAndLock: the longest a request with asyncResponseTimeout waits for a task
    # (seconds), and how many such waits one process holds at once (each holds a request thread, never
    # a transaction); past either the answer is given at once.
    external_poll_max_s: float = 20.0
    external_pollers: int = 2

    @property
    def embedded(self) -> bool:
        """No Redis: the worker and the timer scheduler run inside the web process."""
        return not self.redis_url

    @property
    def files_in(self) -> str:
        """Where new files' bytes are kept: "local" or "database" (see `file_storage`)."""
        if self.file_storage:
            return self.file_storage
        return "local" if self.database_url.startswith("sqlite") else "database"

    @property
    def limits(self) -> EngineLimits:
        return EngineLimits(min_timer_cycle_s=self.min_timer_cycle_s, max_multi_instance=self.max_multi_instance)

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env=None, **overrides) -> Settings:
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
            max_submission_bytes=_int(env, "DUBAN_MAX_SUBMISSION_BYTES", 256 * 1024),
            max_file_bytes=_int(env, "DUBAN_MAX_FILE_BYTES", 20 * 1024 * 1024),
            max_item_files_bytes=_int(env, "DUBAN_MAX_ITEM_FILES_BYTES", 200 * 1024 * 1024),
            file_storage=_file_storage(env.get("DUBAN_FILE_STORAGE")),
            file_retention_hours=_float(env, "DUBAN_FILE_RETENTION_HOURS", 24.0),
            yellow_workdays=_int(env, "DUBAN_YELLOW_WORKDAYS", 2),
            token_ttl_hours=_int(env, "DUBAN_TOKEN_TTL_HOURS", 12),
            session_idle_minutes=_int(env, "DUBAN_SESSION_IDLE_MINUTES", 30),
            secure_cookies=(env.get("DUBAN_SECURE_COOKIES") or "").strip().lower() in ("1", "true", "yes", "on"),
            audit_key=env.get("DUBAN_AUDIT_KEY") or "",
            smtp_host=env.get("DUBAN_SMTP_HOST") or None,
            smtp_port=_int(env, "DUBAN_SMTP_PORT", 25),
            smtp_sender=env.get("DUBAN_SMTP_SENDER") or "duban@localhost",
            connector_attempts=max(1, _int(env, "DUBAN_CONNECTOR_ATTEMPTS", 3)),
            connector_backoff_s=max(0.0, _float(env, "DUBAN_CONNECTOR_BACKOFF_S", 30.0)),
            step_cpu_s=_float(env, "DUBAN_STEP_CPU_S", 2.0),
            step_memory_mb=_int(env, "DUBAN_STEP_MEMORY_MB", 256),
            step_wall_s=_float(env, "DUBAN_STEP_WALL_S", 15.0),
            step_processes=_int(env, "DUBAN_STEP_PROCESSES", 4),
            live_workflows=max(0, _int(env, "DUBAN_LIVE_WORKFLOWS", 512)),
            max_value_bytes=_int(env, "DUBAN_MAX_VALUE_BYTES", 256 * 1024),
            max_data_bytes=_int(env, "DUBAN_MAX_DATA_BYTES", 1024 * 1024),
            max_state_bytes=_int(env, "DUBAN_MAX_STATE_BYTES", 16 * 1024 * 1024),
            trusted_proxies=_int(env, "DUBAN_TRUSTED_PROXIES", 0),
            external_poll_max_s=_float(env, "DUBAN_EXTERNAL_POLL_MAX_S", 20.0),
            external_pollers=max(0, _int(env, "DUBAN_EXTERNAL_POLLERS", 2)),
            definitions_cached=max(0, _int(env, "DUBAN_DEFINITIONS_CACHED", 256)),
            db_pool_size=_int(env, "DUBAN_DB_POOL_SIZE", 5),
            db_max_overflow=_int(env, "DUBAN_DB_MAX_OVERFLOW", 5),
            log_level=_choice(env, "DUBAN_LOG_LEVEL", "info", ("debug", "info", "warning", "error")),
            log_format=_choice(env, "DUBAN_LOG_FORMAT", "text", ("text", "json")),
            **vars(EngineLimits.from_env(env)),
        )
        values.update(overrides)
        settings = cls(**values)
        if not settings.secret_key:
            settings = settings.with_(secret_key=_stored_secret(settings.var_dir), secret_key_generated=True)
        return settings


# The limits in force inside `using_limits` (a deploy, an engine step under its installation's settings).
_LIMITS_IN_USE: ContextVar = ContextVar("duban_engine_limits", default=None)
_process_limits: EngineLimits | None = None


def engine_limits() -> EngineLimits:
    """The limits in force. Engine steps may run in any process (web, worker, a child of either),
    so without a deploy under way they come from this process's environment, read once."""
    global _process_limits
    in_use = _LIMITS_IN_USE.get()
    if in_use is not None:
        return in_use
    if _process_limits is None:
        _process_limits = EngineLimits.from_env(os.environ)
    return _process_limits


@contextmanager
def using_limits(limits: EngineLimits):
    """Check and run with `limits` inside the block (a deploy under its installation's settings)."""
    token = _LIMITS_IN_USE.set(limits)
    try:
        yield limits
    finally:
        _LIMITS_IN_USE.reset(token)


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

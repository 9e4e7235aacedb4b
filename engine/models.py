"""The tables. Workflow state is SpiffWorkflow's JSON; everything users query is a projection beside it."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

Json = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, on SQLite (which has no zones) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict: Json, list: Json}


class Unit(Base):
    """An organisation unit: 督查室, a leader's office, a 承办单位, 纪委."""

    __tablename__ = "units"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # office | leader | unit | discipline | other
    sort: Mapped[int] = mapped_column(Integer, default=0)
    # 单位层级: the unit above (a 乡镇's 站所 under it, a bureau's 二级单位); no cycles (services/org.py).
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"), index=True)
    # What sort of unit it is (县直部门, 乡镇, ...: org.CATEGORIES), beside `kind`, its part in the processes.
    category: Mapped[str | None] = mapped_column(String(20))
    # A deactivated unit keeps its history but is no longer chosen as 承办单位.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    # 督查联络员 (001 聘员督办制): the unit's person for supervision matters.
    liaison_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", use_alter=True))


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"))
    email: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # Someone else set the password (a reset): the user changes it before doing anything else.
    password_change_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Who set it, until the user replaces it: 三员分立 keeps that person from also granting roles.
    password_set_by: Mapped[str | None] = mapped_column(String(64))

    # Named: units.liaison_id is a second path between the two tables.
    unit: Mapped[Unit | None] = relationship(lazy="joined", foreign_keys=[unit_id])
    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def roles(self) -> list[str]:
        return sorted(row.role for row in self.role_rows)


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    # The security administrator who granted it (None: seeded or migrated): they may not also set
    # this account's password (三员分立).
    granted_by: Mapped[str | None] = mapped_column(String(64))


class ApiToken(Base):
    """A bearer token, or the token behind a browser session; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    # "bearer" (API clients) or "session" (a browser's cookie): a session's token also lapses after
    # DUBAN_SESSION_IDLE_MINUTES without use, counted here on the server, whoever presents it.
    kind: Mapped[str] = mapped_column(String(16), default="bearer", server_default="bearer")
    last_seen_at: Mapped[datetime | None]


class Definition(Base):
    """One version of one deployed process, with the files it was parsed from."""

    __tablename__ = "definitions"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(500))
    checksum: Mapped[str] = mapped_column(String(64))
    # {filename: xml} for every file the process needs (itself and what it calls).
    files: Mapped[dict]
    # {form id: form-js schema}
    forms: Mapped[dict]
    # What the engine derived at deploy: user tasks' roles and forms, timers, names.
    elements: Mapped[dict]
    warnings: Mapped[list]
    deployed_at: Mapped[datetime]
    deployed_by: Mapped[str | None] = mapped_column(String(64))


class Decision(Base):
    """One version of one deployed DMN decision (决策表), by its decision id: a process that uses it
    takes the latest version into its own files when deployed; services evaluate the latest."""

    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(500))
    checksum: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(500))
    xml: Mapped[str] = mapped_column(Text)
    deployed_at: Mapped[datetime]
    deployed_by: Mapped[str | None] = mapped_column(String(64))


class Instance(Base):
    """A running or finished process instance and its serialised workflow."""

    __tablename__ = "instances"
    __table_args__ = (Index("ix_instances_status_key", "status", "definition_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("definitions.id"), index=True)
    definition_key: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))  # running | completed | terminated | error | suspended
    # Read only when the live workflow is not cached in this process (deferred: it is large).
    state: Mapped[str] = mapped_column(Text, deferred=True)
    data: Mapped[dict]
    # Elements passed so far, in order: the path the monitor highlights.
    trail: Mapped[list]
    error: Mapped[str | None] = mapped_column(Text)
    started_by: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    # Optimistic locking: every UPDATE says WHERE version = <what we read>.
    __mapper_args__ = {"version_id_col": version}


class HumanTask(Base):
    """Projection of a user or manual task: who may work it, when it is due, how it ended."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_open_role_unit", "state", "role", "unit_id"),
        Index("ix_tasks_assignee_state", "assignee", "state"),
        # The inbox's first page: open tasks in due order, read in index order instead of sorted.
        Index("ix_tasks_state_due", "state", "due_at"),
        # Open tasks nobody has claimed, by role and unit: the inbox's candidates (0017).
        Index("ix_tasks_open_candidates", "role", "unit_id",
              postgresql_where=text("state = 'open' AND assignee IS NULL"),
              sqlite_where=text("state = 'open' AND assignee IS NULL")),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int | None] = mapped_column(Integer, index=True)
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(500))
    lane: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(32))
    unit_id: Mapped[str | None] = mapped_column(String(64))
    assignee: Mapped[str | None] = mapped_column(String(64))
    form_key: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20))  # open | completed | cancelled
    due_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(64))
    # The workflow's data when the task began (what its form starts from), and what was submitted.
    input: Mapped[dict | None]
    data: Mapped[dict | None]


class Timer(Base):
    """A waiting timer of an instance; the scheduler fires those whose due time has come."""

    __tablename__ = "timers"
    __table_args__ = (Index("ix_timers_state_due", "state", "due_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(500))
    unit_id: Mapped[str | None] = mapped_column(String(64))
    due_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(20))  # waiting | fired | cancelled
    created_at: Mapped[datetime]
    # When the scheduler last handed it to a worker; handed out again if not fired within the lease.
    dispatched_at: Mapped[datetime | None]
    fired_at: Mapped[datetime | None]


class HistoryEntry(Base):
    """Who did what, when, with which data: append-only."""

    __tablename__ = "history"
    # 文书 numbers count the year's documents of a kind: the steps completed (engine/services/documents.py).
    __table_args__ = (Index("ix_history_element_action_at", "element_id", "action", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    element_id: Mapped[str | None] = mapped_column(String(200))
    task_id: Mapped[str | None] = mapped_column(String(36))
    name: Mapped[str | None] = mapped_column(String(500))
    unit_id: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict | None]


def only_on(dialect: str, index: Index) -> Index:
    """An index of one database only: created there alone, and compared there alone (see
    engine.migrate.include_object: Alembic's autogenerate does not read ddl_if)."""
    index.info["dialect"] = dialect
    return index.ddl_if(dialect=dialect)


class Item(Base):
    """A supervision item (督办事项): one row of the ledger (台账)."""

    __tablename__ = "items"
    __table_args__ = (
        # By status, by deadline within it; on PostgreSQL with what a ledger count reads of the item
        # (visibility and the other filters), so a count by status needs no row (0025).
        Index("ix_items_status_deadline", "status", "deadline",
              postgresql_include=["id", "classification", "created_by", "source", "category"]),
        # The ledger sorted or filtered by deadline or registration date (0004_ledger_indexes).
        Index("ix_items_deadline", "deadline"),
        Index("ix_items_created_at", "created_at"),
        # Secret items are few: the inbox's count finds them here rather than reading every item
        # (with their ids: the ones a person is not cleared for come from the index alone, 0017).
        Index("ix_items_classification", "classification", "id"),
        # The ledger sorted by title; the dashboard's items closed per month (0017).
        Index("ix_items_title", "title", "id"),
        Index("ix_items_closed_at", "closed_at"),
        # Unfinished items by their first due time: the ledger's light filter is a range of it
        # (services/ledger.py); on PostgreSQL with what items_visible reads, so its counts need no row (0023).
        Index("ix_items_open_due", "due_first",
              postgresql_where=text("status NOT IN ('closed', 'rejected', 'terminated', 'withdrawn')"),
              postgresql_include=["id", "classification", "created_by"],
              sqlite_where=text("status NOT IN ('closed', 'rejected', 'terminated', 'withdrawn')")),
        # What visibility reads of every item (access.items_visible), narrow: a unit's or an office's ledger
        # is counted from it instead of from the table, whose rows hold the content (PostgreSQL, 0023).
        only_on("postgresql", Index("ix_items_seen", "id",
                                    postgresql_include=["classification", "created_by", "status"])),
        # The ledger's text search (LIKE '%…%' on title and content) through trigrams, Chinese included
        # (PostgreSQL's pg_trgm; 0022). SQLite reads every row.
        *(only_on("postgresql", Index(f"ix_items_{column}_trgm", column, postgresql_using="gin",
                                      postgresql_ops={column: "gin_trgm_ops"}))
          for column in ("title", "content")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instances.id"), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    content: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(20))
    classification: Mapped[str] = mapped_column(String(20))
    deadline: Mapped[datetime]
    # Given by the office (kept on recalculation) rather than computed from the category.
    deadline_explicit: Mapped[bool] = mapped_column(Boolean, default=False)
    deadline_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20))
    lead_unit_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    # 撤销: the office withdrew its own mistaken item (status `withdrawn`), saying why.
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
    withdrawn_by: Mapped[str | None] = mapped_column(String(64))
    withdrawn_at: Mapped[datetime | None]
    # When the item's first open part is due (its own deadline while it has no part; none once every part
    # is done), for the ledger's lights: set at every flush that changes the item or a part of it
    # (deadlines.first_due, services/items.py). Rows written past the ORM must set it themselves.
    due_first: Mapped[datetime | None]

    units: Mapped[list[ItemUnit]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="ItemUnit.id", lazy="selectin"
    )
    # 保密: for a `secret` item, the only people (besides administrators) who may know of it.
    # Loaded on first use: only secret items ever read it (access checks the classification first).
    designees: Mapped[list[ItemDesignee]] = relationship(
        cascade="all, delete-orphan", order_by="ItemDesignee.id", lazy="select"
    )


class ItemUnit(Base):
    """One unit's part in an item (牵头 lead or 配合 co-unit): its persons, deadline and progress."""

    __tablename__ = "item_units"
    __table_args__ = (
        UniqueConstraint("item_id", "unit_id"),
        Index("ix_item_units_unit_deadline", "unit_id", "deadline"),
        Index("ix_item_units_unit_item", "unit_id", "item_id"),
        # The light filter (engine/services/ledger.py): parts not yet reported, by effective deadline (on
        # PostgreSQL with the columns it reads: index-only, 0022).
        Index("ix_item_units_open_deadline", text("coalesce(urge_limit, deadline)"),
              postgresql_where=text("reported_at IS NULL AND accepted_at IS NULL"),
              postgresql_include=["item_id", "urge_limit", "deadline"],
              sqlite_where=text("reported_at IS NULL AND accepted_at IS NULL")),
        # 通报's parts accepted, urged and referred to 纪委 in a period; 纪委's escalated parts (0017).
        Index("ix_item_units_accepted_at", "accepted_at"),
        Index("ix_item_units_urged_at", "urged_at"),
        Index("ix_item_units_escalated_at", "escalated_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    role: Mapped[str] = mapped_column(String(10))  # lead | co
    deadline: Mapped[datetime]
    committed_date: Mapped[str | None] = mapped_column(String(32))
    first_responsible: Mapped[str | None] = mapped_column(String(100))
    responsible: Mapped[str | None] = mapped_column(String(100))
    handler: Mapped[str | None] = mapped_column(String(100))
    received_at: Mapped[datetime | None]
    reported_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    urged_at: Mapped[datetime | None]
    urge_limit: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]

    item: Mapped[Item] = relationship(back_populates="units")


class CalendarDay(Base):
    """A day that is not what its weekday says: a holiday on a weekday, a make-up working weekend."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(20))  # official | file | admin
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(String(64))


class CalendarYear(Base):
    """A year whose holiday schedule is loaded: deadlines in it are final, not provisional."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(20))
    loaded_at: Mapped[datetime]


class Notification(Base):
    """An in-app message to one person (站内通知), mailed too when SMTP is configured."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_read", "user_id", "read_at"),
        Index("ix_notifications_mail", "mail_state", "mail_dispatched_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text, default="")
    item_id: Mapped[int | None] = mapped_column(Integer)
    instance_id: Mapped[int | None] = mapped_column(Integer)
    task_id: Mapped[str | None] = mapped_column(String(36))
    read_at: Mapped[datetime | None]
    # none (no address or no SMTP) | pending | sent | failed
    mail_state: Mapped[str] = mapped_column(String(10), default="none")
    mail_dispatched_at: Mapped[datetime | None]
    mail_attempts: Mapped[int] = mapped_column(Integer, default=0)


class Criticism(Base):
    """通报批评: a mark against a unit (an escalation, or the office's decision), feeding 考核."""

    __tablename__ = "criticisms"
    # 通报's criticisms in a period (0017).
    __table_args__ = (UniqueConstraint("item_id", "unit_id", "reason"), Index("ix_criticisms_created_at", "created_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    reason: Mapped[str] = mapped_column(String(40))  # escalated | late | manual
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class AuditRecord(Base):
    """One entry of the security audit log (安全审计日志): append-only and hash-chained.

    `hash` is sha256(prev_hash + the record's canonical JSON), so changing, inserting or removing
    a row breaks the chain at that row (engine/services/audit.py verifies it). The application
    never updates or deletes these rows; only retention pruning of records over six months old does.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_actor", "actor"),
        Index("ix_audit_log_action", "action"),
    )

    # Given by the writer (the previous id + 1) under the chain's lock, so ids have no gaps and two
    # writers that somehow read the same last row collide on the key instead of forking the chain.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[dict | None]
    ip: Mapped[str | None] = mapped_column(String(45))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ItemDesignee(Base):
    """A person designated for a confidential item (保密: 指定专人在指定范围内办理)."""

    __tablename__ = "item_designees"
    __table_args__ = (UniqueConstraint("item_id", "user_id"), Index("ix_item_designees_user", "user_id", "item_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    added_by: Mapped[str | None] = mapped_column(String(64))
    added_at: Mapped[datetime]

    user: Mapped[User] = relationship(lazy="joined")


class Extension(Base):
    """A unit's request to extend its deadline (延期申请) and the leader's decision on it."""

    __tablename__ = "extensions"
    __table_args__ = (Index("ix_extensions_item_unit", "item_id", "unit_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    # The 延期申请 process instance that carries the leader's review.
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instances.id"), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    head: Mapped[str] = mapped_column(String(100))  # the unit head who signed the request
    old_deadline: Mapped[datetime]
    requested_deadline: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))  # pending | approved | refused | withdrawn
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime]
    granted_deadline: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    comment: Mapped[str] = mapped_column(Text, default="")
    # 佐证材料 sent with the request: ids of stored_files, tied to the item when it was made.
    evidence: Mapped[list] = mapped_column(Json, default=list, server_default="[]")


class AssessmentRule(Base):
    """A 考核 scoring rule: the points (加分 +, 减分 −) one event is worth; system administrators edit them.

    The events and their default points are engine/services/assessment.py's (`DEFAULT_RULES`); a
    code without a row here scores its default, so an emptied table still scores.
    """

    __tablename__ = "assessment_rules"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    points: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime | None]
    updated_by: Mapped[str | None] = mapped_column(String(64))


class Praise(Base):
    """领导表扬: a leader praises one unit's work on one item (once per item and unit), feeding 考核."""

    __tablename__ = "praises"
    __table_args__ = (UniqueConstraint("item_id", "unit_id"), Index("ix_praises_unit_at", "unit_id", "at"),
                      Index("ix_praises_at", "at"))  # 通报's praises in a period (0017)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    by: Mapped[str] = mapped_column(String(64))  # the leader's username
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]


class Bulletin(Base):
    """督查通报: one issued bulletin (.docx kept here, so issuing it is one transaction)."""

    __tablename__ = "bulletins"
    __table_args__ = (UniqueConstraint("year", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(10))  # 2026-10 (a month) or 2026-Q4 (a quarter)
    year: Mapped[int] = mapped_column(Integer)  # of issue: the 〔2026〕 of the number
    seq: Mapped[int] = mapped_column(Integer)  # 第N期 within that year
    number: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[dict]  # the counts printed in it
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    # 作废: the row stays, so its number is never issued again; a voided bulletin counts nowhere.
    voided_at: Mapped[datetime | None]
    voided_by: Mapped[str | None] = mapped_column(String(64))
    void_reason: Mapped[str | None] = mapped_column(String(500))


class ProgressReport(Base):
    """月度进展 (002 三(二)): one unit's report on one item for one month.

    Editable while its month runs, read-only after (engine/services/progress.py refuses). Every
    change keeps the version it replaces in `history`, so a report is never changed silently.
    """

    __tablename__ = "progress_reports"
    __table_args__ = (UniqueConstraint("item_id", "unit_id", "month"),
                      Index("ix_progress_reports_month_unit", "month", "unit_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM, Beijing time
    text: Mapped[str] = mapped_column(Text)
    percent: Mapped[int] = mapped_column(Integer)  # 0-100, the unit's own estimate
    problems: Mapped[str] = mapped_column(Text, default="")
    next_steps: Mapped[str] = mapped_column(Text, default="")
    reported_by: Mapped[str] = mapped_column(String(64))
    reported_at: Mapped[datetime]
    first_reported_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Earlier versions, oldest first: {text, percent, problems, next_steps, reported_by, reported_at, version}.
    history: Mapped[list]


class ProgressReminder(Base):
    """A month-end reminder sent to one unit for one month; the unique key makes it at most one."""

    __tablename__ = "progress_reminders"
    __table_args__ = (UniqueConstraint("unit_id", "month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    month: Mapped[str] = mapped_column(String(7))
    missing: Mapped[int] = mapped_column(Integer)  # reports the unit still owed when reminded
    sent_at: Mapped[datetime]


class Checklist(Base):
    """六有 (003): a unit's checklist for an assigned item, each point with a note or attachment name."""

    __tablename__ = "checklists"
    __table_args__ = (UniqueConstraint("item_id", "unit_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    plan: Mapped[bool] = mapped_column(Boolean, default=False)  # 有落实方案
    plan_note: Mapped[str] = mapped_column(String(500), default="")
    measures: Mapped[bool] = mapped_column(Boolean, default=False)  # 有具体措施
    measures_note: Mapped[str] = mapped_column(String(500), default="")
    ledger: Mapped[bool] = mapped_column(Boolean, default=False)  # 有目标台账
    ledger_note: Mapped[str] = mapped_column(String(500), default="")
    leader: Mapped[bool] = mapped_column(Boolean, default=False)  # 有责任领导
    leader_note: Mapped[str] = mapped_column(String(500), default="")
    tasks: Mapped[bool] = mapped_column(Boolean, default=False)  # 有明确任务
    tasks_note: Mapped[str] = mapped_column(String(500), default="")
    report: Mapped[bool] = mapped_column(Boolean, default=False)  # 有情况报告
    report_note: Mapped[str] = mapped_column(String(500), default="")
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class SourceReply(Base):
    """省长信箱, 人大建议, 政协提案: who asked, the reply they got, and how satisfied they were.

    Corrections keep the replaced values in `history` (the targets — reply rate, on-time rate,
    satisfaction — are reported upwards, so their figures must not change silently).
    """

    __tablename__ = "source_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), unique=True)
    requester_name: Mapped[str] = mapped_column(String(100))  # 来信人 / 代表 / 委员
    requester_contact: Mapped[str] = mapped_column(String(200), default="")
    reply_text: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None]
    replied_by: Mapped[str | None] = mapped_column(String(64))  # who recorded the reply
    satisfaction: Mapped[str | None] = mapped_column(String(20))  # satisfied | basically_satisfied | dissatisfied
    satisfaction_on: Mapped[date | None] = mapped_column(Date)  # when the requester said so
    satisfaction_by: Mapped[str | None] = mapped_column(String(64))
    satisfaction_note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime]
    history: Mapped[list]


class StoredFile(Base):
    """佐证材料: an uploaded file's description. Its bytes are in `stored_file_contents` or a file under
    DUBAN_VAR_DIR named by its SHA-256 (`storage`), so listing an item's files never reads them
    (engine/services/files.py)."""

    __tablename__ = "stored_files"
    __table_args__ = (Index("ix_stored_files_item", "item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # None until a form submission or the item page ties it to an item: then only its uploader sees it.
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(127))
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime]
    # Where the bytes are: "database" (stored_file_contents) or "local" (engine/blobs.py).
    storage: Mapped[str] = mapped_column(String(16), default="database", server_default="database")
    # When a submitted form first held it. Neither this nor an item: an abandoned upload, deleted
    # after DUBAN_FILE_RETENTION_HOURS (files.clean_up).
    referenced_at: Mapped[datetime | None]


class StoredFileContent(Base):
    """The bytes of a StoredFile, in the database every web and worker process already shares."""

    __tablename__ = "stored_file_contents"

    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id", ondelete="CASCADE"), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class InstallationSetting(Base):
    """A value every machine of an installation must agree on (engine/installation.py)."""

    __tablename__ = "installation_settings"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class DocumentTemplate(Base):
    """An administrator's .docx replacing a built-in document template, for every machine alike
    (`duban templates push`; engine/services/documents.py)."""

    __tablename__ = "document_templates"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(String(64))


class ExternalTask(Base):
    """Projection of a service task waiting for an external worker (外部任务, Camunda 7's external
    task): its topic, and who holds its lock until when. Written by the step that reaches or ends the
    task (engine/services/process.py) and by the worker's fetch, failure, extend and unlock calls
    (engine/services/external_tasks.py), each one transaction."""

    __tablename__ = "external_tasks"
    __table_args__ = (Index("ix_external_tasks_fetch", "state", "topic"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int | None] = mapped_column(Integer, index=True)
    definition_key: Mapped[str] = mapped_column(String(200))
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(500))
    topic: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20))  # open | completed | cancelled
    priority: Mapped[int] = mapped_column(Integer, default=0)
    worker_id: Mapped[str | None] = mapped_column(String(255))
    lock_expires_at: Mapped[datetime | None]
    # None until a worker reports a failure (as Camunda: the client counts down from its own maximum).
    retries: Mapped[int | None] = mapped_column(Integer)
    # Not fetchable before this (a failure's retryTimeout).
    retry_at: Mapped[datetime | None]
    error_message: Mapped[str | None] = mapped_column(Text)
    error_details: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(255))
    # The task's variables when it was reached: what a fetch hands out (those the worker names).
    input: Mapped[dict | None]


class WorkerTopic(Base):
    """A topic a worker's service account may fetch and complete tasks of (`duban user worker`)."""

    __tablename__ = "worker_topics"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(200), primary_key=True)


class Connector(Base):
    """A built-in connector (内置连接器) of the installation: a notification channel (e-mail, SMS
    gateway, 企业微信/钉钉/政务钉钉 group robot) or an HTTP endpoint, configured by system administrators
    and named by diagrams. Secrets are sealed (engine/connectors/sealing.py) and never read back out."""

    __tablename__ = "connectors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200), default="")
    settings: Mapped[dict]
    sealed: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(String(64))
    # 发送测试消息: pending (asked), sending (a worker took it), ok, failed; to whom, and the outcome.
    test_state: Mapped[str | None] = mapped_column(String(10))
    test_to: Mapped[str | None] = mapped_column(String(255))
    test_by: Mapped[str | None] = mapped_column(String(64))
    test_at: Mapped[datetime | None]
    test_message: Mapped[str | None] = mapped_column(Text)


class ConnectorDelivery(Base):
    """One confirmed send of a connector task to one target (a person, a number, a robot, an endpoint):
    a later attempt of the same task skips it, so a retry never sends twice what was confirmed."""

    __tablename__ = "connector_deliveries"

    task_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    target: Mapped[str] = mapped_column(String(300), primary_key=True)
    attempt: Mapped[int] = mapped_column(Integer)
    sent_at: Mapped[datetime]
    result: Mapped[dict | None]

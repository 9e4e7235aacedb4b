"""Accounts on the server: sign-in timing, `duban user reset-password`, `duban audit verify`; SQLite and PostgreSQL."""
import statistics
import time
from types import SimpleNamespace

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from sqlalchemy import select, text

from duban.cli import main
from engine import security, services
from engine.errors import AuthenticationFailed
from engine.models import AuditRecord, User
from engine.services import audit

NEW = "Zh3ng-Tong!"


def _cli(duban, *args, input=None):  # noqa: A002 - passed on to CliRunner.invoke under its own name
    """`duban ARGS` against this test's database, secret and var folder, as an operator would run it."""
    env = {"DUBAN_DATABASE_URL": duban.db.url, "DUBAN_VAR_DIR": str(duban.settings.var_dir),
           "DUBAN_SECRET_KEY": duban.settings.secret_key, "DUBAN_AUDIT_KEY": duban.settings.audit_key}
    return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)


def _user(duban, username: str) -> SimpleNamespace:
    """The account's columns as plain values (a reading session expires its objects when it ends)."""
    with duban.db.reading() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        return SimpleNamespace(**{c: getattr(user, c) for c in User.__table__.columns.keys()})


def test_sign_in_takes_as_long_for_an_unknown_user_as_for_a_wrong_password(duban, org, monkeypatch):
    # A production-like argon2 cost, so that the password check, not the database, sets the time;
    # the user's hash is made with it too (argon2 verifies with the cost stored in the hash).
    monkeypatch.setattr(security, "_hasher", PasswordHasher(time_cost=2, memory_cost=32 * 1024, parallelism=1))
    with duban.db.transaction() as session:
        session.execute(text("UPDATE users SET password_hash = :h WHERE username = 'office'"),
                        {"h": security.hash_password("Right-Passw0rd")})
    with pytest.raises(AuthenticationFailed):
        services.login(duban, "nobody", "warm-up")  # the first unknown user makes the hash of nothing
    unknown, wrong = [], []
    for _ in range(7):  # interleaved, so a busy moment of the machine hits both alike; medians drop outliers
        unknown.append(_timed_refusal(duban, "nobody"))
        wrong.append(_timed_refusal(duban, "office"))
        with duban.db.transaction() as session:
            session.execute(text("UPDATE users SET failed_logins = 0 WHERE username = 'office'"))
    ratio = statistics.median(unknown) / statistics.median(wrong)
    assert 0.5 < ratio < 2, (unknown, wrong)


def _timed_refusal(duban, username: str) -> float:
    started = time.perf_counter()
    with pytest.raises(AuthenticationFailed) as refused:
        services.login(duban, username, "Wrong-Passw0rd")
    assert refused.value.message == "用户名或密码错误"
    return time.perf_counter() - started


def test_the_command_line_resets_an_administrators_password(duban, org):
    for _ in range(5):  # the auditor locked out, as often happens before a reset
        with pytest.raises(AuthenticationFailed):
            services.login(duban, "auditor", "forgotten")
    token, _ = services.issue_token(duban, org["auditor"])
    result = _cli(duban, "user", "reset-password", "auditor", input=f"{NEW}\n{NEW}\n")
    assert result.exit_code == 0, result.output
    assert "must be changed at the next sign-in" in result.output
    user = _user(duban, "auditor")
    assert user.password_change_required and user.password_set_by is None and user.locked_until is None
    with pytest.raises(AuthenticationFailed):
        services.actor_for_token(duban, token)  # its sessions ended
    assert services.auth.caller_for_token(
        duban, services.issue_token(duban, services.login(duban, "auditor", NEW))[0]).password_change_required
    with duban.db.reading() as session:
        reset = session.scalars(select(AuditRecord).where(AuditRecord.action == "user.password_reset")).one()
        assert reset.actor.startswith("cli") and reset.target == "user:auditor"
        assert reset.detail == {"tokens_revoked": 1, "via": "command line"}
    assert audit.verify(duban).intact


def test_the_command_line_refuses_a_weak_password_or_an_unknown_user(duban, org):
    weak = _cli(duban, "user", "reset-password", "admin", "--password", "Password1")
    assert weak.exit_code == 2 and "最常见的口令" in weak.output
    unknown = _cli(duban, "user", "reset-password", "nobody", "--password", NEW)
    assert unknown.exit_code == 2 and "不存在" in unknown.output
    assert not _user(duban, "admin").password_change_required


def test_the_demo_accounts_keep_their_demo_password(duban, org):
    assert _cli(duban, "seed-demo").exit_code == 0
    assert not any(_user(duban, name).password_change_required for name in ("office", "admin", "auditor"))
    caller = services.auth.caller_for_token(duban, services.issue_token(duban, services.login(
        duban, "auditor", "duban-demo"))[0])
    assert not caller.password_change_required


def test_the_command_line_verifies_the_audit_log(duban, org):
    services.login(duban, "office", "duban-demo")
    intact = _cli(duban, "audit", "verify")
    assert intact.exit_code == 0 and intact.output.startswith("intact:")
    with duban.db.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)"))
    cut = _cli(duban, "audit", "verify")
    assert cut.exit_code == 1 and "最新的记录被删除" in cut.output

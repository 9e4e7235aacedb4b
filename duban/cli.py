"""`duban`: database, deployment, demo data and the processes of a Duban installation."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from engine import bootstrap as wiring, services
from engine.errors import DubanError


def bootstrap():
    """The installation as this command sees it; refused (exit 2) when this machine's generated secret key
    is not the one the installation's nodes use (its audit records would break the chain)."""
    from engine import installation

    duban = wiring.bootstrap()
    _or_exit(lambda: installation.check_secret_key(duban))
    return duban


@click.group()
def main():
    """Duban (督办): BPM service for 督查督办 work."""


@main.group()
def db():
    """The database."""


@db.command("upgrade")
def db_upgrade():
    """Create or migrate the database to the latest schema (Alembic), and load the holiday schedule."""
    from engine.migrate import upgrade
    from engine.services import calendar

    duban = bootstrap()
    upgrade(duban.db)
    years = calendar.sync_official(duban)
    if years:
        click.echo(f"holiday schedule loaded for {years[0]}–{years[-1]}")
    _import_holidays_file(duban)
    click.echo(f"database at {duban.settings.database_url.split('@')[-1]} is up to date")


def _import_holidays_file(duban) -> None:
    """DUBAN_HOLIDAYS_FILE: a new year's notice (or local corrections), loaded without a release."""
    from engine.services import calendar

    path = duban.settings.holidays_file
    if not path:
        return
    try:
        result = calendar.import_days(duban, calendar.read_days_file(Path(path)), Path(path).name)
    except (OSError, DubanError) as error:
        click.echo(f"warning: DUBAN_HOLIDAYS_FILE {path} not loaded: {error}", err=True)
        return
    if result["changed"]:
        click.echo(f"{path}: {result['changed']} calendar changes, {result['moved']} deadlines moved")


@main.group("calendar")
def calendar_group():
    """The working-day calendar."""


@calendar_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def calendar_import(file):
    """Load holidays and make-up working days from a YAML or CSV FILE; open deadlines are recomputed."""
    from engine.services import calendar

    try:
        result = calendar.import_days(bootstrap(), calendar.read_days_file(file), file.name)
    except DubanError as error:
        click.echo(f"error: {error.message}", err=True)
        sys.exit(2)
    click.echo(f"{result['days']} days for {', '.join(map(str, result['years']))}; "
               f"{result['moved']} of {result['items']} deadlines moved")


@main.command()
def recalculate():
    """Recompute the deadlines and timers of open items (after a calendar change)."""
    from engine.services import calendar

    result = calendar.recalculate(bootstrap())
    click.echo(f"{result['moved']} of {result['items']} open items got a new deadline")


@main.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--bundled", is_flag=True,
              help="also the processes shipped with Duban (duban_main, duban_extension: bpmn/ in a checkout)")
def deploy(files, bundled):
    """Deploy BPMN FILES together, each with the .form files beside it (or in forms/); DMN files (.dmn)
    among them deploy their decision tables."""
    from engine import PROCESSES

    shipped = sorted(PROCESSES.glob("*.bpmn")) + sorted(PROCESSES.glob("*.dmn"))  # with the deadline rules table
    files = [*files, *(shipped if bundled else [])]
    if not files:
        raise click.UsageError("name the BPMN files to deploy, or give --bundled")
    duban = bootstrap()
    bpmn = {path.name: path.read_bytes() for path in files}
    forms = {}
    for path in files:
        for folder in (path.parent, path.parent / "forms"):
            for form in sorted(folder.glob("*.form")):
                forms.setdefault(form.name, form.read_bytes())
    try:
        results = services.deploy(duban, bpmn, forms)
    except DubanError as error:
        click.echo(f"error: {error.message}", err=True)
        for detail in error.details[1:]:
            rule = f" [{detail['rule']}]" if detail.get("rule") else ""
            click.echo(f"  {detail.get('file')}: {detail.get('message')}{rule}", err=True)
        sys.exit(2)
    for result in results:
        click.echo(f"{result['key']} {result['version']}")
        for warning in result["warnings"]:
            click.echo(f"  warning: {warning['message']}", err=True)


@main.group("user")
def user_group():
    """Accounts, from the server's command line."""


@user_group.command("reset-password")
@click.argument("username")
@click.option("--password", prompt="new password", hide_input=True, confirmation_prompt=True,
              help="the new password (asked for when not given)")
def user_reset_password(username, password):
    """Set USERNAME's password, to be changed at the next sign-in; unlocks the account and ends its
    sessions. The only way to reset the three administrators' passwords (三员分立); audited."""
    from engine.services import users

    try:
        users.reset_password_on_server(bootstrap(), username, password, operator=_operator())
    except DubanError as error:
        click.echo(f"error: {error.message}", err=True)
        for detail in error.details:
            click.echo(f"  {detail.get('message')}", err=True)
        sys.exit(2)
    click.echo(f"{username}: password reset; it must be changed at the next sign-in")


@user_group.command("add")
@click.argument("username")
@click.option("--name", required=True, help="姓名 (display name)")
@click.option("--unit", "unit_id", required=True, help="the unit's id")
@click.option("--email", default=None)
@click.option("--role", "roles", multiple=True, help="a role to grant; repeat for several")
@click.option("--password-file", type=click.File("r", encoding="utf-8"), default=None,
              help="read the first password from this file (- for standard input) instead of asking")
def user_add(username, name, unit_id, email, roles, password_file):
    """Create USERNAME with a first password, changed at the first sign-in; audited."""
    from engine.services import accounts

    if password_file is not None:
        password = password_file.readline().rstrip("\r\n")
    else:
        password = click.prompt("first password", hide_input=True, confirmation_prompt=True)
    fields = {"username": username, "name": name, "unit_id": unit_id, "email": email, "password": password}
    _or_exit(lambda: accounts.create_user_on_server(bootstrap(), fields, list(roles), operator=_operator()))
    click.echo(f"{username}: created in {unit_id}" + (f" with {', '.join(roles)}" if roles else "")
               + "; the password must be changed at the first sign-in")


@user_group.command("worker")
@click.argument("username")
@click.option("--name", default=None, help="名称 (display name); needed when creating")
@click.option("--unit", "unit_id", default=None, help="the unit the worker serves; needed when creating")
@click.option("--topic", "topics", multiple=True, required=True,
              help="an external task topic it may fetch; repeat for several (replaces the account's topics)")
@click.option("--password-file", type=click.File("r", encoding="utf-8"), default=None,
              help="read the password from this file (- for standard input) instead of asking")
def user_worker(username, name, unit_id, topics, password_file):
    """Create the service account USERNAME of an external task worker (role worker), or replace its
    topics; its password is for a program (HTTP Basic), not changed at first use; audited."""
    from engine.services import service_accounts

    fields = {"username": username, "name": name, "unit_id": unit_id}
    if name or unit_id:
        if password_file is not None:
            fields["password"] = password_file.readline().rstrip("\r\n")
        else:
            fields["password"] = click.prompt("password", hide_input=True, confirmation_prompt=True)
    saved = _or_exit(lambda: service_accounts.save_worker(bootstrap(), fields, list(topics), operator=_operator()))
    click.echo(f"{username}: {'created' if saved['created'] else 'updated'}, topics {', '.join(saved['topics'])}")


@main.group("unit")
def unit_group():
    """Units, from the server's command line."""


@unit_group.command("add")
@click.argument("unit_id")
@click.option("--name", required=True, help="名称")
@click.option("--kind", default="unit", show_default=True,
              help="office, leader, unit, discipline or other (or 督查室, 领导, 承办单位, 纪委, 其他)")
@click.option("--parent", default=None, help="the parent unit's id (上级单位)")
@click.option("--category", default=None,
              help="dept, township, party, vertical or other (or 县直部门, 乡镇（街道）, 党群部门, 垂直管理部门, 其他)")
def unit_add(unit_id, name, kind, parent, category):
    """Create the unit UNIT_ID; audited."""
    from engine.services import org

    fields = {"id": unit_id, "name": name, "kind": kind, "parent_id": parent, "category": category}
    unit = _or_exit(lambda: org.create_unit(bootstrap(), None, fields, by=_operator()))
    click.echo(f"{unit_id}: created ({unit['kind_name']})")


def _or_exit(action):
    """Run a service call; a refusal is printed (in Chinese, as the service says it) with exit status 2."""
    try:
        return action()
    except DubanError as error:
        click.echo(f"error: {error.message}", err=True)
        for detail in error.details:
            if detail.get("message") != error.message:
                click.echo(f"  {detail.get('message')}", err=True)
        sys.exit(2)


@main.group("connector")
def connector_group():
    """Built-in connectors (内置连接器): the installation's channels and HTTP endpoints (secrets never shown)."""


def _cli_admin():
    from engine.access import Actor
    from engine.domain.roles import SYSADMIN

    return Actor(id=0, username=_operator(), roles=frozenset({SYSADMIN}), unit_id=None)


@connector_group.command("list")
def connector_list():
    """Each connector: name, kind, host, enabled, which secrets are set, the last test message's outcome."""
    from engine.services import connectors

    for c in connectors.list_connectors(bootstrap(), _cli_admin()):
        test = f"{c['test']['state_name']}: {c['test']['message'] or ''}" if c["test"]["state"] else "—"
        click.echo("\t".join([c["name"], c["kind"], c["title"] or "—", c["host"] or "—",
                              "enabled" if c["enabled"] else "disabled",
                              "secrets: " + (",".join(c["secrets_set"]) or "none"), f"test: {test}"]))


@connector_group.command("set")
@click.argument("name")
@click.option("--kind", help="email, sms, wecom, dingtalk, zwdingtalk or http (creating one)")
@click.option("--title", default=None)
@click.option("--setting", "settings", multiple=True, metavar="KEY=VALUE", help="a setting (repeatable)")
@click.option("--secret", "secrets", multiple=True, metavar="KEY",
              help="a secret read from standard input, one line per --secret in their order (never an argument)")
@click.option("--enable/--disable", "enabled", default=None)
def connector_set(name, kind, title, settings, secrets, enabled):
    """Create or change the connector NAME; audited as the operating-system user."""
    from engine.errors import NotFound
    from engine.services import connectors

    body = {"settings": dict(pair.split("=", 1) for pair in settings if "=" in pair),
            "secrets": {key: sys.stdin.readline().rstrip("\r\n") for key in secrets}}
    if title is not None:
        body["title"] = title
    if enabled is not None:
        body["enabled"] = enabled
    duban, actor = bootstrap(), _cli_admin()
    try:
        connectors.get_connector(duban, actor, name)
    except NotFound:
        shown = _or_exit(lambda: connectors.create(duban, actor, {"name": name, "kind": kind, **body}))
        click.echo(f"{name}: created ({shown['kind_name']})")
        return
    _or_exit(lambda: connectors.update_connector(duban, actor, name, body))
    click.echo(f"{name}: saved")


@connector_group.command("test")
@click.argument("name")
@click.option("--to", default=None, help="e-mail address or phone number")
def connector_test(name, to):
    """Send a test message through NAME now; exit status 1 when it fails."""
    from engine.services import connectors

    shown = _or_exit(lambda: connectors.send_test_now(bootstrap(), _cli_admin(), name, to))
    click.echo(f"{name}: {shown['test']['state_name']}：{shown['test']['message']}")
    sys.exit(0 if shown["test"]["state"] == "ok" else 1)


@main.group("templates")
def templates_group():
    """Document templates (文书模板: 交办通知单, 催办通知单), kept in the database every machine reads."""


@templates_group.command("push")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def templates_push(files):
    """Replace built-in templates with FILES (.docx named as the template: assign_notice.docx, ...) on
    every machine at once; audited."""
    from engine.services import doc_templates

    duban = bootstrap()
    for path in files:
        pushed = _or_exit(lambda path=path: doc_templates.push(duban, path.stem, path.read_bytes(), _operator()))
        click.echo(f"{pushed['name']}: pushed ({pushed['size']} bytes, sha256 {pushed['sha256'][:12]})")


@templates_group.command("list")
def templates_list():
    """Each template and where the one in force comes from: database, local (this machine only) or built-in."""
    from engine.services import doc_templates

    for entry in doc_templates.listing(bootstrap()):
        if entry["source"] == "database":
            where = f"database (pushed by {entry['updated_by']} at {entry['updated_at']:%Y-%m-%d %H:%M} UTC)"
        elif entry["source"] == "local":
            where = f"local file {entry['path']} (this machine only)"
        else:
            where = "built-in"
        click.echo(f"{entry['name']}\t{where}" + (f"\tsha256 {entry['sha256'][:12]}" if "sha256" in entry else ""))


@templates_group.command("remove")
@click.argument("name")
def templates_remove(name):
    """Drop the pushed template NAME: documents are filled from the built-in one again; audited."""
    from engine.services import doc_templates

    _or_exit(lambda: doc_templates.remove(bootstrap(), name, _operator()))
    click.echo(f"{name}: removed; the built-in template serves")


@main.group("audit")
def audit_group():
    """The security audit log."""


@audit_group.command("verify")
def audit_verify():
    """Check the audit log's keyed hash chain and its anchor file; exit status 1 when it is broken."""
    from engine.services import audit

    duban = bootstrap()
    verdict = audit.verify(duban)
    audit.record(duban, _operator(), "audit.verify", "audit_log",
                 {"intact": verdict.intact, "broken_at": verdict.broken_at, "records": verdict.records})
    if verdict.intact:
        click.echo(f"intact: {verdict.records} records, last hash {verdict.last_hash}")
        return
    click.echo(f"broken: {verdict.problem}", err=True)
    sys.exit(1)


@audit_group.command("prune")
@click.option("--before", "day", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="delete the records made before this day (Beijing time), at least 183 days ago")
def audit_prune(day):
    """Delete the audit records older than a day (retention: 183 days are always kept, and the newest
    record); the pruning is itself recorded, so `duban audit verify` still finds the chain intact."""
    from datetime import datetime, time

    from engine.clock import CHINA
    from engine.services import audit

    before = datetime.combine(day.date(), time(), CHINA)
    deleted = _or_exit(lambda: audit.prune(bootstrap(), before, _operator()))
    click.echo(f"{deleted} audit records made before {day:%Y-%m-%d} deleted")


def _claim_secret_key(duban) -> None:
    """A node (web, worker, scheduler) starts only with the installation's secret key (engine/installation.py)."""
    from engine import installation

    _or_exit(lambda: installation.claim_secret_key(duban))


def _operator() -> str:
    """Who ran a command, as the audit log names them: `cli:` and the operating-system user."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@main.command("seed-demo")
@click.option("--password", default=None, help="password of every demo user (default: duban-demo)")
@click.option("--with-items", is_flag=True,
              help="also a few items in every state (拟办, 办理中, 逾期, 催办, 延期申请, 待审核, 销号, 不予立项, 撤销, "
                   "纪委), driven through the services; needs the main process deployed")
def seed_demo(password, with_items):
    """Create the demo organisation (idempotent), and with --with-items its demo items (once)."""
    duban = bootstrap()
    created = services.seed_demo(duban, **({"password": password} if password else {}))
    click.echo(f"demo organisation ready ({created['units']} units and {created['users']} users added)")
    if with_items:
        from engine.services import demo

        made = _or_exit(lambda: demo.seed_items(duban))
        click.echo(f"demo items: {made['created']} added" if made["created"] else "demo items: already there")
        for kind, status in demo.states(duban).items():
            click.echo(f"  {demo.TITLES[kind]}: {status}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
def run(host, port, threads):
    """Serve the web app; without DUBAN_REDIS_URL the worker and scheduler run in-process."""
    from waitress import serve

    from engine import logs
    from web import create_app
    from workers import embedded

    duban = bootstrap()
    logs.configure(duban.settings)
    _claim_secret_key(duban)
    _import_holidays_file(duban)
    duban.runtime.warm()  # the step processes start now, not on the first request
    app = create_app(duban=duban)
    background = embedded.start(duban) if duban.settings.embedded else None
    mode = "embedded worker and scheduler" if background else f"Redis at {duban.settings.redis_url}"
    click.echo(f"Duban serving on http://{host}:{port} ({mode})")
    try:
        serve(app, host=host, port=port, threads=threads, ident="duban")
    finally:
        if background:
            background.stop()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="web processes (gunicorn, pre-fork)")
@click.option("--threads", default=4, show_default=True, type=int, help="threads of each web process")
def serve(host, port, workers, threads):
    """Serve the web app in several processes (gunicorn) for PostgreSQL and Redis; timers and mail are
    run by `duban worker` and `duban scheduler`, started apart. One machine on SQLite: `duban run`."""
    import os

    from engine.config import Settings
    from web import gunicorn_conf

    refusal = gunicorn_conf.refusal(Settings.from_env())
    if refusal:
        click.echo(f"error: {refusal}", err=True)
        sys.exit(2)
    # exec: gunicorn's master is this process, so systemd and signals reach it directly.
    os.execv(sys.executable, [sys.executable, "-m", "gunicorn", "--config", f"python:{gunicorn_conf.__name__}",
                              "--bind", f"{host}:{port}", "--workers", str(workers), "--threads", str(threads)])


@main.command()
@click.option("--processes", default=1, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int)
def worker(processes, threads):
    """Dramatiq worker processes on Redis (DUBAN_REDIS_URL); with --processes N above 1, a child that
    dies is logged and replaced."""
    from workers import runner

    duban = bootstrap()
    _claim_secret_key(duban)
    duban.db.dispose()  # no connection of this process's is carried into the workers it forks
    sys.exit(runner.run_worker(processes, threads))


@main.command()
def scheduler():
    """The timer scheduler alone: sends due timers to the workers."""
    from workers import scheduler as timer_scheduler

    duban = bootstrap()
    _claim_secret_key(duban)
    timer_scheduler.run_forever(duban)


if __name__ == "__main__":
    main()

"""Helpers shared by test modules (they import from here, never from one another's test_ files).

databases  the real services: require_service, scratch_postgres (a database of a test's own), migrate, truncate
org        ROOT, BPMN, CORPUS, START; make_duban, bpmn_bundle, seed (the demo org with the bundled processes), Org
waiting    wait_for(predicate) on observable state, soon(seconds) as an ISO time
commands   `duban` run as a command: cli(env, ...), run_duban(sqlite_url, tmp_path, ...), Processes
           (workers and schedulers started and stopped), duban_run(env) (the served `duban run`), Http, login
web        Flask test clients: Browser (signs in through /login), Caller and client_as (bearer token), assert_error,
           csrf_of, patch, USERS
browser    Playwright: Person (one person at their own browser), confirm, screenshot, the modeler's helpers
items      items written or driven for a test: add_item (a ledger row), assign/close (through 交办, to 销号)
stats      the dashboard's situation: act, assigned, done, move
documents  all_text of a .docx, assigned (through 交办 with the prefilled notice)
npc        人大代表建议办理: a small process declaring a 督办 item, with its start form
workbooks  an Excel workbook of units and users to import
"""

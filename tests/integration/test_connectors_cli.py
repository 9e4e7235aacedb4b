"""`duban connector set|list|test` run as an operator would (a process of its own): the secret read from
standard input, never shown by `list`, the test message sent by the command to a real local server."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.support.connectors import Gateway


def duban_command(duban, *args, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "DUBAN_DATABASE_URL": duban.settings.database_url,
           "DUBAN_VAR_DIR": str(duban.settings.var_dir), "DUBAN_SECRET_KEY": duban.settings.secret_key}
    env.pop("DUBAN_REDIS_URL", None)
    return subprocess.run([sys.executable, "-m", "duban.cli", *args], env=env, capture_output=True, text=True,
                          input=stdin, timeout=120)


def test_an_operator_configures_and_tests_a_robot(duban_sqlite, org_sqlite):
    gateway = Gateway()
    try:
        url = f"{gateway.url}/robot/send?access_token=CLI-TOKEN"
        made = duban_command(duban_sqlite, "connector", "set", "ding", "--kind", "dingtalk", "--title", "钉钉群",
                             "--setting", "allow_private=true", "--secret", "url", "--secret", "sign_secret",
                             stdin=f"{url}\nSEC-cli\n")
        assert made.returncode == 0, made.stderr
        listed = duban_command(duban_sqlite, "connector", "list")
        assert "ding\tdingtalk\t钉钉群\t127.0.0.1\tenabled\tsecrets: sign_secret,url" in listed.stdout
        assert "CLI-TOKEN" not in listed.stdout and "SEC-cli" not in listed.stdout
        tested = duban_command(duban_sqlite, "connector", "test", "ding")
        assert tested.returncode == 0 and "发送成功" in tested.stdout, tested.stdout + tested.stderr
        assert "access_token=CLI-TOKEN" in gateway.requests[0]["path"] and "sign=" in gateway.requests[0]["path"]
        gateway.default = (200, {"errcode": 310000, "errmsg": "sign not match"}, 0, {})
        failed = duban_command(duban_sqlite, "connector", "test", "ding")
        assert failed.returncode == 1 and "errcode 310000" in failed.stdout
        refused = duban_command(duban_sqlite, "connector", "set", "bad", "--kind", "fax")
        assert refused.returncode == 2 and "须为以下之一" in refused.stderr
    finally:
        gateway.close()

"""``agent-monitor users add|passwd|list|deactivate|activate`` as an operator runs them (a real
process, a real SQLite database under a temporary data directory)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from agent_monitor.accounts.passwords import verify_password
from agent_monitor.settings import Settings
from agent_monitor.storage import Database, repo

REPO = Path(__file__).resolve().parents[2]


def users(data: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AGENT_MONITOR_DATA_DIR": str(data)}
    cmd = [sys.executable, "-m", "agent_monitor", "users", *args]
    return subprocess.run(cmd, env=env, cwd=REPO, input=stdin, capture_output=True, text=True, timeout=120)


def test_users_commands(tmp_path: Path, settings: Settings) -> None:
    data = settings.data_dir
    nothing = users(data, "list")  # only lists: no database is made for it
    assert nothing.returncode == 1 and "no database at" in nothing.stderr, nothing.stderr
    env = {**os.environ, "AGENT_MONITOR_DATA_DIR": str(data)}
    upgrade = [sys.executable, "-m", "agent_monitor", "db", "upgrade"]
    subprocess.run(upgrade, env=env, cwd=REPO, capture_output=True, timeout=120, check=True)
    listed = users(data, "list")
    assert listed.returncode == 0 and "no users yet" in listed.stdout, "there is no default user"

    first = users(data, "add", "boss", "--role", "admin", "--password-stdin", stdin="correct horse battery\n")
    assert first.returncode == 0, first.stderr
    short = users(data, "add", "x", "--role", "qa", "--password-stdin", stdin="short\n")
    assert short.returncode == 1
    assert short.stderr.strip() == "agent-monitor: error: the password must be at least 10 characters"
    no_agent = users(data, "add", "a1", "--role", "agent", "--password-stdin", stdin="agent password 1\n")
    assert no_agent.returncode == 1 and "--agent-id" in no_agent.stderr and "Traceback" not in no_agent.stderr
    same = users(data, "add", "longusername", "--role", "qa", "--password-stdin", stdin="longusername\n")
    assert same.returncode == 1 and "username" in same.stderr
    ok = users(
        data,
        "add",
        "a1",
        "--role",
        "agent",
        "--agent-id",
        "A-1",
        "--password-stdin",
        stdin="agent password 1\n",
    )
    assert ok.returncode == 0, ok.stderr
    dup = users(data, "add", "a1", "--role", "qa", "--password-stdin", stdin="agent password 1\n")
    assert dup.returncode == 1 and "already exists" in dup.stderr
    # a name that breaks the table or is not the admin API's kind, an agent id that looks like another,
    # and a password asked for with no terminal: one line each, no traceback
    for name, extra in (("ev\x07il", []), ("x" * 101, []), ("a2", ["--agent-id", "A-1\u200b"])):
        role = ["--role", "agent"] if extra else ["--role", "qa"]
        bad = users(data, "add", name, *role, *extra, "--password-stdin", stdin="agent password 1\n")
        assert bad.returncode == 1 and bad.stderr.startswith("agent-monitor: error:"), bad.stderr
        assert "Traceback" not in bad.stderr
    asked = users(data, "add", "c1", "--role", "qa", stdin="")
    assert asked.returncode == 1 and "use --password-stdin" in asked.stderr, asked.stderr

    table = users(data, "list").stdout.splitlines()
    assert table[0].split() == ["USERNAME", "ROLE", "AGENT", "TEAM", "ACTIVE"]
    assert table[1].split() == ["a1", "agent", "A-1", "-", "yes"]
    assert table[2].split() == ["boss", "admin", "-", "-", "yes"]

    assert users(data, "passwd", "a1", "--password-stdin", stdin="a new password 2\n").returncode == 0
    assert users(data, "deactivate", "a1").returncode == 0
    # the last active admin stays (as through the admin API): someone must be able to manage users
    last = users(data, "deactivate", "boss")
    assert last.returncode == 1, last.stdout
    assert last.stderr.strip() == "agent-monitor: error: the last active admin cannot be deactivated"
    missing = users(data, "passwd", "ghost", "--password-stdin", stdin="whatever password\n")
    assert missing.returncode == 1 and "not found" in missing.stderr

    db = Database.open(settings)
    try:
        with db.session() as s:
            row = repo.require_user(s, "a1")
            assert row.active is False
            assert repo.require_user(s, "boss").active is True
            assert row.password_hash.startswith("$argon2id$")
            assert verify_password(row.password_hash, "a new password 2")
            assert not verify_password(row.password_hash, "agent password 1")
            actions = {(e.action, e.object_id) for e in repo.list_audit(s, actor="cli")}
            assert {
                ("user_created", "boss"),
                ("password_changed", "a1"),
                ("user_deactivated", "a1"),
            } <= actions
    finally:
        db.dispose()

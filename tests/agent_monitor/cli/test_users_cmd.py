"""``agent-monitor users add``: the agent id and team are identifiers as the ingest reads them."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from agent_monitor.cli import main
from agent_monitor.ingest.ws_ingest import StartMessage, parse_text_message
from agent_monitor.storage import Database, repo

PASSWORD = "Tr0ub4dor&3-horse-staple"


def _add(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    return main(["users", "add", *args, "--password-stdin"])


@pytest.mark.parametrize(
    ("option", "value", "problem"),
    [
        ("--agent-id", "A-7 ", "must not begin or end with a space"),
        ("--agent-id", " A-7", "must not begin or end with a space"),
        ("--agent-id", "   ", "must not be empty"),
        ("--team", "east ", "must not begin or end with a space"),
    ],
)
def test_an_agent_id_or_team_with_outer_spaces_is_refused(
    option: str,
    value: str,
    problem: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``users add alice --role agent --agent-id 'A-7 '`` (a pasted id) added an agent user whose
    id no call could carry: the ingest strips the ids of a call, so the calls of ``A-7`` were never
    hers. Now one line and no user."""
    monkeypatch.setenv("AGENT_MONITOR_DATA_DIR", str(tmp_path / "data"))
    ids = {"--agent-id": "A-7", "--team": "east", option: value}
    assert _add(monkeypatch, "alice", "--role", "agent", *(x for kv in ids.items() for x in kv)) == 1
    what = "agent id" if option == "--agent-id" else "team"
    assert capsys.readouterr().err.strip() == f"agent-monitor: error: {what} {value!r} {problem}"
    db = Database.open(f"sqlite:///{tmp_path / 'data' / 'agent-monitor.db'}")
    try:
        with db.session() as s:
            assert repo.get_user(s, "alice") is None
    finally:
        db.dispose()
    start = {"type": "start", "call_id": "c-1", "agent_id": " A-7 ", "sample_rate": 8000}
    parsed = parse_text_message(json.dumps(start))
    assert isinstance(parsed, StartMessage) and parsed.agent_id == "A-7"  # what a call of A-7 carries
    assert _add(monkeypatch, "alice", "--role", "agent", "--agent-id", "A-7", "--team", "east") == 0


def test_passwd_and_deactivate_find_the_user_whatever_the_case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``users add alice`` is refused beside ``Alice`` (one name), yet ``users passwd alice`` said
    "user 'alice' not found" (exit 1). Now it changes Alice's password, and (de)activating finds her
    too; the output names her as stored."""
    monkeypatch.setenv("AGENT_MONITOR_DATA_DIR", str(tmp_path / "data"))
    assert _add(monkeypatch, "Alice", "--role", "qa") == 0
    assert _add(monkeypatch, "alice", "--role", "qa") == 1
    assert "already exists as 'Alice'" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "-2\n"))
    assert main(["users", "passwd", "alice", "--password-stdin"]) == 0
    assert main(["users", "deactivate", "ALICE"]) == 0
    out = capsys.readouterr()
    assert out.out.splitlines() == ["password of Alice changed", "Alice deactivated"], out
    db = Database.open(f"sqlite:///{tmp_path / 'data' / 'agent-monitor.db'}")
    try:
        with db.session() as s:
            assert [(u.username, u.active) for u in repo.list_users(s)] == [("Alice", False)]
            assert [(e.action, e.object_id) for e in repo.list_audit(s, actor="cli", limit=10)][:2] == [
                ("user_deactivated", "Alice"),
                ("password_changed", "Alice"),
            ]
    finally:
        db.dispose()

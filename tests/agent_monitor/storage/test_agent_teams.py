"""An agent user's team reaches their agent row (the row supervisors' scopes follow), on SQLite and
PostgreSQL: when the user is added, when their role/team changes, and for rows stored before the
fix (migration 0006)."""

from __future__ import annotations

from sqlalchemy import text

from agent_monitor.model.roles import Role
from agent_monitor.storage import Database, repo
from agent_monitor.storage.migrate import upgrade_database


def test_agent_user_team_goes_onto_the_agent_row(db: Database) -> None:
    with db.session() as s:
        repo.create_user(s, "alice", "x" * 20, Role.AGENT, agent_id="A-9", team="east")
        repo.create_user(s, "sam", "x" * 20, Role.SUPERVISOR, team="east")
    with db.session() as s:
        assert repo.get_agent(s, "A-9").team == "east"
        assert [a.id for a in repo.list_agents(s, team="east")] == ["A-9"]
        repo.start_call(s, "c-1", "A-9", source_protocol="ws-ingest")
        assert [c.id for c in repo.list_calls(s, team="east")] == ["c-1"]
    with db.session() as s:
        repo.set_user_role(s, "alice", Role.AGENT, agent_id="A-9", team="west")
    with db.session() as s:
        assert repo.get_agent(s, "A-9").team == "west"
        assert repo.list_calls(s, team="east") == []
        repo.set_user_role(s, "alice", Role.AGENT, agent_id="A-9", team=None)
    with db.session() as s:
        assert repo.get_agent(s, "A-9").team is None


def test_supervisor_team_does_not_touch_agent_rows(db: Database) -> None:
    with db.session() as s:
        repo.ensure_agent(s, "A-1", team="north")
        repo.create_user(s, "bob", "x" * 20, Role.AGENT, agent_id="A-1")  # no team given: kept
        repo.create_user(s, "sue", "x" * 20, Role.SUPERVISOR, team="south")
    with db.session() as s:
        assert repo.get_agent(s, "A-1").team == "north"


AGENT_ROW = "INSERT INTO agents (id, name, team, created_at) VALUES (:a, :a, :t, CURRENT_TIMESTAMP)"
USER_ROW = (
    "INSERT INTO users (username, password_hash, role, agent_id, team, active, created_at) "
    "VALUES (:n, 'x', 'agent', :a, :t, :y, CURRENT_TIMESTAMP)"
)


def test_migration_0006_copies_agent_user_teams(empty_db_url: str) -> None:
    upgrade_database(empty_db_url, "0003")
    db = Database.open(empty_db_url)
    try:
        with db.engine.begin() as conn:
            for agent, team in (("A-9", None), ("A-2", "kept"), ("A-3", None)):
                conn.execute(text(AGENT_ROW), {"a": agent, "t": team})
            for name, agent, team in (
                ("alice", "A-9", "east"),
                ("carl", "A-2", "east"),
                ("dan", "A-3", None),
            ):
                conn.execute(text(USER_ROW), {"n": name, "a": agent, "t": team, "y": True})
        upgrade_database(empty_db_url)
        with db.engine.connect() as conn:
            teams: dict[str, str | None] = dict(conn.execute(text("SELECT id, team FROM agents")).all())
        assert teams == {"A-9": "east", "A-2": "kept", "A-3": None}
    finally:
        db.dispose()

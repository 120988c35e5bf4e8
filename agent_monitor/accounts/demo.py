"""Sign-in accounts for ``agent-monitor demo``: one per role, with a fresh random password each run
(printed once to the terminal; there is no default password). The demo's agents are put in the
demo supervisor's team so the live wall shows their calls."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from agent_monitor.accounts.passwords import check_password_strength, hash_password
from agent_monitor.errors import InvalidRecordError
from agent_monitor.model.roles import Role

DEMO_TEAM = "demo"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    password: str
    agent_id: str | None = None


def _strong_password(username: str) -> str:
    """A random password that passes the strength check (random 12-character ones virtually always do)."""
    while True:
        password = secrets.token_urlsafe(9)
        try:
            check_password_strength(password, username, 12)
        except InvalidRecordError:
            continue
        return password


def ensure_demo_users(db: Any, agent_ids: list[str]) -> list[DemoAccount]:
    """Create (or reset the password of) ``demo-supervisor``, ``demo-qa``, ``demo-admin`` and one
    agent user per demo agent id; returns the accounts with their new passwords."""
    from agent_monitor.storage import repo

    wanted: list[tuple[str, Role, str | None]] = [
        ("demo-supervisor", Role.SUPERVISOR, None),
        ("demo-qa", Role.QA, None),
        ("demo-admin", Role.ADMIN, None),
        *((agent_id, Role.AGENT, agent_id) for agent_id in agent_ids),
    ]
    accounts: list[DemoAccount] = []
    with db.session() as s:
        for agent_id in agent_ids:
            repo.ensure_agent(s, agent_id, team=DEMO_TEAM)
        for username, role, linked in wanted:
            password = _strong_password(username)
            digest = hash_password(password)
            team = (
                DEMO_TEAM if role in (Role.SUPERVISOR, Role.AGENT) else None
            )  # an agent keeps the team on its agent row
            if repo.get_user(s, username) is None:
                repo.create_user(s, username, digest, role, agent_id=linked, team=team)
            else:
                repo.set_user_role(s, username, role, agent_id=linked, team=team)
                repo.set_password(s, username, digest)
                repo.set_user_active(s, username, True)
            repo.record_audit(s, "demo", "demo_account", object_type="user", object_id=username)
            accounts.append(DemoAccount(username, role, password, linked))
    return accounts

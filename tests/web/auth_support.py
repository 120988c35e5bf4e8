"""Helpers of the authentication and authorization tests: a real application (real Vosk model,
real SQLite database in a temporary directory) driven in-process by starlette's TestClient, real
users with argon2 hashes, and signed-in principals."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from agent_monitor.accounts.passwords import hash_password
from agent_monitor.model.roles import Role
from agent_monitor.settings import Settings
from agent_monitor.storage import repo

MODEL = "vosk-model-small-en-us-0.15"
PASSWORD = "a long test password 1"

#: (username, role, agent_id, team)
UserRow = tuple[str, Role, str | None, str | None]
#: the principals of the authorization matrix
USERS: tuple[UserRow, ...] = (
    ("agent1", Role.AGENT, "A-ONE", None),
    ("agent2", Role.AGENT, "A-TWO", None),
    ("sup_red", Role.SUPERVISOR, None, "red-team"),
    ("sup_blue", Role.SUPERVISOR, None, "blue-team"),
    ("qa1", Role.QA, None, None),
    ("admin1", Role.ADMIN, None, None),
)


def app_settings(base: Settings, data_dir: Path, **web: object) -> Settings:
    if not (base.model_dir / MODEL).is_dir():
        pytest.fail(f"Vosk model {MODEL} not installed in {base.model_dir} (agent-monitor models install)")
    return base.model_copy(
        update={
            "data_dir": data_dir,
            "server": base.server.model_copy(update={"audiosocket_port": None}),
            "web": base.web.model_copy(update=web),
        }
    )


def build_app(settings: Settings) -> FastAPI:
    from agent_monitor.compose import create_app

    return create_app(settings)


@dataclass
class Principal:
    """A signed-in user: the cookie header and CSRF token to send with requests."""

    username: str | None
    session: str | None = None
    csrf: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def headers(self, csrf: bool = True) -> dict[str, str]:
        out = dict(self.extra)
        if self.session:
            out["Cookie"] = f"am_session={self.session}"
        if csrf and self.csrf:
            out["X-CSRF-Token"] = self.csrf
        return out


def add_users(client: TestClient, users: tuple[UserRow, ...] = USERS) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    pw_hash = hash_password(PASSWORD)
    with services.db.session() as s:
        repo.ensure_agent(s, "A-ONE", team="red-team")
        repo.ensure_agent(s, "A-TWO", team="blue-team")
        for username, role, agent_id, team in users:
            if repo.get_user(s, username) is None:
                repo.create_user(s, username, pw_hash, role, agent_id=agent_id, team=team)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> Principal:
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    session = response.cookies.get("am_session")
    csrf = response.cookies.get("am_csrf")
    assert session and csrf and response.json()["csrf_token"] == csrf
    client.cookies.clear()
    return Principal(username, session, csrf)


@contextmanager
def running(settings: Settings) -> Iterator[TestClient]:
    with TestClient(build_app(settings)) as client:
        yield client

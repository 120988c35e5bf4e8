"""Admin and sign-out requests sent twice at once to the real server (a double click, two tabs,
two admins), on SQLite and PostgreSQL: statuses are 2xx or 4xx, never 5xx; what one request may do
once is done and audited once.

The same team created at once used to be created (and audited) by every request; a sign-out sent
twice at once was a 500 on PostgreSQL (the session's revocation inserted twice)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from typing import Any

import httpx
import pytest

from agent_monitor.settings import Settings
from agent_monitor.storage import repo
from agent_monitor.storage.integrity import verify_chains
from tests.agent_monitor.storage.race_support import at_once, failures
from tests.web.backend_support import BACKENDS, ui_server_on
from tests.web.ui_support import login

AT_ONCE = 6
ROUNDS = 3


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, base_settings: Settings
) -> Iterator[tuple[str, Any]]:
    with ui_server_on(request.param, base_settings, tmp_path_factory.mktemp("races")) as running:
        yield running


@contextmanager
def _clients(url: str, username: str) -> Iterator[list[httpx.Client]]:
    """``AT_ONCE`` clients, each signed in as ``username``."""
    with ExitStack() as stack:
        clients = [stack.enter_context(httpx.Client(base_url=url, timeout=60)) for _ in range(AT_ONCE)]
        for c in clients:
            c.headers.update(login(c, username))
        yield clients


def _statuses(results: list[Any]) -> list[int]:
    assert not failures(results), results
    statuses = [r.status_code for r in results]
    assert all(s < 500 for s in statuses), [(r.status_code, r.text[:200]) for r in results]
    return statuses


def test_one_team_created_at_once_is_created_and_audited_once(server: tuple[str, Any]) -> None:
    url, app = server
    db = app.state.services.db
    with _clients(url, "admin1") as admins:
        for n in range(ROUNDS):
            body = {"name": f"New {n}", "agents": ["A-3"]}
            jobs = [partial(c.post, "/api/admin/teams", json=body) for c in admins]
            statuses = _statuses(at_once(jobs))
            assert sorted(statuses) == [201] + [409] * (AT_ONCE - 1), statuses
            with db.session() as s:
                assert len(repo.list_audit(s, action="team_created", object_id=f"New {n}")) == 1
    with db.session() as s:
        assert all(r.ok for r in verify_chains(s))


def test_one_session_signed_out_at_once_is_never_a_500(server: tuple[str, Any]) -> None:
    url, _app = server
    for _ in range(ROUNDS):
        with httpx.Client(base_url=url, timeout=60) as c:
            csrf = login(c, "qa1")
            cookies = dict(c.cookies)

        sign_out = partial(httpx.post, url + "/api/auth/logout", headers=csrf, cookies=cookies, timeout=60)
        statuses = _statuses(at_once([sign_out] * AT_ONCE))
        assert 204 in statuses and set(statuses) <= {204, 401}, statuses
        with httpx.Client(base_url=url, cookies=cookies) as c:
            assert c.get("/api/auth/me").status_code == 401

"""Defects a prober reproduced on the web layer, on a real application (real model, real SQLite
database, real users): an unmasked phone on ``/api/live``, non-ASCII tokens, long passphrases,
report dates out of range, spreadsheet formulas in the report CSV, unbounded non-JSON bodies."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from agent_monitor.ingest.call_audio import CallAudio
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.session import CallInfo
from agent_monitor.settings import Settings
from agent_monitor.storage import repo
from tests.web.auth_support import Principal, add_users, app_settings, running, sign_in
from tests.web.ui_support import PASSWORD as UI_PASSWORD
from tests.web.ui_support import add_call, ui_server
from tests.web.ui_support import login as ui_login

DEBTOR_PHONE = "+14155550199"
#: a debt named by the card it is owed on (personal data, masked as the call page masks it)
DEBT_CARD = "ACCT-4111111111111111"
#: an agent and a team whose names a spreadsheet would run as formulas
FORMULA_AGENT, FORMULA_TEAM = "=HYPERLINK(1)", "+team"
#: the most a request body may hold (``web.json_guard.MAX_BODY_BYTES``)
MAX_BODY_BYTES = 1 << 20
LONG_PASSPHRASE = "violet tram umbrella 1987 " * 3 + "x" * 2  # 80 characters


@dataclass
class World:
    client: TestClient
    admin: Principal
    agent: Principal
    data: Path


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, base_settings: Settings, real_call: CallAudio
) -> Iterator[World]:
    data = tmp_path_factory.mktemp("probe") / "data"
    with running(app_settings(base_settings, data)) as client:
        add_users(client)
        services = client.app.state.services  # type: ignore[attr-defined]
        add_call(services.db, data, "csv-1", FORMULA_AGENT, real_call.excerpt(0.0, 3.0), WarningLevel.RED)
        with services.db.session() as s:
            repo.ensure_agent(s, FORMULA_AGENT, team=FORMULA_TEAM)
        yield World(client, sign_in(client, "admin1"), sign_in(client, "agent1"), data)


def _live_while(world: World, info: CallInfo) -> tuple[list[Any], list[Any]]:
    """The ``/api/live`` calls an agent and an admin get while the call ``info`` runs."""
    services = world.client.app.state.services  # type: ignore[attr-defined]
    assert world.client.portal is not None
    session = world.client.portal.call(services.manager.start_call, info)
    try:
        agent = world.client.get("/api/live", headers=world.agent.headers()).json()["calls"]
        admin = world.client.get("/api/live", headers=world.admin.headers()).json()["calls"]
    finally:
        world.client.portal.call(session.stop, "stop")
    return agent, admin


def test_api_live_masks_the_debtor_phone_for_an_agent(world: World) -> None:
    info = CallInfo(call_id="live-masked", agent_id="A-ONE", debtor_phone=DEBTOR_PHONE)
    agent, admin = _live_while(world, info)
    assert [c["call_id"] for c in agent] == ["live-masked"]
    assert agent[0]["debtor_phone"] == "+[PHONE ••0199]" and DEBTOR_PHONE not in str(agent)
    assert [c["debtor_phone"] for c in admin if c["call_id"] == "live-masked"] == [DEBTOR_PHONE]


def test_api_live_masks_the_debt_id_for_an_agent(world: World) -> None:
    info = CallInfo(call_id="live-debt-masked", agent_id="A-ONE", debt_id=DEBT_CARD, consented=True)
    agent, admin = _live_while(world, info)
    [seen] = [c for c in agent if c["call_id"] == "live-debt-masked"]
    assert seen["debt_id"] == "ACCT-[CARD ••1111]" and "4111111111111111" not in str(agent), seen
    assert seen["consented"] is True
    assert [c["debt_id"] for c in admin if c["call_id"] == "live-debt-masked"] == [DEBT_CARD]


@pytest.mark.parametrize("path", ["/api/calls", "/supervisor", "/api/auth/me"])
def test_a_non_ascii_session_cookie_is_not_signed_in(world: World, path: str) -> None:
    cookie = "am_session=v1.abc.\u00e9\u00e9".encode("latin-1")
    r = world.client.get(path, headers={"Cookie": cookie}, follow_redirects=False)
    assert r.status_code in (303, 401), (r.status_code, r.text)


def test_a_non_ascii_session_cookie_is_refused_on_the_event_socket(world: World) -> None:
    cookie = "am_session=v1.abc.\u00e9".encode("latin-1")
    socket = world.client.websocket_connect("/ws/events", headers={"Cookie": cookie})
    with pytest.raises(WebSocketDisconnect) as refused, socket:
        pass
    assert refused.value.code != 1011  # refused, not an internal error


def test_a_non_ascii_csrf_header_is_403(world: World) -> None:
    headers = {**world.agent.headers(csrf=False), "X-CSRF-Token": "\u00e9".encode("latin-1")}
    r = world.client.post("/api/auth/logout", headers=headers)
    assert r.status_code == 403, r.text


def test_a_non_ascii_login_form_csrf_is_403(world: World) -> None:
    world.client.cookies.clear()
    assert world.client.get("/login").status_code == 200
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    r = world.client.post("/login", content="csrf=%C3%A9&username=x&password=y", headers=form)
    assert r.status_code == 403
    world.client.cookies.clear()
    both = {**form, "Cookie": "am_login_csrf=\u00c3\u00a9".encode("latin-1")}
    r = world.client.post("/login", content="csrf=\u00e9".encode(), headers=both)
    assert r.status_code == 403


def test_a_passphrase_longer_than_72_characters_is_judged(world: World) -> None:
    assert len(LONG_PASSPHRASE) == 80
    body = {"username": "longpass", "password": LONG_PASSPHRASE, "role": "qa"}
    assert world.client.post("/api/admin/users", json=body, headers=world.admin.headers()).status_code == 201
    r = world.client.patch(
        "/api/admin/users/longpass", json={"password": LONG_PASSPHRASE[::-1]}, headers=world.admin.headers()
    )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("path", ["/api/reports", "/api/reports/agents.csv"])
def test_report_dates_out_of_range_are_422(world: World, path: str) -> None:
    for query in ("until=0001-01-01", "until=9999-12-31", "since=0001-01-01&until=0001-01-02"):
        r = world.client.get(f"{path}?{query}", headers=world.admin.headers())
        assert r.status_code == 422, (query, r.status_code, r.text)
    first = world.client.get(f"{path}?until=1970-01-01", headers=world.admin.headers())
    assert first.status_code == 200, first.text  # the first day allowed: its period is clamped


def test_report_csv_cells_never_start_a_formula(world: World) -> None:
    r = world.client.get("/api/reports/agents.csv", headers=world.admin.headers())
    assert r.status_code == 200, r.text
    rows = list(csv.reader(io.StringIO(r.text)))
    assert ["'" + FORMULA_AGENT, "'" + FORMULA_TEAM] in [row[:2] for row in rows[1:]]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row[:2])


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_large_body_of_any_type_is_413(world: World, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    body = b"a" * (MAX_BODY_BYTES + 1)
    assert world.client.post("/api/auth/login", content=body, headers=headers).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: refused once the limit is read
        for _ in range(4):
            yield b"a" * (MAX_BODY_BYTES // 2)

    assert world.client.post("/api/auth/login", content=chunks(), headers=headers).status_code == 413
    # the largest body the application takes, a rule pack's YAML, still passes
    packs = Path(__file__).resolve().parents[2] / "qa_rules" / "packs"
    largest = max(packs.rglob("*.yaml"), key=lambda p: p.stat().st_size)
    pack = {"text": largest.read_text(encoding="utf-8")}
    r = world.client.post("/api/admin/rules/lint", json=pack, headers=world.admin.headers())
    assert r.status_code == 200 and r.json()["ok"], r.text


def test_qa_text_search_cannot_look_for_numbers_it_sees_masked(world: World) -> None:
    qa = sign_in(world.client, "qa1").headers()

    def search(q: str, headers: dict[str, str]) -> httpx.Response:
        return world.client.get("/api/qa/queue", params={"q": q}, headers=headers)

    for q in ("13812", "phone 138", "one three eight", "幺三八", "１３８"):
        r = search(q, qa)
        assert r.status_code == 422 and "masked" in r.json()["detail"], (q, r.text)
    found = search("phone", qa)  # words are searched as before
    assert found.status_code == 200 and "csv-1" in {i["call"]["call_id"] for i in found.json()["items"]}
    unmasked = search("13812", world.admin.headers())  # an admin sees the number: may look for it
    assert unmasked.status_code == 200 and [i["call"]["call_id"] for i in unmasked.json()["items"]] == [
        "csv-1"
    ]


def test_an_open_event_socket_follows_an_agent_moved_to_another_team(
    tmp_path: Path, base_settings: Settings
) -> None:
    settings = app_settings(base_settings, tmp_path / "data", session_recheck_s=0.3)
    with running(settings) as client:
        add_users(client)
        services = client.app.state.services  # type: ignore[attr-defined]
        with services.db.session() as s:
            repo.ensure_agent(s, "A-STAYS", team="red-team")
        admin, sup = sign_in(client, "admin1"), sign_in(client, "sup_red")
        assert client.portal is not None
        portal = client.portal

        def call(call_id: str, agent_id: str) -> None:
            session = portal.call(services.manager.start_call, CallInfo(call_id=call_id, agent_id=agent_id))
            portal.call(session.stop, "stop")

        path = "/ws/events?types=call_started"
        with client.websocket_connect(path, headers=sup.headers(csrf=False)) as ws:
            assert ws.receive_json()["type"] == "subscribed"
            call("before-move", "A-ONE")
            assert ws.receive_json()["call_id"] == "before-move"
            moved = client.put(
                "/api/admin/agents/A-ONE/team", json={"team": "blue-team"}, headers=admin.headers()
            )
            assert moved.status_code == 200, moved.text
            time.sleep(0.5)  # past the re-check
            call("after-move", "A-ONE")  # now blue-team's: not for this supervisor
            call("marker", "A-STAYS")
            assert ws.receive_json()["call_id"] == "marker"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, base_settings: Settings) -> Iterator[str]:
    """The app on a real loopback server: requests that truly run at the same time."""
    with ui_server(base_settings, tmp_path_factory.mktemp("probe-served")) as (url, _app):
        yield url


async def _burst(
    url: str,
    n: int,
    send: Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]],
    headers: dict[str, str] | None = None,
) -> Counter[int]:
    limits = httpx.Limits(max_connections=n)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits, headers=headers) as client:
        responses = await asyncio.gather(*(send(client, i) for i in range(n)))
    return Counter(r.status_code for r in responses)


def test_parallel_forms_of_one_name_get_versions_or_409(served: str) -> None:
    with httpx.Client(base_url=served) as admin:
        csrf = ui_login(admin, "admin1")
        headers = {**csrf, "Cookie": "; ".join(f"{k}={v}" for k, v in admin.cookies.items())}

    async def save(client: httpx.AsyncClient, i: int) -> httpx.Response:
        body = {"name": "raceform", "items": [{"key": f"k{i}", "en": "K"}]}
        return await client.post("/api/qa/forms", json=body)

    statuses = asyncio.run(_burst(served, 10, save, headers))
    assert set(statuses) <= {200, 409} and statuses[200] >= 1, statuses


def test_parallel_wrong_passwords_get_at_most_the_limit_through(served: str) -> None:
    async def guess(client: httpx.AsyncClient, i: int) -> httpx.Response:
        return await client.post("/api/auth/login", json={"username": "agent2", "password": f"guess{i}"})

    statuses = asyncio.run(_burst(served, 40, guess))
    assert statuses == Counter({401: 5, 429: 35}), statuses
    with httpx.Client(base_url=served) as client:
        r = client.post("/api/auth/login", json={"username": "agent2", "password": UI_PASSWORD})
    assert r.status_code == 429  # still limited: the right password waits too

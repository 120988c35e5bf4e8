"""Browser tests of the supervisor's wall (Debian Chromium through Playwright), on SQLite and
PostgreSQL.

Real calls are sent as real audio (an excerpt of the real phone call of the shared data) through
``/ws/ingest`` at real time, recognised by the real Vosk model, and hung up once the checks made
during the call are done. The other calls of a floor are calls whose
rows are stored through the repository and whose events a **test fixture publishes on the live
bus** (:class:`tests.web.wall_support.Floor`): 50 real concurrent calls do not run on the test
machine's two cores. Screenshots go to ``artifacts/screens/wall/`` (git-ignored)."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent_monitor.ingest.call_audio import CallAudio, load_call_audio
from agent_monitor.model.audio import Leg
from agent_monitor.model.health import HealthIssue
from agent_monitor.model.levels import WarningLevel
from agent_monitor.settings import Settings
from tests.web.ui_support import live_call
from tests.web.wall_support import PASSWORD, Floor, Server, add_user, backends, database, wall_settings

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screens" / "wall"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(params=backends())
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def real_excerpt(eval_data: Path) -> CallAudio:
    return load_call_audio(eval_data / "calls" / "spokenwoz" / "MUL1011.opus", 8000).excerpt(0.0, 10.0)


@pytest.fixture()
def make_server(backend: str, tmp_path: Path, base_settings: Settings) -> Iterator[Any]:
    """Starts servers (same port on a restart) on ``backend``; all are stopped at the end."""
    started: list[Server] = []
    dbs: list[Any] = []

    def make(name: str = "data", port: int = 0, live: dict[str, Any] | None = None, **wall: Any) -> Server:
        data = tmp_path / name
        if name not in {Path(s.settings.data_dir).name for s in started}:
            cm = database(backend, data)
            dbs.append((name, cm, cm.__enter__()))
        url = next(u for n, _, u in dbs if n == name)
        settings = wall_settings(base_settings, data, url, **wall)
        if live:
            settings = settings.model_copy(update={"live": settings.live.model_copy(update=live)})
        server = Server(settings, port).start()
        started.append(server)
        return server

    yield make
    for server in started:
        if server.thread.is_alive():
            server.stop()
    for _, cm, _ in dbs:
        cm.__exit__(None, None, None)


def sign_in(browser: Any, url: str, user: str, path: str, width: int = 1600, height: int = 1000) -> Any:
    context = browser.new_context(locale="en-US", viewport={"width": width, "height": height})
    page = context.new_page()
    page.errors = []
    page.dialogs = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(url + path)
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + path)
    return page


def shot(page: Any, name: str, full: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)


def stream(
    server: Server, audio: CallAudio, call_id: str, agent_id: str
) -> AbstractContextManager[list[Any]]:
    """The real call at real time, hung up when the ``with`` block ends (``live_call``)."""
    return live_call(server.url, server.app, audio, {"call_id": call_id, "agent_id": agent_id})


def cli_add_agent(server: Server, name: str, agent_id: str, team: str | None) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "AGENT_MONITOR_DATA_DIR": str(server.settings.data_dir)}
    if server.settings.database_url:
        env["AGENT_MONITOR_DATABASE_URL"] = server.settings.database_url
    cmd = [
        sys.executable,
        "-m",
        "agent_monitor",
        "users",
        "add",
        name,
        "--role",
        "agent",
        "--agent-id",
        agent_id,
    ]
    cmd += ["--team", team] if team else []
    done = subprocess.run(
        [*cmd, "--password-stdin"], input=PASSWORD + "\n", env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def tile(call_id: str) -> str:
    return f".tile[data-call='{call_id}']"


def test_team_assignment_reaches_the_supervisor_wall(
    make_server: Any, browser: Any, real_excerpt: CallAudio
) -> None:
    """Agents put in team east on the admin page, with the CLI and with the admin API show on the
    wall of sam (supervisor, team east); a west call does not. The real call (alice, A-9) shows its
    facts, is marked ended, and goes after the grace; the recent-calls page lists it."""
    server = make_server(ended_grace_s=4.0)
    db = server.services.db
    add_user(db, "admin1", "admin")
    add_user(db, "sam", "supervisor", team="east")
    admin = sign_in(browser, server.url, "admin1", "/admin")
    form = admin.locator("#add-user")
    form.locator("[name=username]").fill("alice")
    form.locator("[name=password]").fill(PASSWORD)
    form.locator("[name=role]").select_option("agent")
    form.locator("[name=agent_id]").fill("A-9")
    form.locator("[name=team]").fill("east")
    form.locator("button[type=submit]").click()
    admin.wait_for_selector("#users tr[data-user='alice']", timeout=10_000)
    cli_add_agent(server, "bob", "A-10", "east")
    cli_add_agent(server, "carl", "A-11", None)
    with httpx.Client(base_url=server.url) as api:
        login = api.post("/api/auth/login", json={"username": "admin1", "password": PASSWORD})
        csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
        moved = api.patch("/api/admin/users/carl", json={"team": "east"}, headers=csrf)
        assert moved.status_code == 200, moved.text

    sam = sign_in(browser, server.url, "sam", "/supervisor")
    sam.wait_for_selector("body[data-live='1']", timeout=10_000)
    floor = Floor(server)
    floor.start("east-bob-1", "A-10")
    floor.start("east-carl-1", "A-11")
    floor.start("west-1", "W-1", team="west")
    with stream(server, real_excerpt, "east-alice-1", "A-9") as results:
        alice = tile("east-alice-1")
        sam.wait_for_selector(f"{alice} .line.final", timeout=30_000)
        for call in ("east-bob-1", "east-carl-1"):
            sam.wait_for_selector(tile(call), timeout=10_000)
        assert sam.locator(alice).get_attribute("data-team") == "east"
        assert re.fullmatch(r"\d+:\d\d", sam.locator(f"{alice} .dur").inner_text())
        assert sam.locator(f"{alice} .legh[data-leg='agent']").count() == 1
        assert sam.locator(f"{alice} .legh[data-leg='debtor']").count() == 1
        assert sam.locator(f"{alice} a.review").get_attribute("href") == "/qa/calls/east-alice-1"
        shot(sam, "team-east-wall")
    assert results and getattr(results[0], "completed", False), results
    assert sam.locator(tile("west-1")).count() == 0
    # ended: marked, its buttons off; gone after the grace (4 s)
    sam.wait_for_selector(f"{alice}.ended", timeout=30_000)
    assert sam.locator(f"{alice} button.listen").is_disabled()
    assert sam.locator(f"{alice} .ended-mark").is_visible()
    shot(sam, "ended-call")
    sam.wait_for_selector(alice, state="detached", timeout=15_000)

    sam.goto(server.url + "/supervisor/calls")
    row = sam.locator("#recent tr[data-call='east-alice-1']")
    row.wait_for(timeout=10_000)
    assert sam.locator("#recent tr[data-call='west-1']").count() == 0
    shot(sam, "recent-calls")
    row.locator("a.open").click()
    sam.wait_for_selector("body[data-ready='1']", timeout=15_000)
    for page in (admin, sam):
        assert page.errors == [] and page.dialogs == [], (page.errors, page.dialogs)


def publish_floor(floor: Floor, n: int) -> dict[str, Any]:
    """``n`` east calls (2 red, 5 orange, 8 yellow, the rest none) and 3 west calls."""
    calls = {}
    levels = [WarningLevel.RED] * 2 + [WarningLevel.ORANGE] * 5 + [WarningLevel.YELLOW] * 8
    for i in range(n):
        call = floor.start(f"floor-{i:02d}", f"E-{i:02d}", team="east")
        calls[call.call_id] = call
        if i < len(levels):
            floor.alert(call, levels[i], f"scripted {levels[i].value} reason {i}")
    for i in range(3):
        floor.start(f"west-{i}", f"W-{i}", team="west")
    floor.health(calls["floor-20"], Leg.DEBTOR, HealthIssue.SILENT, "debtor leg silent for 30 s")
    return calls


HEADER_AND_TILES = """() => ({
  live: [...document.querySelectorAll('.tile:not(.ended)')].map((t) => t.dataset.level),
  counts: Object.fromEntries([...document.querySelectorAll('#level-counts .count')]
    .map((c) => [c.dataset.level, Number(c.dataset.count)])),
})"""


def boxes_overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_fifty_calls_triage_popups_and_escalation(
    make_server: Any, browser: Any, real_excerpt: CallAudio
) -> None:
    """50 live calls on sam's wall at 1920x1080: one real call (real audio, recognised) and 49 whose
    events the fixture publishes on the live bus. Risk order, counts, filters, the compact list
    with all 50 on screen, two red hand-offs both visible (not over a badge or the feed), both
    escalated after 3 s, the sound notice, an ended red call's pop-up gone."""
    server = make_server(ended_grace_s=3.0, live={"escalate_after_s": 3.0})
    db = server.services.db
    add_user(db, "sam", "supervisor", team="east")
    add_user(db, "admin1", "admin")
    add_user(db, "alice", "agent", agent_id="A-9", team="east")
    sam = sign_in(browser, server.url, "sam", "/supervisor", 1920, 1080)
    sam.wait_for_selector("body[data-live='1']", timeout=10_000)
    assert sam.locator("#sound-note").is_visible()  # nothing clicked on the wall yet: no sound
    admin = sign_in(browser, server.url, "admin1", "/supervisor", 1920, 1080)
    admin.wait_for_selector("body[data-live='1']", timeout=10_000)
    floor = Floor(server)
    with stream(server, real_excerpt, "floor-real", "A-9") as results:
        calls = publish_floor(floor, 49)
        sam.wait_for_function("() => document.querySelectorAll('.tile').length >= 50", timeout=30_000)
        sam.wait_for_selector(f"{tile('floor-real')} .line.final", timeout=30_000)
        sam.wait_for_timeout(300)
        levels = sam.eval_on_selector_all(".tile", "ts => ts.map((t) => t.dataset.level)")
        rank = {"red": 3, "orange": 2, "yellow": 1, "none": 0}
        assert levels[:2] == ["red", "red"] and all(rank[a] >= rank[b] for a, b in itertools.pairwise(levels))
        # the header counts the calls still live; the counts follow a tile's change within 100 ms
        # (the real call may end while this reads), so they are read with the tiles until settled
        for _ in range(30):
            seen = sam.evaluate(HEADER_AND_TILES)
            if all(seen["counts"].get(level, -1) == seen["live"].count(level) for level in rank):
                break
            sam.wait_for_timeout(100)
        for level in rank:
            assert seen["counts"].get(level, -1) == seen["live"].count(level), (level, seen)
        assert sam.locator(tile("west-0")).count() == 0
        # two red calls: two pop-ups, both visible, clear of each other, the badges and the feed
        pops = sam.locator(".popup")
        assert pops.count() == 2
        boxes = [pops.nth(i).bounding_box() for i in range(2)]
        assert all(b is not None for b in boxes) and not boxes_overlap(boxes[0], boxes[1])
        feed = sam.locator("#alert-feed").bounding_box()
        badges = [sam.locator(".tile .lvl").nth(i).bounding_box() for i in range(6)]
        assert not any(boxes_overlap(p, x) for p in boxes for x in [feed, *badges] if x), boxes
        assert sam.locator(f"{tile('floor-20')} .legh[data-leg='debtor'][data-ok='0']").is_visible()
        # the leg's health is said once on the tile (the chip), not again as a badge
        assert sam.locator(f"{tile('floor-20')}").inner_text().lower().count("silent") == 1
        SHOTS.mkdir(parents=True, exist_ok=True)
        sam.locator(tile("floor-20")).screenshot(path=str(SHOTS / "tile-leg-health.png"))
        # nobody acknowledged within 3 s: escalated on screen
        sam.wait_for_function(
            "() => document.querySelectorAll('.popup.escalated').length === 2", timeout=15_000
        )
        assert sam.locator(f"{tile('floor-00')} .esc-mark").is_visible()
        assert sam.locator(".alert.escalated").count() == 2
        shot(sam, "fifty-calls-grid", full=False)
        # filters
        sam.select_option("#filter-level", "red")
        assert sam.locator(".tile:visible").count() == 2
        sam.select_option("#filter-level", "")
        sam.fill("#filter-agent", "E-07")
        assert sam.locator(".tile:visible").count() == 1
        sam.fill("#filter-agent", "")
        # the compact list: all 50 on one 1920x1080 screen without scrolling
        sam.click("#view-toggle")
        assert sam.locator("#sound-note").is_hidden()  # the click enabled sound
        assert sam.evaluate("() => document.body.dataset.view") == "list"
        bottoms = sam.eval_on_selector_all(".tile", "ts => ts.map((t) => t.getBoundingClientRect().bottom)")
        assert len(bottoms) >= 50 and max(bottoms) <= 1080, max(bottoms)
        shot(sam, "fifty-calls-compact", full=False)
        # the README's picture (docs/screens/wall.png is a copy): the top of the compact wall
        sam.screenshot(
            path=str(SHOTS / "wall-walkthrough.png"), clip={"x": 0, "y": 0, "width": 1500, "height": 640}
        )
    assert results and getattr(results[0], "completed", False), results
    # a red call ends: its pop-up goes, its alert's buttons are off, then it leaves the wall
    floor.end(calls["floor-00"])
    sam.wait_for_selector(f"{tile('floor-00')}.ended", timeout=10_000)
    assert sam.locator(".popup").count() == 1
    ended_alert = sam.locator(".alert[data-call='floor-00']")
    assert ended_alert.locator("button.resolve").is_disabled()
    sam.wait_for_selector(tile("floor-00"), state="detached", timeout=15_000)
    assert ended_alert.count() == 0

    # the admin's wall has every team's calls: the team filter
    admin.wait_for_selector(tile("west-2"), timeout=10_000)
    assert admin.locator(".tile").count() > 3
    admin.select_option("#filter-team", "west")
    assert admin.locator(".tile:visible").count() == 3
    for page in (sam, admin):
        assert page.errors == [] and page.dialogs == [], (page.errors, page.dialogs)


class Receiver:
    """A local HTTP server standing in for the phone system: records each POST's JSON; answers
    calls named ``slow-*`` after 3 s (longer than the hook's timeout)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.bodies.append({**body, "_auth": self.headers.get("Authorization")})
                if str(body["call_id"]).startswith("slow-"):
                    time.sleep(3.0)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the hook gave up
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/hook"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


def test_take_over_with_note_and_phone_hook(make_server: Any, browser: Any) -> None:
    """Take-over from a hand-off pop-up: mode and note, "taken over by sam", buttons that follow
    the state, the phone-system hook called (local receiver), a conflict and a hook timeout shown
    inline (no alert box, no 5xx), the event loop free while the hook waits."""
    receiver = Receiver()
    try:
        hook = {"url": receiver.url, "timeout_s": 1.0, "token": "hook-secret-token"}
        server = make_server(phone_hook=hook)
        db = server.services.db
        add_user(db, "sam", "supervisor", team="east")
        add_user(db, "sue", "supervisor", team="east")
        sam = sign_in(browser, server.url, "sam", "/supervisor")
        sue = sign_in(browser, server.url, "sue", "/supervisor")
        for page in (sam, sue):
            page.wait_for_selector("body[data-live='1']", timeout=10_000)
        floor = Floor(server)
        red = floor.start("red-1", "E-1", team="east")
        alert_id = floor.alert(red, WarningLevel.RED, "threat of violence")
        slow = floor.start("slow-1", "E-2", team="east")
        slow_id = floor.alert(slow, WarningLevel.RED, "abusive language")
        sam.wait_for_selector(f"#handoff-{alert_id}", timeout=10_000)
        sam.locator(f"#handoff-{alert_id} button.take_over").click()
        item = sam.locator(f".alert[data-alert='{alert_id}']")
        item.locator("form.takeover select").select_option("whisper")
        item.locator("form.takeover input[name=note]").fill("calming the debtor down")
        item.locator("form.takeover button.go").click()
        item.locator(".state", has_text="taken over by sam").wait_for(timeout=10_000)
        item.locator(".msg.ok", has_text="Phone system: whisper started.").wait_for(timeout=10_000)
        assert (
            item.locator("button.take_over").is_disabled()
            and item.locator("button.acknowledge").is_disabled()
        )
        assert item.locator("button.resolve").is_enabled()
        sam.wait_for_selector(f"#handoff-{alert_id}", state="detached", timeout=10_000)
        assert sam.locator(f"{tile('red-1')} .owner").inner_text() == "sam"
        sent = receiver.bodies[0]
        assert {k: sent[k] for k in ("call_id", "agent_id", "supervisor", "action", "note", "alert_id")} == {
            "call_id": "red-1",
            "agent_id": "E-1",
            "supervisor": "sam",
            "action": "whisper",
            "note": "calming the debtor down",
            "alert_id": alert_id,
        }
        assert sent["_auth"] == "Bearer hook-secret-token"
        # sue's wall hears of it: her buttons follow
        other = sue.locator(f".alert[data-alert='{alert_id}']")
        other.locator(".state", has_text="taken over by sam").wait_for(timeout=10_000)
        assert other.locator("button.take_over").is_disabled()
        # the request of someone who was too slow: a conflict, inline
        sue.evaluate(f"() => WallAlerts.act({alert_id}, 'acknowledge')")
        other.locator(".msg.error", has_text="Already done").wait_for(timeout=10_000)
        shot(sue, "take-over-conflict")

        # the phone system does not answer in time: said inline; the server stays responsive
        slow_item = sam.locator(f".alert[data-alert='{slow_id}']")
        slow_item.locator("button.take_over").click()
        slow_item.locator("form.takeover select").select_option("barge")
        slow_item.locator("form.takeover button.go").click()
        t0 = time.monotonic()
        health = httpx.get(server.url + "/healthz", timeout=5)
        assert time.monotonic() - t0 < 0.8 and health.status_code in (200, 503)
        slow_item.locator(".msg.error", has_text="Phone system hook failed").wait_for(timeout=10_000)
        assert "no answer within 1 s" in slow_item.locator(".msg").inner_text()
        assert "taken over by sam" in slow_item.locator(".state").inner_text()
        shot(sam, "take-over-hook")
        for page in (sam, sue):
            assert page.errors == [] and page.dialogs == [], (page.errors, page.dialogs)
    finally:
        receiver.close()


def test_wall_knows_when_it_is_dead(make_server: Any, browser: Any) -> None:
    """The server stops: a banner and stale tiles; it comes back: the wall reconnects by itself
    (backoff) and is live again; it comes back with a fresh database (the session is invalid):
    the wall goes to the login page instead of retrying forever."""
    server = make_server()
    add_user(server.services.db, "sam", "supervisor", team="east")
    sam = sign_in(browser, server.url, "sam", "/supervisor")
    sam.wait_for_selector("body[data-live='1']", timeout=10_000)
    Floor(server).start("east-1", "E-1", team="east")
    sam.wait_for_selector(tile("east-1"), timeout=10_000)
    port = server.port
    server.stop()
    sam.wait_for_selector("#conn-banner:visible", timeout=15_000)
    assert "not live" in sam.locator("#conn-banner").inner_text()
    assert sam.locator(f"{tile('east-1')} .stale-mark").is_visible()
    assert sam.evaluate("() => document.body.classList.contains('stale')")
    shot(sam, "dead-wall")
    again = make_server(port=port)  # the same database: the session still stands
    sam.wait_for_selector("body[data-live='1']", timeout=40_000)
    assert sam.locator("#conn-banner").is_hidden()
    assert not sam.evaluate("() => document.body.classList.contains('stale')")
    again.stop()
    sam.wait_for_selector("#conn-banner:visible", timeout=15_000)
    make_server(name="fresh", port=port)  # a new database: the session is unknown
    sam.wait_for_url(re.compile(r".*/login\?next=%2Fsupervisor"), timeout=40_000)
    assert sam.dialogs == []

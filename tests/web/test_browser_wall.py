"""Browser tests of the supervisor's wall (Debian Chromium through Playwright), on SQLite and
PostgreSQL: which calls reach a supervisor's wall (team assignment by the admin page, the CLI and
the admin API) and how a floor of fifty shows (risk order, counts, filters, pop-ups, escalation,
the compact list). The take-over and a wall whose server goes away: ``test_browser_wall_server.py``.

Real calls are sent as real audio (an excerpt of the real phone call of the shared data) through
``/ws/ingest`` at real time, recognised by the real Vosk model, and hung up once the checks made
during the call are done. The other calls of a floor are calls whose
rows are stored through the repository and whose events a **test fixture publishes on the live
bus** (:class:`tests.web.wall_support.Floor`): 50 real concurrent calls do not run on the test
machine's two cores. Screenshots go to ``artifacts/screens/wall/`` (git-ignored)."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent_monitor.ingest.call_audio import CallAudio, load_call_audio
from agent_monitor.model.audio import Leg
from agent_monitor.model.health import HealthIssue
from agent_monitor.model.levels import WarningLevel
from tests.web.ui_support import live_call
from tests.web.wall_browser_support import SHOTS, shot, tile, wall_screen_page
from tests.web.wall_support import PASSWORD, Floor, Server, add_user

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def real_excerpt(eval_data: Path) -> CallAudio:
    return load_call_audio(eval_data / "calls" / "spokenwoz" / "MUL1011.opus", 8000).excerpt(0.0, 10.0)


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
    admin = wall_screen_page(browser, server.url, "admin1", "/admin")
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

    sam = wall_screen_page(browser, server.url, "sam", "/supervisor")
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
    sam = wall_screen_page(browser, server.url, "sam", "/supervisor", 1920, 1080)
    sam.wait_for_selector("body[data-live='1']", timeout=10_000)
    assert sam.locator("#sound-note").is_visible()  # nothing clicked on the wall yet: no sound
    admin = wall_screen_page(browser, server.url, "admin1", "/supervisor", 1920, 1080)
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

"""The supervisor's wall in Debian Chromium (Playwright) when its connection comes back, for a
keyboard user, and in a narrow or zoomed window; on SQLite and PostgreSQL.

The call of the reconnection test is a real call sent as real audio (an excerpt of the real phone
call of the shared data, at real time, hung up once the test's checks are done) through
``/ws/ingest``; its alerts are stored through the repository and their events published on the
server's live bus by the test (:class:`tests.web.wall_support.Floor`).
The keyboard and layout tests use only such published calls. Every page's JavaScript errors and
console errors fail the test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent_monitor.ingest.call_audio import CallAudio, load_call_audio
from agent_monitor.model.levels import WarningLevel
from agent_monitor.settings import Settings
from tests.web.ui_support import live_call
from tests.web.wall_support import (
    Floor,
    FloorCall,
    Server,
    add_user,
    backends,
    database,
    live_wall_page,
    wall_settings,
)

HEARTBEAT_S = 1.0  # the page counts as dead after 2.5 s without a frame


@pytest.fixture(params=backends())
def server(request: pytest.FixtureRequest, tmp_path: Path, base_settings: Settings) -> Iterator[Server]:
    with database(request.param, tmp_path / "data") as url:
        settings = wall_settings(base_settings, tmp_path / "data", url, ended_grace_s=30.0)
        web = settings.web.model_copy(update={"live_heartbeat_s": HEARTBEAT_S})
        live = settings.live.model_copy(update={"escalate_after_s": 4.0})
        srv = Server(settings.model_copy(update={"web": web, "live": live})).start()
        try:
            yield srv
        finally:
            srv.stop()


@pytest.fixture(scope="module")
def real_excerpt(eval_data: Path) -> CallAudio:
    return load_call_audio(eval_data / "calls" / "spokenwoz" / "MUL1011.opus", 8000).excerpt(0.0, 40.0)


def alert(call_id: str, alert_id: int) -> str:
    return f".alert[data-alert='{alert_id}'][data-call='{call_id}']"


def test_a_wall_back_online_drops_alerts_and_handoffs_closed_while_it_was_away(
    server: Server, browser: Any, real_excerpt: CallAudio
) -> None:
    """sam's wall goes offline; meanwhile sue resolves an alert and acknowledges a hand-off. When
    sam's wall is live again (reloaded from /api/wall), the resolved alert has left its feed (no
    Acknowledge button for a closed alert) and the acknowledged hand-off's pop-up has left its dock;
    the open alert stays, once. A pop-up sam dismissed does not come back with the reload (it is
    dismissed once escalated: an escalation after the dismissal would rightly bring it back)."""
    db = server.services.db
    add_user(db, "sam", "supervisor", team="east")
    add_user(db, "sue", "supervisor", team="east")
    add_user(db, "alice", "agent", agent_id="A-9", team="east")
    sam = live_wall_page(browser, server.url, "sam")
    sue = live_wall_page(browser, server.url, "sue")
    start = {"call_id": "east-r1", "agent_id": "A-9"}
    # the call lasts until the checks are done (at most the excerpt's 40 s)
    with live_call(server.url, server.app, real_excerpt, start) as results:
        for page in (sam, sue):
            page.wait_for_selector(".tile[data-call='east-r1']", timeout=20_000)
        floor = Floor(server)
        call = FloorCall("east-r1", "A-9", "east", WarningLevel.NONE)
        orange = floor.alert(call, WarningLevel.ORANGE, "raised voice")
        red = floor.alert(call, WarningLevel.RED, "threat of arrest")
        red2 = floor.alert(call, WarningLevel.RED, "threat of arrest again")
        for page in (sam, sue):
            for a in (orange, red, red2):
                page.wait_for_selector(alert("east-r1", a), timeout=10_000)
            page.wait_for_selector(f"#handoff-{red2}", timeout=10_000)
        # escalated after 4 s; dismissed before that, the escalation would bring it back (a race)
        sam.wait_for_selector(f"#handoff-{red2}.escalated", timeout=15_000)
        sam.locator(f"#handoff-{red2} button.dismiss").click()
        assert sam.locator(f"#handoff-{red2}").count() == 0

        sam.context.set_offline(True)
        sam.wait_for_selector("body[data-live='0']", timeout=10_000)
        sue.locator(f"{alert('east-r1', orange)} button.resolve").click()
        sue.wait_for_selector(f"{alert('east-r1', orange)}[data-state='resolved']", timeout=10_000)
        sue.locator(f"#handoff-{red} button.acknowledge").click()
        sue.wait_for_selector(f"#handoff-{red}", state="detached", timeout=10_000)
        sam.context.set_offline(False)
        sam.wait_for_selector("body[data-live='1']", timeout=20_000)
        # reloaded from /api/wall: the alert sue resolved meanwhile is no longer open
        sam.wait_for_selector(alert("east-r1", orange), state="detached", timeout=10_000)
        assert sam.locator(f"#handoff-{red}").count() == 0, "a hand-off sue took still pops up"
        assert sam.locator(f"#handoff-{red2}").count() == 0, "a dismissed pop-up came back"
        assert sam.locator(alert("east-r1", red)).count() == 1
        assert sam.locator(alert("east-r1", red2)).count() == 1
        assert sam.locator(f"{alert('east-r1', red2)} button.acknowledge").is_enabled()
        assert sam.locator(".tile[data-call='east-r1']").count() == 1
    assert results and getattr(results[0], "completed", False), results
    for page in (sam, sue):  # the walls take the end of the call (no page error on it either)
        page.wait_for_selector(".tile[data-call='east-r1'].ended", timeout=20_000)
    assert sam.problems == [] and sue.problems == [], (sam.problems, sue.problems)


def test_keyboard_focus_stays_where_it_was_when_an_alert_changes(server: Server, browser: Any) -> None:
    """A keyboard user typing a take-over note keeps the focus (and every key typed) when the
    alert is escalated meanwhile, keeps it on a button of an alert another supervisor acts on, and
    on a link of a tile that triage moves up."""
    db = server.services.db
    add_user(db, "sam", "supervisor", team="east")
    add_user(db, "sue", "supervisor", team="east")
    sam = live_wall_page(browser, server.url, "sam")
    sue = live_wall_page(browser, server.url, "sue")
    floor = Floor(server)
    k1 = floor.start("kb-1", "A-1", team="east")
    k2 = floor.start("kb-2", "A-2", team="east")
    red = floor.alert(k1, WarningLevel.RED, "threat of arrest")
    sam.wait_for_selector(f"#handoff-{red}", timeout=10_000)
    sam.focus(f"#handoff-{red} button.take_over")
    sam.keyboard.press("Enter")
    form = f"{alert('kb-1', red)} form.takeover"
    sam.wait_for_function(f'() => document.activeElement === document.querySelector("{form} select")')
    sam.keyboard.press("Tab")
    sam.keyboard.type("calming the deb")
    # escalated after 4 s: the alert is drawn again while the note is being typed
    sam.wait_for_selector(f"{alert('kb-1', red)}.escalated", timeout=15_000)
    sam.keyboard.type("tor")
    assert sam.locator(f"{form} input[name=note]").input_value() == "calming the debtor"
    assert sam.evaluate("document.activeElement.name") == "note"

    orange = floor.alert(k2, WarningLevel.ORANGE, "raised voice")
    sam.wait_for_selector(alert("kb-2", orange), timeout=10_000)
    sue.wait_for_selector(alert("kb-2", orange), timeout=10_000)
    sam.focus(f"{alert('kb-2', orange)} button.resolve")
    sue.locator(f"{alert('kb-2', orange)} button.acknowledge").click()
    sam.wait_for_selector(f"{alert('kb-2', orange)}[data-state='acknowledged']", timeout=10_000)
    focused = f"document.activeElement.matches(\".alert[data-alert='{orange}'] button.resolve\")"
    assert sam.evaluate(focused), sam.evaluate("document.activeElement.outerHTML")

    # a tile moved up by triage (its call got an alert) keeps the focus of its review link
    k3 = floor.start("kb-3", "A-3", team="east")
    sam.wait_for_selector(".tile[data-call='kb-3']", timeout=10_000)
    sam.focus(".tile[data-call='kb-3'] a.review")
    floor.alert(k3, WarningLevel.ORANGE, "raised voice again")
    sam.wait_for_function(
        "() => [...document.querySelectorAll('#tiles .tile')].map((n) => n.dataset.call).join()"
        " === 'kb-1,kb-3,kb-2'",
        timeout=10_000,
    )
    assert sam.evaluate("document.activeElement.matches(\".tile[data-call='kb-3'] a.review\")")
    assert sam.problems == [] and sue.problems == [], (sam.problems, sue.problems)


@pytest.mark.parametrize("width", [700, 360])
def test_the_wall_does_not_scroll_sideways_in_a_narrow_or_zoomed_window(
    server: Server, browser: Any, width: int
) -> None:
    """700 px is a 1400 px window at 200 % zoom: tiles, the compact list and the alert feed (below
    the calls there) fit the width; nothing is cut off or scrolled sideways."""
    db = server.services.db
    add_user(db, "sam", "supervisor", team="east")
    sam = live_wall_page(browser, server.url, "sam", width=width, height=900)
    floor = Floor(server)
    calls = [floor.start(f"narrow-{i}", f"A-{i}", team="east") for i in range(3)]
    floor.alert(calls[0], WarningLevel.RED, "threat of arrest")
    floor.alert(calls[1], WarningLevel.ORANGE, "raised voice")
    sam.wait_for_selector(".tile[data-call='narrow-2']", timeout=10_000)
    sam.wait_for_selector(".alert[data-call='narrow-1']", timeout=10_000)
    for view in ("grid", "list"):
        if view == "list":
            sam.locator("#view-toggle").click()
            sam.wait_for_selector("body[data-view='list']")
        assert sam.evaluate("document.documentElement.scrollWidth") <= width, view
        feed = sam.locator("#alert-feed").bounding_box()
        assert feed is not None and feed["x"] + feed["width"] <= width, (view, feed)
    assert sam.problems == [], sam.problems

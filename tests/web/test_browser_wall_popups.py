"""The supervisor's wall in Debian Chromium (Playwright): a dismissed hand-off pop-up comes back once
when its hand-off escalates after the dismissal (never with a reconnection alone), and a resolved
alert says who resolved it for ``wall.resolved_grace_s``, then leaves the feed; a dismissal outlives
a reload of the page (kept in the tab) but not its call (nor someone acknowledging its hand-off), and
an unreadable store of dismissals is dropped or written again sane; on SQLite and PostgreSQL.

The calls are live sessions of the server's call manager that get no audio (the wall's reload lists
them: :meth:`Floor.start_live`); their alerts are stored through the repository and their events
published on the server's live bus (:class:`tests.web.wall_support.Floor`). The escalation timer of the
server is set far out (it never fires during a test); a test escalates a hand-off when it chooses,
through an :class:`~agent_monitor.pipeline.escalation.Escalator` that does not wait
(:meth:`Floor.escalate`), so nothing races a timer. Every page's JavaScript errors and console
errors fail the test. Every beep of a tab is counted, those during a reload too (:func:`beeps`)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agent_monitor.model.events import HandoffEscalated
from agent_monitor.model.levels import WarningLevel
from agent_monitor.settings import Settings
from tests.web.wall_support import (
    Floor,
    Server,
    add_user,
    backends,
    beeps,
    database,
    live_wall_page,
    wall_settings,
)

HEARTBEAT_S = 1.0  # the page counts as dead after 2.5 s without a frame
RESOLVED_GRACE_S = 2.0
#: no hand-off escalates by its timer during a test (the tests escalate them: Floor.escalate)
ESCALATE_AFTER_S = 600.0
#: where sam's tab keeps his dismissals (wall_popups.js)
SAM_STORE = "am_wall_dismissed:sam"


@pytest.fixture(params=backends())
def server(request: pytest.FixtureRequest, tmp_path: Path, base_settings: Settings) -> Iterator[Server]:
    with database(request.param, tmp_path / "data") as url:
        settings = wall_settings(
            base_settings, tmp_path / "data", url, ended_grace_s=30.0, resolved_grace_s=RESOLVED_GRACE_S
        )
        web = settings.web.model_copy(update={"live_heartbeat_s": HEARTBEAT_S})
        live = settings.live.model_copy(update={"escalate_after_s": ESCALATE_AFTER_S})
        srv = Server(settings.model_copy(update={"web": web, "live": live})).start()
        try:
            yield srv
        finally:
            srv.stop()


def alert(call_id: str, alert_id: int) -> str:
    return f".alert[data-alert='{alert_id}'][data-call='{call_id}']"


def reconnect(page: Any, call_id: str, while_away: Callable[[], int]) -> None:
    """The page's connection drops; ``while_away`` raises an alert of ``call_id`` meanwhile (the
    page does not hear of it); the page reconnects and is reloaded from /api/wall, which is done
    when that alert is in its feed."""
    page.context.set_offline(True)
    page.wait_for_selector("body[data-live='0']", timeout=10_000)
    marker = while_away()
    page.context.set_offline(False)
    page.wait_for_selector("body[data-live='1']", timeout=20_000)
    page.wait_for_selector(alert(call_id, marker), timeout=10_000)


def test_a_dismissed_popup_comes_back_once_when_its_handoff_escalates(server: Server, browser: Any) -> None:
    """sam dismisses a hand-off's pop-up before it escalated. A reconnection (the wall reloaded from
    /api/wall, every tile and hand-off drawn again) does not bring it back: nothing escalated. Then
    the hand-off escalates: the pop-up comes back, escalated, with one beep. Dismissed again, it
    stays dismissed: through the same escalation heard again and through another reconnection."""
    add_user(server.services.db, "sam", "supervisor", team="east")
    sam = live_wall_page(browser, server.url, "sam")
    floor = Floor(server)
    call = floor.start_live("pop-1", "A-1", team="east")
    other = floor.start_live("pop-2", "A-2", team="east")
    red = floor.alert(call, WarningLevel.RED, "threat of arrest")
    popup = f"#handoff-{red}"
    sam.wait_for_selector(popup, timeout=10_000)
    assert beeps(sam) == 1
    sam.locator(f"{popup} button.dismiss").click()
    assert sam.locator(popup).count() == 0

    reconnect(sam, "pop-2", lambda: floor.alert(other, WarningLevel.YELLOW, "raised voice"))
    assert sam.locator(popup).count() == 0, "a dismissed pop-up came back with the reconnection"
    assert beeps(sam) == 1

    floor.escalate(call, red)
    sam.wait_for_selector(f"{popup}.escalated", timeout=10_000)
    assert sam.locator(f"{popup} .esc-text").is_visible()
    assert sam.locator(f"{alert('pop-1', red)}.escalated").count() == 1
    assert beeps(sam) == 2
    sam.locator(f"{popup} button.dismiss").click()
    assert sam.locator(popup).count() == 0

    # the escalation heard again (a replayed event), then a marker after it on the same socket
    server.publish(HandoffEscalated(call_id="pop-1", t=9.0, alert_id=red, agent_id="A-1", waited_s=0.0))
    marker = floor.alert(other, WarningLevel.ORANGE, "raised voice again")
    sam.wait_for_selector(alert("pop-2", marker), timeout=10_000)
    reconnect(sam, "pop-2", lambda: floor.alert(other, WarningLevel.RED, "threat of arrest"))
    assert sam.locator(popup).count() == 0, "a pop-up came back twice for one escalation"
    assert sam.locator(alert("pop-1", red)).count() == 1  # its alert stays in the feed
    # pop-2's new hand-off (raised while away) is a pop-up of its own, with its beep
    assert sam.locator(".popup[data-call='pop-2']").count() == 1
    assert beeps(sam) == 3
    assert sam.problems == [], sam.problems


def test_a_resolved_alert_says_who_resolved_it_then_leaves_after_the_grace(
    server: Server, browser: Any
) -> None:
    """sue resolves an alert: on her wall and on sam's it reads "resolved by sue" for
    ``wall.resolved_grace_s`` (sent with /api/wall), then leaves the feed; the call's other alert and
    its pop-up stay."""
    db = server.services.db
    add_user(db, "sam", "supervisor", team="east")
    add_user(db, "sue", "supervisor", team="east")
    sam = live_wall_page(browser, server.url, "sam")
    sue = live_wall_page(browser, server.url, "sue")
    assert sam.context.request.get(server.url + "/api/wall").json()["resolved_grace_s"] == RESOLVED_GRACE_S
    floor = Floor(server)
    call = floor.start("res-1", "A-1", team="east")
    orange = floor.alert(call, WarningLevel.ORANGE, "raised voice")
    red = floor.alert(call, WarningLevel.RED, "threat of arrest")
    for page in (sam, sue):
        page.wait_for_selector(alert("res-1", orange), timeout=10_000)
        page.wait_for_selector(f"#handoff-{red}", timeout=10_000)

    sue.locator(f"{alert('res-1', orange)} button.resolve").click()
    clicked = time.monotonic()
    for page in (sue, sam):
        page.wait_for_selector(f"{alert('res-1', orange)}[data-state='resolved']", timeout=10_000)
        assert page.locator(f"{alert('res-1', orange)} .state").inner_text() == "resolved by sue"
    for page in (sue, sam):
        page.wait_for_selector(alert("res-1", orange), state="detached", timeout=10_000)
    assert time.monotonic() - clicked >= RESOLVED_GRACE_S - 0.3
    for page in (sam, sue):
        assert page.locator(alert("res-1", red)).count() == 1
        assert page.locator(f"#handoff-{red}").count() == 1
        assert page.problems == [], page.problems


def test_a_dismissal_outlives_a_reload_of_the_page(server: Server, browser: Any) -> None:
    """Dismissals are kept in the tab: after F5 the dismissed pop-up stays away (the hand-off is
    listed by /api/wall again), its escalation still brings it back once, and dismissed again
    (escalated) it stays away through another reload. Another supervisor's tab is not affected."""
    db = server.services.db
    add_user(db, "sam", "supervisor", team="east")
    add_user(db, "sue", "supervisor", team="east")
    sam = live_wall_page(browser, server.url, "sam")
    floor = Floor(server)
    call = floor.start_live("f5-1", "A-1", team="east")
    red = floor.alert(call, WarningLevel.RED, "threat of arrest")
    popup = f"#handoff-{red}"
    sam.wait_for_selector(popup, timeout=10_000)
    assert beeps(sam) == 1
    sam.locator(f"{popup} button.dismiss").click()

    def reload_wall() -> None:
        """F5; done when the reload from /api/wall drew the call's alert (its hand-offs with it)."""
        sam.reload()
        sam.wait_for_selector("body[data-live='1']", timeout=20_000)
        sam.wait_for_selector(alert("f5-1", red), timeout=10_000)

    # every beep of the tab is counted, those while it reloads too (not only those after it)
    reload_wall()
    assert beeps(sam) == 1, "a dismissed pop-up beeped again with a reload"
    assert sam.locator(popup).count() == 0, "a dismissed pop-up came back with a reload"
    floor.escalate(call, red)
    sam.wait_for_selector(f"{popup}.escalated", timeout=10_000)
    assert beeps(sam) == 2
    sam.locator(f"{popup} button.dismiss").click()
    reload_wall()
    assert beeps(sam) == 2, "a pop-up dismissed when escalated beeped again with a reload"
    assert sam.locator(popup).count() == 0, "a pop-up dismissed when escalated came back with a reload"
    sue = live_wall_page(browser, server.url, "sue")
    sue.wait_for_selector(f"{popup}.escalated", timeout=10_000)  # sam's dismissal is sam's
    assert sam.problems == [] and sue.problems == [], (sam.problems, sue.problems)


def stored(page: Any) -> Any:
    """sam's dismissals as his tab keeps them (parsed), ``None`` if none are kept."""
    raw = page.evaluate(f"sessionStorage.getItem('{SAM_STORE}')")
    return None if raw is None else json.loads(raw)


def stored_ids(page: Any) -> list[int]:
    return sorted(entry[0] for entry in stored(page) or [])


def test_dismissals_of_calls_ended_while_the_tab_was_away_are_forgotten(server: Server, browser: Any) -> None:
    """sam dismisses three hand-offs: one of gone-1, two of stay-1. One of stay-1 is acknowledged:
    its dismissal goes at once. sam's tab goes to another page; gone-1 ends meanwhile (the tab
    does not hear of it). Back on the wall, a failed load of the live calls forgets nothing; the next
    (whole) load forgets gone-1's dismissal and keeps stay-1's, whose pop-up stays away."""
    add_user(server.services.db, "sam", "supervisor", team="east")
    sam = live_wall_page(browser, server.url, "sam")
    floor = Floor(server)
    gone = floor.start_live("gone-1", "A-1", team="east")
    stay = floor.start_live("stay-1", "A-2", team="east")
    red_gone = floor.alert(gone, WarningLevel.RED, "threat of arrest")
    red_stay = floor.alert(stay, WarningLevel.RED, "threat of arrest")
    red_acked = floor.alert(stay, WarningLevel.RED, "threat of arrest again")
    for red in (red_gone, red_stay, red_acked):
        sam.wait_for_selector(f"#handoff-{red}", timeout=10_000)
        sam.locator(f"#handoff-{red} button.dismiss").click()
    assert stored_ids(sam) == sorted([red_gone, red_stay, red_acked])
    server.run(server.services.manager.acknowledge_alert(red_acked, "sam"))
    sam.wait_for_selector(f"{alert('stay-1', red_acked)}[data-state='acknowledged']", timeout=10_000)
    assert stored_ids(sam) == sorted([red_gone, red_stay]), "an acknowledged hand-off's dismissal stayed"

    sam.goto(server.url + "/supervisor/calls")
    floor.end_live(gone)
    down = {"status": 503, "content_type": "application/json", "body": '{"detail": "wall down"}'}
    sam.route("**/api/wall", lambda route: route.fulfill(**down))
    sam.goto(server.url + "/supervisor")
    sam.wait_for_selector("p.error:has-text('wall down')", timeout=20_000)
    assert stored_ids(sam) == sorted([red_gone, red_stay]), "a failed load forgot dismissals"
    sam.unroute("**/api/wall")
    sam.reload()
    sam.wait_for_selector("body[data-live='1']", timeout=20_000)
    sam.wait_for_selector(alert("stay-1", red_stay), timeout=10_000)
    assert stored_ids(sam) == [red_stay], "the dismissal of an ended call stayed (or a live one's went)"
    assert sam.locator(".popup").count() == 0
    assert beeps(sam) == 3
    problems = [p for p in sam.problems if "status of 503" not in p]
    assert problems == [], problems


#: stores of dismissals that cannot be read: dropped whole
UNREADABLE = ["not json{", "42", "null", '"a text"', '{"1": {"call_id": "bad-1"}}']


def test_unreadable_dismissals_are_dropped_or_written_again_sane(server: Server, browser: Any) -> None:
    """Whatever sam's tab holds under its dismissals, the wall loads, without a JavaScript error: a
    store that is not a list is dropped (the live hand-off pops up, with its beep); a list's
    unreadable entries are dropped and the list written again with the readable ones only (a
    readable dismissal among them keeps its pop-up away)."""
    add_user(server.services.db, "sam", "supervisor", team="east")
    sam = live_wall_page(browser, server.url, "sam")
    floor = Floor(server)
    call = floor.start_live("bad-1", "A-1", team="east")
    red = floor.alert(call, WarningLevel.RED, "threat of arrest")
    popup = f"#handoff-{red}"
    sam.wait_for_selector(popup, timeout=10_000)

    def reload_with(raw: str) -> None:
        sam.evaluate("([key, raw]) => sessionStorage.setItem(key, raw)", [SAM_STORE, raw])
        sam.reload()
        sam.wait_for_selector("body[data-live='1']", timeout=20_000)
        sam.wait_for_selector(alert("bad-1", red), timeout=10_000)

    for raw in UNREADABLE:
        reload_with(raw)
        sam.wait_for_selector(popup, timeout=10_000)
        assert stored(sam) is None, raw
    assert beeps(sam) == 1 + len(UNREADABLE)

    reload_with(json.dumps([[1, {}], 2, None, [], ["3", {"call_id": "bad-1"}], [4.5, {"call_id": "bad-1"}]]))
    sam.wait_for_selector(popup, timeout=10_000)
    assert stored(sam) == []
    garbage = [5, None, "x", [], [red], [6, "bad-1"], [7, {"agent_id": "A-1"}], [8, {"call_id": 8}]]
    readable = [red, {"call_id": "bad-1", "agent_id": "A-1", "escalated": "no", "note": "x" * 100}]
    reload_with(json.dumps([*garbage, readable]))
    assert sam.locator(popup).count() == 0, "a readable dismissal among unreadable ones was lost"
    kept = {"alert_id": red, "call_id": "bad-1", "agent_id": "A-1", "escalated": False}
    assert stored(sam) == [[red, kept]]
    assert beeps(sam) == 2 + len(UNREADABLE)
    floor.escalate(call, red)  # the dismissal read back works as any: an escalation brings it back
    sam.wait_for_selector(f"{popup}.escalated", timeout=10_000)
    assert beeps(sam) == 3 + len(UNREADABLE)
    assert sam.problems == [], sam.problems

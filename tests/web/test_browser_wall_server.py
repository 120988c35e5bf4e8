"""Browser tests of the supervisor's wall (Debian Chromium through Playwright) against the servers
behind it, on SQLite and PostgreSQL: a take-over from a hand-off pop-up that calls the phone
system's hook (a local receiver stands in for the phone system) or is refused inline when the call
ended meanwhile, and the wall's own server stopping and coming back (a banner, stale tiles,
reconnection, or the login page when the session is gone), and the wall's list reaching the page
after newer events (it must not roll them back).
The wall's tiles and a floor of fifty: ``test_browser_wall.py``.

The calls are calls whose rows are stored through the repository and whose events a **test fixture
publishes on the live bus** (:class:`tests.web.wall_support.Floor`). Screenshots go to
``artifacts/screens/wall/`` (git-ignored)."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from typing import Any

import httpx

from agent_monitor.model.audio import Leg
from agent_monitor.model.events import AlertStateChanged, SignalHealth
from agent_monitor.model.health import HealthIssue, LegHealth
from agent_monitor.model.levels import WarningLevel
from agent_monitor.storage import repo
from tests.web.browser_support import submit_sign_in, watch_problems, watched_page
from tests.web.hook_receiver import Receiver
from tests.web.wall_browser_support import shot, tile, wall_screen_page
from tests.web.wall_support import Floor, add_user


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
        sam = wall_screen_page(browser, server.url, "sam", "/supervisor")
        sue = wall_screen_page(browser, server.url, "sue", "/supervisor")
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


def test_a_take_over_racing_the_call_s_end_is_refused_inline(make_server: Any, browser: Any) -> None:
    """The call ends while the take-over form is open and before the page hears of it: the
    submitted take-over is refused inline with the server's reason (no alert box), the alert is not
    taken over and the phone system is not asked."""
    receiver = Receiver()
    try:
        server = make_server(phone_hook={"url": receiver.url, "timeout_s": 1.0})
        add_user(server.services.db, "sam", "supervisor", team="east")
        sam = wall_screen_page(browser, server.url, "sam", "/supervisor")
        sam.wait_for_selector("body[data-live='1']", timeout=10_000)
        floor = Floor(server)
        gone = floor.start("gone-1", "E-1", team="east")
        alert_id = floor.alert(gone, WarningLevel.RED, "threat of violence")
        item = sam.locator(f".alert[data-alert='{alert_id}']")
        item.locator("button.take_over").click()
        item.locator("form.takeover select").select_option("barge")
        with server.services.db.session() as s:
            repo.end_call(s, "gone-1")  # stored ended; the page is not told yet
        item.locator("form.takeover button.go").click()
        item.locator(".msg.error", has_text="has ended").wait_for(timeout=10_000)
        said = "Already done: call 'gone-1' has ended: there is nothing to take over"
        assert item.locator(".msg").inner_text() == said
        assert "taken over" not in item.locator(".state").inner_text()
        assert receiver.bodies == [] and sam.errors == [] and sam.dialogs == [], (sam.errors, sam.dialogs)
        shot(sam, "take-over-ended")
    finally:
        receiver.close()


def test_wall_knows_when_it_is_dead(make_server: Any, browser: Any) -> None:
    """The server stops: a banner and stale tiles; it comes back: the wall reconnects by itself
    (backoff) and is live again; it comes back with a fresh database (the session is invalid):
    the wall goes to the login page instead of retrying forever."""
    server = make_server()
    add_user(server.services.db, "sam", "supervisor", team="east")
    sam = wall_screen_page(browser, server.url, "sam", "/supervisor")
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


def test_a_wall_list_older_than_the_events_that_came_first_undoes_nothing(
    make_server: Any, browser: Any
) -> None:
    """The wall's list (``/api/wall``, fetched on every connection) is read before an alert is
    escalated and acknowledged but reaches the page after those events did: the feed still shows
    the escalation and the acknowledgement, no pop-up comes back for the hand-off acknowledged
    meanwhile, and a leg heard again meanwhile is not shown silent again (a list read late must
    not roll them back). Playwright
    holds the list's answer until the events are drawn."""
    server = make_server()
    db = server.services.db
    add_user(db, "sam", "supervisor", team="east")
    add_user(db, "sue", "supervisor", team="east")
    floor = Floor(server)
    call = floor.start_live("late-1", "L-1", team="east")
    red = floor.alert(call, WarningLevel.RED, "threat of arrest")
    orange = floor.alert(call, WarningLevel.ORANGE, "raised voice")
    taken = floor.alert(call, WarningLevel.RED, "threat of arrest, again")
    quiet = floor.start_live("late-2", "L-2", team="east")  # this page learns of it from the list only
    silent = LegHealth(Leg.DEBTOR, HealthIssue.SILENT, True, "no speech for 30 s", {"silent_s": 30.0})
    with db.session() as s:
        repo.save_signal_health(s, call.call_id, 30.0, silent)
    held: list[tuple[Any, Any]] = []  # (route, the list as it was read then)
    sam = watch_problems(watched_page(browser))
    sam.route(re.compile(r".*/api/wall$"), lambda route: held.append((route, route.fetch())))
    sam.goto(server.url + "/supervisor")
    submit_sign_in(sam, "sam", then=server.url + "/supervisor")
    deadline = time.monotonic() + 15.0
    while not held and time.monotonic() < deadline:
        sam.wait_for_timeout(50)
    assert held, "the wall never asked for its list"

    floor.escalate(call, red)
    for alert_id in (orange, taken):
        with db.session() as s:
            repo.acknowledge_alert(s, alert_id, "sue")
        server.publish(
            AlertStateChanged(call_id=call.call_id, t=6.0, alert_id=alert_id, state="acknowledged", by="sue")
        )
    heard = replace(silent, active=False, message="speech again", figures={})
    with db.session() as s:
        repo.save_signal_health(s, call.call_id, 40.0, heard)
    server.publish(SignalHealth(call_id=call.call_id, t=40.0, health=heard))
    debtor_ok = f"{tile(call.call_id)} .legh[data-leg='debtor'][data-ok='1']"
    escalated = f".alert[data-alert='{red}'].escalated"
    acknowledged = f".alert[data-alert='{orange}'][data-state='acknowledged']"
    sam.wait_for_selector(escalated, timeout=10_000)
    sam.wait_for_selector(acknowledged, timeout=10_000)
    sam.wait_for_selector(debtor_ok, timeout=10_000)
    sam.wait_for_selector(f".alert[data-alert='{taken}'][data-state='acknowledged']", timeout=10_000)
    assert sam.locator(f"#handoff-{red}.escalated").count() == 1
    assert sam.locator(f"#handoff-{taken}").count() == 0

    route, stale = held[0]
    with sam.expect_response(re.compile(r".*/api/wall$")):
        route.fulfill(response=stale)
    sam.wait_for_selector(tile(quiet.call_id), timeout=10_000)  # the list is drawn
    assert sam.locator(escalated).count() == 1
    assert sam.locator(acknowledged).count() == 1
    assert sam.locator(f"#handoff-{red}.escalated").count() == 1
    assert sam.locator(f"#handoff-{taken}").count() == 0, "a hand-off someone had came back"
    assert sam.locator(debtor_ok).count() == 1, "a leg heard again is shown silent again"
    assert sam.problems == []
    floor.end_live(call)
    floor.end_live(quiet)
